"""Alert rules, alerts and silences over the API: created and changed by members, checked field by
field, read by viewers and read tokens."""

from __future__ import annotations

from datetime import timedelta
from datetime import timezone as timezone_of

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertEvent, AlertRule, Message, Notification, Silence, State
from mlplatform.accounts.models import TokenScope
from tests.alerts.alerting import (
    MEAN_AGE,
    add_series,
    fire,
    make_channel,
    make_rule,
    metric_config,
)
from tests.factories import make_project, make_snapshot, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def churn(acme):
    project = make_project(acme, "Churn")
    add_series(project)
    add_series(project, field="reference.mean")
    return project


def rules_url(project, *rest) -> str:
    return "/".join([f"/api/v1/projects/{project.pk}/alert-rules", *map(str, rest)])


def test_it_creates_a_metric_rule(api_for, churn, bob):
    channel = make_channel(churn.organization)
    body = {
        "name": "Mean age drifts",
        "kind": "metric",
        "config": metric_config(aggregate="avg", window={"snapshots": 5}),
        "severity": "critical",
        "pending_count": 3,
        "repeat_minutes": 60,
        "channels": [str(channel.pk)],
    }
    response = api_for(bob).post(rules_url(churn), body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "Mean age drifts"
    assert data["config"] == {
        "metric": MEAN_AGE,
        "field": "current.mean",
        "condition": "gt",
        "threshold": 50.0,
        "aggregate": "avg",
        "window": {"snapshots": 5},
    }
    assert data["channels"] == [str(channel.pk)]
    assert data["state"] == "ok"
    assert data["description"] == f"avg of {MEAN_AGE} current.mean over the last 5 snapshots > 50.0"
    rule = AlertRule.objects.get(pk=data["id"])
    assert (rule.severity, rule.pending_count, rule.repeat_minutes) == ("critical", 3, 60)
    listed = api_for(bob).get(rules_url(churn)).json()
    assert [r["id"] for r in listed] == [data["id"]]


def test_it_creates_tests_and_no_data_rules_with_defaults(api_for, churn, bob):
    api = api_for(bob)
    tests = api.post(rules_url(churn), {"name": "Tests", "kind": "tests_failed"}, format="json")
    assert tests.status_code == 201
    assert tests.json()["config"] == {"tests": "any"}
    assert tests.json()["severity"] == "warning"
    assert tests.json()["pending_count"] == 1
    quiet = api.post(
        rules_url(churn),
        {"name": "Quiet", "kind": "no_data", "config": {"minutes": 1440}},
        format="json",
    )
    assert quiet.status_code == 201
    assert quiet.json()["description"] == "No snapshot for 1440 minutes"


METRIC = {"name": "M", "kind": "metric"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "metric", "config": metric_config()}, "name"),
        ({"name": "x" * 201, "kind": "metric", "config": metric_config()}, "name"),
        ({"name": "M", "kind": "bogus", "config": {}}, "kind"),
        ({**METRIC, "config": metric_config(metric="Missing()")}, "config.metric"),
        ({**METRIC, "config": metric_config(field="current.median")}, "config.field"),
        ({**METRIC, "config": metric_config(condition="bigger")}, "config.condition"),
        ({**METRIC, "config": metric_config(threshold="high")}, "config.threshold"),
        ({**METRIC, "config": metric_config(threshold=True)}, "config.threshold"),
        ({**METRIC, "config": metric_config(aggregate="median")}, "config.aggregate"),
        ({**METRIC, "config": metric_config(aggregate="avg")}, "config.window"),
        ({**METRIC, "config": metric_config(window={"snapshots": 5})}, "config.window"),
        (
            {**METRIC, "config": metric_config(aggregate="max", window={"snapshots": 0})},
            "config.window",
        ),
        (
            {**METRIC, "config": metric_config(aggregate="max", window={"minutes": 525_601})},
            "config.window",
        ),
        (
            {**METRIC, "config": metric_config(aggregate="max", window={"hours": 2})},
            "config.window",
        ),
        ({**METRIC, "config": {**metric_config(), "colour": "red"}}, "config.colour"),
        ({**METRIC, "config": "gt 50"}, "config"),
        ({**METRIC}, "config"),
        ({**METRIC, "config": metric_config(), "severity": "fatal"}, "severity"),
        ({**METRIC, "config": metric_config(), "pending_count": 0}, "pending_count"),
        ({**METRIC, "config": metric_config(), "pending_count": 101}, "pending_count"),
        ({**METRIC, "config": metric_config(), "pending_count": "3"}, "pending_count"),
        ({**METRIC, "config": metric_config(), "repeat_minutes": 10_081}, "repeat_minutes"),
        ({**METRIC, "config": metric_config(), "enabled": "yes"}, "enabled"),
        ({**METRIC, "config": metric_config(), "channels": "all"}, "channels"),
        ({**METRIC, "config": metric_config(), "channels": ["not-an-id"]}, "channels"),
        ({**METRIC, "config": metric_config(), "colour": "red"}, "colour"),
        ({"name": "T", "kind": "tests_failed", "config": {"tests": "some"}}, "config.tests"),
        ({"name": "T", "kind": "tests_failed", "config": {"tests": "named"}}, "config.names"),
        (
            {"name": "T", "kind": "tests_failed", "config": {"tests": "named", "names": ["x"]}},
            "config.names",
        ),
        (
            {"name": "T", "kind": "tests_failed", "config": {"tests": "any", "names": ["x"]}},
            "config.names",
        ),
        ({"name": "Q", "kind": "no_data", "config": {"minutes": 0}}, "config.minutes"),
        ({"name": "Q", "kind": "no_data", "config": {}}, "config.minutes"),
    ],
)
def test_it_names_the_field_of_each_mistake(api_for, churn, bob, body, field):
    response = api_for(bob).post(rules_url(churn), body, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()
    assert error["error"] == "validation_error"
    assert field in error["fields"], error
    assert not AlertRule.objects.exists()


def test_a_metric_the_project_lacks_is_named(api_for, churn, bob):
    body = {**METRIC, "config": metric_config(metric='ColumnSummary(column="income")')}
    error = api_for(bob).post(rules_url(churn), body, format="json").json()
    assert error["detail"].startswith("config.metric: No metric")
    assert "income" in error["detail"]


def test_a_body_that_is_not_an_object_is_a_400(api_for, churn, bob):
    response = api_for(bob).post(rules_url(churn), ["a", "list"], format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_named_tests_must_be_tests_of_the_project(api_for, churn, bob):
    snapshot = make_snapshot(churn)
    test_ids = list(snapshot.tests.values_list("test_id", flat=True))
    assert test_ids
    body = {
        "name": "Row count",
        "kind": "tests_failed",
        "config": {"tests": "named", "names": test_ids[:1]},
    }
    response = api_for(bob).post(rules_url(churn), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["config"] == {"tests": "named", "names": test_ids[:1]}


def test_a_channel_of_another_organisation_is_refused(api_for, churn, bob, globex):
    foreign = make_channel(globex, "Globex on call")
    body = {**METRIC, "config": metric_config(), "channels": [str(foreign.pk)]}
    response = api_for(bob).post(rules_url(churn), body, format="json")
    assert response.status_code == 400
    assert "channels" in response.json()["fields"]
    assert str(foreign.pk) in response.json()["detail"]


def test_patch_keeps_what_it_does_not_name(api_for, churn, bob):
    rule = make_rule(churn, channels=(make_channel(churn.organization),))
    api = api_for(bob)
    response = api.patch(rules_url(churn, rule.pk), {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.name == "Renamed"
    assert rule.config == metric_config()
    assert rule.channels.count() == 1
    changed = api.patch(
        rules_url(churn, rule.pk),
        {"config": metric_config(condition="lt", threshold=10), "channels": []},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["config"]["condition"] == "lt"
    assert changed.json()["channels"] == []
    kind_only = api.patch(rules_url(churn, rule.pk), {"kind": "no_data"}, format="json")
    assert kind_only.status_code == 400
    assert "config" in kind_only.json()["fields"]
    new_kind = api.patch(
        rules_url(churn, rule.pk), {"kind": "no_data", "config": {"minutes": 30}}, format="json"
    )
    assert new_kind.status_code == 200
    assert new_kind.json()["description"] == "No snapshot for 30 minutes"


def test_a_change_is_judged_against_the_data_once_committed(
    api_for, churn, bob, django_capture_on_commit_callbacks
):
    make_snapshot(churn)  # its mean-age test fails (the mean is about 40, the test wants > 50)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(bob).post(
            rules_url(churn), {"name": "Tests", "kind": "tests_failed"}, format="json"
        )
    rule = AlertRule.objects.get(pk=response.json()["id"])
    assert rule.state == State.FIRING
    assert rule.last_evaluated_at is not None
    assert Alert.objects.filter(rule=rule, state=State.FIRING).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        api_for(bob).patch(
            rules_url(churn, rule.pk), {"config": {"tests": "critical"}}, format="json"
        )
    rule.refresh_from_db()
    assert rule.state == State.FIRING  # the failing test is critical too


def test_disabling_a_firing_rule_closes_its_alert(api_for, churn, bob):
    rule = make_rule(churn)
    alert = fire(rule)
    response = api_for(bob).patch(rules_url(churn, rule.pk), {"enabled": False}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "ok"
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    event = rule.events.first()
    assert event is not None
    assert event.detail.startswith("The rule was disabled")


def test_delete_removes_the_rule_and_its_alerts(api_for, churn, bob):
    rule = make_rule(churn)
    fire(rule)
    assert api_for(bob).delete(rules_url(churn, rule.pk)).status_code == 204
    assert not AlertRule.objects.exists()
    assert not Alert.objects.exists()


def test_history_is_newest_first_in_pages(api_for, churn, bob):
    rule = make_rule(churn)
    now = timezone.now()
    for minutes, (old, new) in enumerate(
        [("ok", "pending"), ("pending", "firing"), ("firing", "resolved")]
    ):
        AlertEvent.objects.create(
            rule=rule,
            from_state=old,
            to_state=new,
            value=minutes,
            created_at=now + timedelta(minutes=minutes),
        )
    api = api_for(bob)
    first = api.get(rules_url(churn, rule.pk, "history"), {"limit": 2}).json()
    assert [e["to_state"] for e in first["results"]] == ["resolved", "firing"]
    assert first["next"]
    rest = api.get(rules_url(churn, rule.pk, "history"), {"limit": 2, "cursor": first["next"]})
    assert [e["to_state"] for e in rest.json()["results"]] == ["pending"]
    assert rest.json()["next"] is None
    for bad in ({"limit": 501}, {"limit": "ten"}, {"cursor": "zz"}, {"cursor": "9" * 30}):
        response = api.get(rules_url(churn, rule.pk, "history"), bad)
        assert response.status_code == 400, bad
        assert set(response.json()["fields"]) <= {"limit", "cursor"}


def test_viewers_and_read_tokens_read_but_do_not_write(api_for, churn, vera):
    rule = make_rule(churn)
    _, read_token = make_token(churn.organization, TokenScope.READ)
    for api in (api_for(vera), api_for(token=read_token)):
        assert api.get(rules_url(churn)).status_code == 200
        assert api.get(rules_url(churn, rule.pk)).status_code == 200
        assert api.get(rules_url(churn, rule.pk, "history")).status_code == 200
        assert api.get(f"/api/v1/projects/{churn.pk}/alerts").status_code == 200
        assert api.get(f"/api/v1/projects/{churn.pk}/silences").status_code == 200
        refused = [
            api.post(rules_url(churn), {**METRIC, "config": metric_config()}, format="json"),
            api.patch(rules_url(churn, rule.pk), {"name": "Mine"}, format="json"),
            api.delete(rules_url(churn, rule.pk)),
            api.post(
                f"/api/v1/projects/{churn.pk}/silences",
                {"ends_at": (timezone.now() + timedelta(hours=1)).isoformat()},
                format="json",
            ),
        ]
        for response in refused:
            assert response.status_code == 403
            assert response.json()["error"] == "permission_denied"
    rule.refresh_from_db()
    assert rule.name == "Mean age too high"
    assert not Silence.objects.exists()


def test_alerts_are_listed_and_read_with_their_history_and_messages(api_for, churn, bob):
    channel = make_channel(churn.organization)
    rule = make_rule(churn, channels=(channel,))
    alert = fire(rule, value=51.5)
    message = Message.objects.create(
        channel=channel, key=f"{alert.pk}:firing", kind="firing", alert=alert
    )
    Notification.objects.create(message=message, attempt=1, status="retry", error="HTTP 503")
    old = fire(make_rule(churn, "Old"), value=1)
    Alert.objects.filter(pk=old.pk).update(state=State.RESOLVED, resolved_at=timezone.now())
    api = api_for(bob)
    url = f"/api/v1/projects/{churn.pk}/alerts"
    assert {a["id"] for a in api.get(url).json()} == {str(alert.pk), str(old.pk)}
    assert [a["id"] for a in api.get(url, {"state": "firing"}).json()] == [str(alert.pk)]
    assert [a["id"] for a in api.get(url, {"state": "open"}).json()] == [str(alert.pk)]
    assert [a["id"] for a in api.get(url, {"state": "resolved"}).json()] == [str(old.pk)]
    assert [a["id"] for a in api.get(url, {"rule": str(rule.pk)}).json()] == [str(alert.pk)]
    assert api.get(url, {"state": "burning"}).status_code == 400
    assert api.get(url, {"rule": "nope"}).status_code == 400
    detail = api.get(f"{url}/{alert.pk}").json()
    assert detail["rule_name"] == "Mean age too high"
    assert detail["value"] == 51.5
    assert [(e["from_state"], e["to_state"]) for e in detail["events"]] == [("ok", "firing")]
    assert detail["messages"][0]["notifications"][0]["error"] == "HTTP 503"


def test_silences_mute_now_or_later_and_end_on_delete(api_for, churn, bob):
    rule = make_rule(churn)
    api = api_for(bob)
    url = f"/api/v1/projects/{churn.pk}/silences"
    now = timezone.now()
    mute = api.post(
        url,
        {
            "rule": str(rule.pk),
            "ends_at": (now + timedelta(hours=2)).isoformat(),
            "reason": "deploy",
        },
        format="json",
    )
    assert mute.status_code == 201, mute.json()
    assert mute.json()["active"] is True
    assert mute.json()["rule"] == str(rule.pk)
    assert mute.json()["created_by"] == "bob@example.com"
    window = api.post(
        url,
        {
            "starts_at": (now + timedelta(days=1)).isoformat(),
            "ends_at": (now + timedelta(days=1, hours=4)).isoformat(),
        },
        format="json",
    )
    assert window.status_code == 201
    assert window.json()["active"] is False
    assert window.json()["rule"] is None
    assert [s["id"] for s in api.get(url, {"state": "active"}).json()] == [mute.json()["id"]]
    assert [s["id"] for s in api.get(url, {"state": "scheduled"}).json()] == [window.json()["id"]]
    assert api.delete(f"{url}/{mute.json()['id']}").status_code == 204
    ended = Silence.objects.get(pk=mute.json()["id"])
    assert ended.ends_at <= timezone.now()
    assert not Silence.objects.covering(rule).exists()
    assert [s["id"] for s in api.get(url, {"state": "ended"}).json()] == [mute.json()["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ends_at"),
        ({"ends_at": "tomorrow"}, "ends_at"),
        ({"ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "+2h", "ends_at": "+1h"}, "ends_at"),
        ({"ends_at": "+400d"}, "ends_at"),
        ({"rule": "not-a-rule", "ends_at": "+1h"}, "rule"),
        ({"ends_at": "+1h", "reason": "r" * 201}, "reason"),
        ({"ends_at": "+1h", "until": "+2h"}, "until"),
    ],
)
def test_a_bad_silence_is_a_400_naming_the_field(api_for, churn, bob, body, field):
    now = timezone.now()

    def moment(value):
        if isinstance(value, str) and value.startswith("+"):
            unit = {"h": "hours", "d": "days"}[value[-1]]
            return (now + timedelta(**{unit: int(value[1:-1])})).isoformat()
        return value

    body = {key: moment(value) for key, value in body.items()}
    response = api_for(bob).post(f"/api/v1/projects/{churn.pk}/silences", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]


def test_a_rule_of_another_project_cannot_be_muted_here(api_for, churn, bob, acme):
    other = make_rule(make_project(acme, "Other"))
    response = api_for(bob).post(
        f"/api/v1/projects/{churn.pk}/silences",
        {"rule": str(other.pk), "ends_at": (timezone.now() + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "rule" in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "bad\x00name", "kind": "no_data", "config": {"minutes": 5}},
        {**METRIC, "config": metric_config(metric="Quality\x00()")},
        {"name": "T", "kind": "tests_failed", "config": {"tests": "named", "names": ["a\x00"]}},
        '{"name": "M", "kind": "metric", "config": {"threshold": NaN}}',
        '{"name": "M", "kind": "metric", "config": {"threshold": 1e400}}',
        {**METRIC, "config": metric_config(window=[1]), "pending_count": 2**70},
        {**METRIC, "config": {"metric": {"nested": 1}, "field": [], "window": "5"}},
        {"name": ["list"], "kind": ["metric"], "config": None, "channels": [None, 5]},
    ],
)
def test_hostile_rules_are_refused_not_a_500(api_for, churn, bob, body):
    if isinstance(body, str):  # JSON that json.dumps does not write
        response = api_for(bob).post(rules_url(churn), body, content_type="application/json")
    else:
        response = api_for(bob).post(rules_url(churn), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("validation_error", "parse_error")  # NaN is not JSON


def test_hostile_silences_are_refused_not_a_500(api_for, churn, bob):
    url = f"/api/v1/projects/{churn.pk}/silences"
    api = api_for(bob)
    for body in [
        {"ends_at": (timezone.now() + timedelta(hours=1)).isoformat(), "reason": "a\x00b"},
        {"ends_at": "9999-12-31T23:59:59Z", "starts_at": "0001-01-01T00:00:00Z"},
        {"ends_at": 12345},
        {"ends_at": "2026-13-45T99:00:00Z", "rule": ["x"]},
        "not an object",
    ]:
        response = api.post(url, body, format="json")
        assert response.status_code == 400, (body, response.content)


def test_a_silence_given_with_an_offset_postgresql_refuses_is_stored_in_utc(api_for, churn, bob):
    # Python takes offsets up to 24 h; PostgreSQL refuses 16 h or more: times go on in UTC.
    far_east = timezone_of(timedelta(hours=19, minutes=14))
    ends_at = (timezone.now() + timedelta(hours=1)).astimezone(far_east).replace(microsecond=0)
    response = api_for(bob).post(
        f"/api/v1/projects/{churn.pk}/silences", {"ends_at": ends_at.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Silence.objects.get().ends_at == ends_at
