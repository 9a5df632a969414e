"""Rules judged against the data: pending, firing and resolved; aggregates over snapshots and time
windows; tests-failed and no-data rules; one firing message per channel however often a rule is
evaluated; silences, reminders and digests."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from alerts.evaluation import evaluate_project, evaluate_rule, send_reminders
from alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    Message,
    MessageStatus,
    Silence,
    State,
)
from projects.models import Snapshot
from tests.alerts.conftest import metric_rule, push

pytestmark = pytest.mark.django_db


def _states(rule: AlertRule) -> list[tuple[str, str]]:
    return [(e.from_state, e.to_state) for e in rule.events.order_by("created_at", "id")]


def test_a_rule_goes_pending_then_fires_after_n_breaches_then_resolves(project, email_channel):
    rule = metric_rule(project, email_channel, pending_count=3, severity="critical")
    values = [0.9, 0.7, 0.72, 0.75, 0.74, 0.85]
    seen = []
    for day, value in enumerate(values):
        push(project, value, day)
        evaluate_project(project.pk)
        rule.refresh_from_db()
        seen.append(rule.state)
    assert seen == ["ok", "pending", "pending", "firing", "firing", "resolved"]
    assert _states(rule) == [("ok", "pending"), ("pending", "firing"), ("firing", "resolved")]
    (alert,) = Alert.objects.filter(rule=rule)
    assert alert.severity == "critical"
    assert alert.state == "resolved"
    assert alert.fired_at is not None
    assert alert.resolved_at is not None
    assert alert.value == pytest.approx(0.85)
    kinds = sorted(Message.objects.filter(alert=alert).values_list("kind", flat=True))
    assert kinds == ["firing", "resolved"]
    assert rule.last_value == pytest.approx(0.85)


def test_evaluating_again_or_out_of_order_changes_nothing_more(project, email_channel):
    rule = metric_rule(project, email_channel)
    for day in range(3):
        push(project, 0.5, day)
    for _ in range(5):
        evaluate_rule(rule.pk)
    evaluate_project(project.pk)
    assert Alert.objects.filter(rule=rule).count() == 1
    assert Message.objects.filter(alert__rule=rule, kind="firing").count() == 1
    assert _states(rule) == [("ok", "firing")]


def test_a_pending_alert_that_recovers_before_firing_sends_nothing(project, email_channel):
    rule = metric_rule(project, email_channel, pending_count=3)
    for day, value in enumerate([0.7, 0.7, 0.9]):
        push(project, value, day)
        evaluate_project(project.pk)
    rule.refresh_from_db()
    assert rule.state == "ok"
    assert _states(rule) == [("ok", "pending"), ("pending", "ok")]
    assert not Message.objects.exists()
    assert Alert.objects.get(rule=rule).fired_at is None


@pytest.mark.parametrize("aggregate", ["avg", "min", "max", "sum"])
def test_an_aggregate_over_the_last_n_snapshots(project, aggregate):
    values = [0.95, 0.9, 0.6, 0.65, 0.7]
    for day, value in enumerate(values):
        push(project, value, day)
    expected = getattr(np, {"avg": "mean"}.get(aggregate, aggregate))(values[-3:])
    rule = metric_rule(
        project,
        config={
            "aggregate": aggregate,
            "window": {"snapshots": 3},
            "condition": "gt",
            "threshold": -1,
        },
    )
    evaluate_rule(rule.pk)
    rule.refresh_from_db()
    assert rule.last_value == pytest.approx(expected)
    assert rule.state == "firing"


def test_an_aggregate_over_a_time_window(project):
    values = [0.95, 0.9, 0.6, 0.65, 0.7]  # daily snapshots
    for day, value in enumerate(values):
        push(project, value, day)
    # The last 50 hours hold the last 3 days (the window ends at the newest point).
    rule = metric_rule(
        project,
        config={
            "aggregate": "avg",
            "window": {"minutes": 50 * 60},
            "condition": "lt",
            "threshold": 0.7,
        },
    )
    evaluate_rule(rule.pk)
    rule.refresh_from_db()
    assert rule.last_value == pytest.approx(np.mean(values[-3:]))
    assert rule.state == "firing"


def test_a_metric_not_received_leaves_the_rule_as_it_is(project):
    push(project, 0.5, 0)
    rule = metric_rule(project, config={"metric": "Other()"})
    evaluate_rule(rule.pk)
    rule.refresh_from_db()
    assert rule.state == "ok"
    assert rule.last_evaluated_at is not None
    assert not AlertEvent.objects.exists()


@pytest.mark.parametrize(
    ("which", "outcomes", "expected"),
    [
        ("any", {"warn": 1}, "firing"),
        ("critical", {"warn": 1}, "ok"),
        ("critical", {"fail": 2}, "firing"),
        ("named", {"fail": 1, "names": ("TestImportant()",)}, "firing"),
        ("named", {"fail": 1, "names": ("TestOther()",)}, "ok"),
    ],
)
def test_tests_failed_rules(project, which, outcomes, expected):
    push(project, 0.9, 0, **outcomes)
    rule = AlertRule.objects.create(
        project=project,
        name="tests",
        kind="tests_failed",
        config={"tests": which, "names": ["TestImportant()"]},
    )
    evaluate_rule(rule.pk)
    rule.refresh_from_db()
    assert rule.state == expected


def test_no_data_fires_when_the_project_goes_quiet_and_resolves_on_a_snapshot(
    project, email_channel
):
    snapshot = push(project, 0.9, 0)
    rule = AlertRule.objects.create(
        project=project, name="quiet", kind="no_data", config={"minutes": 60}
    )
    rule.channels.add(email_channel)
    Snapshot.objects.filter(pk=snapshot.pk).update(created_at=timezone.now() - timedelta(hours=2))
    evaluate_project(project.pk, kinds=("no_data",))
    rule.refresh_from_db()
    assert rule.state == "firing"
    assert rule.last_value == pytest.approx(120, abs=1)
    push(project, 0.9, 1)  # arrives now
    evaluate_project(project.pk)
    rule.refresh_from_db()
    assert rule.state == "resolved"
    assert sorted(Message.objects.values_list("kind", flat=True)) == ["firing", "resolved"]


def test_a_silenced_rule_fires_quietly_and_is_told_when_the_silence_ends(project, email_channel):
    rule = metric_rule(project, email_channel)
    silence = Silence.objects.create(
        project=project, ends_at=timezone.now() + timedelta(hours=1), reason="deploy"
    )
    push(project, 0.5, 0)
    evaluate_project(project.pk)
    rule.refresh_from_db()
    assert rule.state == "firing"
    assert not Message.objects.exists()
    assert send_reminders() == 0  # still silenced
    silence.ends_at = timezone.now() - timedelta(seconds=1)
    silence.save()
    assert send_reminders() == 1
    assert send_reminders() == 0
    assert Message.objects.get().kind == "firing"


def test_a_maintenance_window_ahead_does_not_mute_now(project, email_channel):
    rule = metric_rule(project, email_channel)
    later = timezone.now() + timedelta(days=1)
    window = Silence.objects.create(
        project=project, rule=rule, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    assert window.is_maintenance
    push(project, 0.5, 0)
    evaluate_project(project.pk)
    assert Message.objects.filter(kind="firing").count() == 1


def test_reminders_follow_the_repeat_interval(project, email_channel):
    rule = metric_rule(project, email_channel, repeat_minutes=30)
    push(project, 0.5, 0)
    evaluate_project(project.pk)
    assert send_reminders() == 0  # just told
    alert = Alert.objects.get(rule=rule)
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now() - timedelta(minutes=31))
    assert send_reminders() == 1
    assert send_reminders() == 0
    assert sorted(Message.objects.values_list("key", flat=True)) == [
        f"{alert.pk}:firing",
        f"{alert.pk}:reminder:1",
    ]


def test_many_rules_firing_at_once_reach_a_channel_as_one_digest(project, acme, email_channel):
    slack = Channel.objects.create(
        organization=acme, kind="slack", name="s", config={"url": "http://127.0.0.1:9/x"}
    )
    rules = [
        metric_rule(project, email_channel, name=f"rule {i}", config={"threshold": 0.8 + i / 100})
        for i in range(4)
    ]
    rules[0].channels.add(slack)  # the Slack channel hears of one rule only
    push(project, 0.5, 0)
    changes = evaluate_project(project.pk)
    assert len(changes) == 4
    digest = Message.objects.get(channel=email_channel, kind="digest")
    assert sorted(digest.digest_of) == sorted(str(a.pk) for a in Alert.objects.all())
    folded = Message.objects.filter(channel=email_channel, kind="firing")
    assert folded.count() == 4
    assert set(folded.values_list("status", flat=True)) == {MessageStatus.SKIPPED}
    assert Message.objects.get(channel=slack).status == MessageStatus.PENDING


def test_disabled_rules_and_channels_are_left_out(project, email_channel):
    rule = metric_rule(project, email_channel, enabled=False)
    push(project, 0.5, 0)
    evaluate_project(project.pk)
    rule.refresh_from_db()
    assert rule.state == State.OK
    rule.enabled = True
    rule.save()
    email_channel.disable("gone")
    evaluate_project(project.pk)
    rule.refresh_from_db()
    assert rule.state == State.FIRING
    assert not Message.objects.exists()
