"""Alert messages: Acme's "Churn" project has a nightly snapshot whose "Mean of 'age'" test fails,
a critical metric rule on the mean age fires, and each kind of message is rendered from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from alerts.messages import render
from alerts.models import Alert, AlertRule, Channel, Message
from mlplatform.accounts.models import Organization
from projects.models import Project, Snapshot, TestOutcome
from tests.factories import make_project, make_snapshot

SITE = "http://testserver"  # SITE_URL of the test settings
FIRED = datetime(2025, 3, 5, 14, 2, tzinfo=UTC)
RESOLVED = datetime(2025, 3, 5, 16, 32, tzinfo=UTC)
AGE_RULE = {
    "metric": 'ColumnSummary(column="age")',
    "field": "current.mean",
    "condition": "gt",
    "threshold": 30,
    "aggregate": "last",
}


@pytest.fixture
def churn(acme: Organization) -> Project:
    return make_project(acme, "Churn")


@pytest.fixture
def snapshot(churn: Project) -> Snapshot:
    return make_snapshot(churn, name="nightly")


@pytest.fixture
def channel(acme: Organization) -> Channel:
    return Channel.objects.create(
        organization=acme, kind="email", name="On-call", config={"addresses": ["ops@acme.test"]}
    )


def make_rule(project: Project, name: str = "Mean age too high", **fields: Any) -> AlertRule:
    fields.setdefault("kind", "metric")
    fields.setdefault("config", AGE_RULE)
    fields.setdefault("severity", "critical")
    return AlertRule.objects.create(project=project, name=name, **fields)


def fire(rule: AlertRule, snapshot: Snapshot | None, value: float | None = 40.23456) -> Alert:
    return Alert.objects.create(
        rule=rule,
        project=rule.project,
        severity=rule.severity,
        state="firing",
        value=value,
        snapshot=snapshot,
        started_at=FIRED,
        fired_at=FIRED,
    )


def message(channel: Channel, kind: str, alert: Alert | None = None, **fields: Any) -> Message:
    key = f"{kind}:{alert.pk if alert else fields.get('digest_of', 'test')}"
    return Message.objects.create(channel=channel, key=key, kind=kind, alert=alert, **fields)


def page(name: str, *args: Any) -> str:
    return SITE + reverse(name, args=[str(a) for a in args])


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn text of a Slack payload's blocks (the ones Slack parses for links)."""
    texts = []
    for block in blocks:
        parts = [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        texts += [p["text"] for p in parts if p and p["type"] == "mrkdwn"]
    return texts


def test_it_names_project_rule_and_severity_in_the_subject(churn, snapshot, channel):
    out = render(message(channel, "firing", fire(make_rule(churn), snapshot)))

    assert out.subject == "[ML Monitor] FIRING (critical): Mean age too high — Churn"
    assert out.to == []


def test_it_says_value_threshold_condition_and_links_in_text_and_html(
    acme, churn, snapshot, channel
):
    out = render(message(channel, "firing", fire(make_rule(churn), snapshot)))

    dashboard = page("project_detail", acme.slug, churn.pk)
    snapshot_page = page("snapshot_detail", acme.slug, churn.pk, snapshot.uuid)
    for body in (out.text, out.html):
        assert "40.23" in body  # four significant digits
        assert "40.23456" not in body
        assert "&gt; 30" in body if body is out.html else "Threshold: > 30" in body
        assert "current.mean" in body
        assert dashboard in body
        assert snapshot_page in body
    assert 'ColumnSummary(column="age") current.mean > 30' in out.text
    assert "#dc2626" in out.html  # critical is red


def test_it_escapes_html_but_not_plain_text(churn, snapshot, channel):
    rule = make_rule(churn, name="<script>alert(1)</script> & co")

    out = render(message(channel, "firing", fire(rule, snapshot)))

    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in out.html
    assert "<script>alert(1)</script> & co" in out.text
    assert out.subject.startswith("[ML Monitor] FIRING (critical): <script>alert(1)</script> & co")


def test_it_builds_a_slack_payload_with_escaped_mrkdwn(acme, churn, snapshot, channel):
    rule = make_rule(churn, name="<!channel> drift & <b>")

    slack = render(message(channel, "firing", fire(rule, snapshot))).slack

    assert json.loads(json.dumps(slack)) == slack
    assert "&lt;!channel&gt; drift &amp; &lt;b&gt;" in slack["text"]
    assert slack["blocks"][0]["type"] == "header"
    texts = mrkdwn_texts(slack["blocks"])
    assert not any("<!channel>" in text or "<b>" in text for text in texts)
    fields = next(b["fields"] for b in slack["blocks"] if "fields" in b)
    labels = [f["text"].split("\n")[0] for f in fields]
    assert labels == ["*Project*", "*Rule*", "*Value*", "*Threshold*", "*Severity*"]
    assert fields[2]["text"] == "*Value*\n40.23"
    assert fields[3]["text"] == "*Threshold*\n&gt; 30"
    links = " ".join(texts)
    assert f"<{page('project_detail', acme.slug, churn.pk)}|Open dashboard>" in links
    assert f"<{page('snapshot_detail', acme.slug, churn.pk, snapshot.uuid)}|View" in links


def test_it_sends_a_stable_webhook_event(acme, churn, snapshot, channel):
    rule = make_rule(churn)
    alert = fire(rule, snapshot)
    msg = message(channel, "firing", alert)

    event = render(msg).webhook

    assert json.loads(json.dumps(event)) == event
    assert event["event"] == "firing"
    assert event["id"] == str(msg.pk)
    assert event["alert"] == {
        "id": str(alert.pk),
        "state": "firing",
        "severity": "critical",
        "value": 40.23456,
        "started_at": "2025-03-05T14:02:00+00:00",
        "fired_at": "2025-03-05T14:02:00+00:00",
        "resolved_at": None,
    }
    assert event["rule"] == {
        "id": str(rule.pk),
        "name": "Mean age too high",
        "kind": "metric",
        "condition": 'ColumnSummary(column="age") current.mean > 30',
        "config": AGE_RULE,
    }
    assert event["project"] == {"id": str(churn.pk), "name": "Churn"}
    assert event["organization"] == {"id": str(acme.pk), "slug": acme.slug}
    assert event["snapshot"] == {
        "id": str(snapshot.uuid),
        "timestamp": snapshot.timestamp.isoformat(),
    }
    assert event["links"]["dashboard"] == page("project_detail", acme.slug, churn.pk)
    assert event["links"]["snapshot"] == page("snapshot_detail", acme.slug, churn.pk, snapshot.uuid)
    assert event["sent_at"]


def test_it_leaves_the_snapshot_out_when_the_alert_has_none(churn, channel):
    out = render(message(channel, "firing", fire(make_rule(churn), None)))

    assert out.webhook["snapshot"] is None
    assert out.webhook["links"]["snapshot"] is None
    assert "Snapshot:" not in out.text


def test_it_links_the_rule_history(acme, churn, snapshot, channel):
    rule = make_rule(churn)

    out = render(message(channel, "firing", fire(rule, snapshot)))

    rule_page = page("alert_rule_detail", acme.slug, churn.pk, rule.pk)
    assert out.webhook["links"]["rule"] == rule_page
    assert f"Rule history: {rule_page}" in out.text
    assert f'href="{rule_page}"' in out.html
    assert "Rule history" in out.slack["text"] + json.dumps(out.slack["blocks"])


def test_it_lists_the_failing_tests(churn, snapshot, channel):
    rule = make_rule(churn, name="Tests fail", kind="tests_failed", config={"tests": "any"})

    out = render(message(channel, "firing", fire(rule, snapshot, value=1)))

    sentence = "Mean of 'age' is 40.15; expected > 50."
    assert "[FAIL] Mean of 'age': " + sentence in out.text
    assert "Failing tests: 1" in out.text
    assert "Row count" not in out.text  # it passed
    assert "Mean of &#x27;age&#x27; is 40.15; expected &gt; 50." in out.html
    assert any(sentence.replace(">", "&gt;") in t for t in mrkdwn_texts(out.slack["blocks"]))
    assert out.subject == "[ML Monitor] FIRING (critical): Tests fail — Churn"
    assert out.slack["text"].endswith("Churn: 1 failing test")


def test_it_lists_at_most_ten_failing_tests_worst_first(churn, snapshot, channel):
    TestOutcome.objects.bulk_create(
        TestOutcome(
            snapshot=snapshot,
            project=churn,
            timestamp=snapshot.timestamp,
            test_id=f"T{i}",
            test_type="Custom",
            name=f"Check {i:02}",
            status="WARNING" if i < 5 else "ERROR",
            description=f"Check {i:02} went wrong.",
        )
        for i in range(12)
    )
    rule = make_rule(churn, name="Tests fail", kind="tests_failed", config={"tests": "any"})

    out = render(message(channel, "firing", fire(rule, snapshot)))

    listed = [line for line in out.text.splitlines() if line.startswith("- [")]
    assert len(listed) == 10
    assert listed[0].startswith("- [ERROR] Check 05")
    assert "[FAIL] Mean of 'age'" in listed[7]
    assert "...and 3 more in the snapshot." in out.text
    assert "13 tests failed" in out.text


def test_it_counts_only_critical_failures_for_a_critical_tests_rule(churn, snapshot, channel):
    TestOutcome.objects.create(
        snapshot=snapshot,
        project=churn,
        timestamp=snapshot.timestamp,
        test_id="minor",
        test_type="Custom",
        name="Minor check",
        status="FAIL",
        critical=False,
        description="Not critical.",
    )
    rule = make_rule(
        churn, name="Critical tests", kind="tests_failed", config={"tests": "critical"}
    )

    out = render(message(channel, "firing", fire(rule, snapshot)))

    assert "Mean of 'age'" in out.text
    assert "Minor check" not in out.text


def test_it_tells_resolved_and_reminder_apart(churn, snapshot, channel):
    alert = fire(make_rule(churn), snapshot)
    firing = render(message(channel, "firing", alert))
    reminder = render(message(channel, "reminder", alert))
    Alert.objects.filter(pk=alert.pk).update(state="resolved", resolved_at=RESOLVED, value=28.1)
    alert.refresh_from_db()
    resolved = render(message(channel, "resolved", alert))

    assert reminder.subject == (
        "[ML Monitor] Reminder: still firing (critical): Mean age too high — Churn"
    )
    assert resolved.subject == "[ML Monitor] RESOLVED: Mean age too high — Churn"
    assert len({firing.subject, reminder.subject, resolved.subject}) == 3
    assert "Firing since 5 Mar 2025, 14:02 UTC" in reminder.text
    assert "Threshold: > 30" in reminder.text
    assert "Back to normal: the value is 28.1" in resolved.text
    assert "Resolved at: 5 Mar 2025, 16:32 UTC" in resolved.text
    assert "Firing for: 2 hours, 30 minutes" in resolved.text
    assert "#16a34a" in resolved.html  # resolved is green
    assert resolved.webhook["event"] == "resolved"
    assert resolved.webhook["alert"]["resolved_at"] == "2025-03-05T16:32:00+00:00"
    assert resolved.slack["blocks"][0]["text"]["text"].startswith(":large_green_circle: RESOLVED")


def test_it_lists_every_rule_in_a_digest(acme, churn, snapshot, channel):
    alerts = [
        fire(make_rule(churn, name=f"Rule {i}", severity="warning"), snapshot, value=i + 0.5)
        for i in range(3)
    ]
    alerts.append(fire(make_rule(churn, name="Rule <x>"), snapshot, value=99.0))

    out = render(message(channel, "digest", digest_of=[str(a.pk) for a in alerts]))

    assert out.subject == "[ML Monitor] 4 alerts firing in Churn"
    for name, value in [("Rule 0", "0.5"), ("Rule 1", "1.5"), ("Rule 2", "2.5")]:
        assert f"- [warning] {name}: {value} (threshold > 30)" in out.text
    assert "- [critical] Rule <x>: 99 (threshold > 30)" in out.text.splitlines()[2]  # worst first
    assert "Rule &lt;x&gt;" in out.html
    assert out.html.count("(threshold &gt; 30)") == 4
    assert page("project_detail", acme.slug, churn.pk) in out.text
    assert out.webhook["event"] == "digest"
    assert len(out.webhook["alerts"]) == 4
    assert out.webhook["project"] == {"id": str(churn.pk), "name": "Churn"}
    assert {a["alert"]["id"] for a in out.webhook["alerts"]} == {str(a.pk) for a in alerts}
    assert out.slack["text"] == "4 alerts firing in Churn"
    assert sum("Rule" in t for t in mrkdwn_texts(out.slack["blocks"])) == 4


def test_it_says_when_the_last_snapshot_came_for_a_no_data_rule(churn, snapshot, channel):
    Snapshot.objects.filter(pk=snapshot.pk).update(
        created_at=datetime(2025, 3, 5, 9, 15, tzinfo=UTC)
    )
    rule = make_rule(churn, name="Nightly missing", kind="no_data", config={"minutes": 120})

    out = render(message(channel, "firing", fire(rule, None, value=None)))

    assert "the last came on 5 Mar 2025, 09:15 UTC" in out.text
    assert "Last snapshot: 5 Mar 2025, 09:15 UTC" in out.text
    assert "Condition: No snapshot for 120 minutes" in out.text
    fields = next(b["fields"] for b in out.slack["blocks"] if "fields" in b)
    assert fields[2]["text"] == "*Last snapshot*\n5 Mar 2025, 09:15 UTC"


def test_it_says_when_no_snapshot_ever_came(acme, channel):
    empty = make_project(acme, "Empty")
    rule = make_rule(empty, name="Nothing yet", kind="no_data", config={"minutes": 60})

    out = render(message(channel, "firing", fire(rule, None, value=None)))

    assert "No snapshot has arrived yet" in out.text
    assert "Last snapshot: never" in out.text


def test_it_renders_a_test_message(acme, channel):
    msg = message(channel, "test")

    out = render(msg)

    assert out.subject == "[ML Monitor] Test message for channel On-call"
    assert "This is a test from ML Monitor (http://testserver) for channel On-call." in out.text
    assert "channel <strong>On-call</strong>" in out.html
    try:
        settings_page = page("alert_channels", acme.slug)
    except NoReverseMatch:
        settings_page = page("org_home", acme.slug)
    assert settings_page in out.text
    assert settings_page in out.html
    assert out.webhook["event"] == "test"
    assert out.webhook["channel"] == {"id": str(channel.pk), "name": "On-call", "kind": "email"}
    assert "This is a test from ML Monitor for channel On-call." in out.slack["text"]
