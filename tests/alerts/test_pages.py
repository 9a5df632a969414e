"""The alert pages: rules added and changed by members from what the project received, channels
with "send test" and their failures shown, silences, the alert list, and the dashboard's banner."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertRule, Channel, Message, Notification, Silence, State
from projects.models import MetricSeries
from tests.alerts.alerting import MEAN_AGE, add_series, fire, make_channel, make_rule
from tests.factories import make_project, make_snapshot, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def churn(acme):
    project = make_project(acme, "Churn")
    add_series(project)
    return project


def page(name: str, org, *args) -> str:
    return reverse(name, args=[org.slug, *[str(a) for a in args]])


def test_the_pages_render_for_members_and_viewers(client_for, churn, alice, bob, vera):
    org = churn.organization
    channel = make_channel(org)
    rule = make_rule(churn, channels=(channel,))
    urls = [
        page("alert_list", org),
        page("alert_channels", org),
        page("alert_channel_edit", org, channel.pk),
        page("project_alerts", org, churn.pk),
        page("alert_rule_detail", org, churn.pk, rule.pk),
    ]
    for user in (alice, bob):
        for url in urls:
            response = client_for(user).get(url)
            assert response.status_code == 200, url
    viewer = client_for(vera)
    for url in urls:
        body = viewer.get(url).content.decode()
        assert "Mean age too high" in body or "On call" in body or "Alerts" in body
        for offer in ("Add a rule", "Add channel", "Send test", "Mute every rule", ">Save<"):
            assert offer not in body, (url, offer)


def test_the_navigation_leads_to_the_alert_pages(client_for, churn, bob):
    org = churn.organization
    dashboard = client_for(bob).get(page("project_detail", org, churn.pk)).content.decode()
    assert f'href="{page("project_alerts", org, churn.pk)}"' in dashboard
    assert f'href="{page("alert_list", org)}"' in dashboard
    alerts = client_for(bob).get(page("project_alerts", org, churn.pk)).content.decode()
    assert f'href="{page("project_alerts", org, churn.pk)}" aria-current="page">Alerts' in alerts
    listing = client_for(bob).get(page("alert_list", org)).content.decode()
    assert f'href="{page("alert_list", org)}" aria-current="page">Alerts' in listing


def test_a_member_adds_a_metric_rule_from_the_series_offered(client_for, churn, bob):
    org = churn.organization
    channel = make_channel(org)
    series = MetricSeries.objects.get(project=churn)
    client = client_for(bob)
    form = client.get(page("project_alerts", org, churn.pk)).content.decode()
    # Grouped by metric (its title and parameters), each option a field; picker.js searches it.
    assert '<select name="series" data-picker="metric"' in form
    compact = re.sub(r">\s+<", "><", form)
    assert (
        '<optgroup label="Column summary · column=&quot;age&quot;">'
        f'<option value="{series.pk}">current.mean</option>' in compact
    )
    response = client.post(
        page("project_alerts", org, churn.pk),
        {
            "kind": "metric",
            "name": "Mean age drifts",
            "series": str(series.pk),
            "aggregate": "avg",
            "window": "snapshots",
            "window_size": "5",
            "condition": "gt",
            "threshold": "50.5",
            "severity": "critical",
            "pending_count": "2",
            "repeat_minutes": "30",
            "channels": [str(channel.pk)],
        },
    )
    rule = AlertRule.objects.get()
    assert response.status_code == 302
    assert response.url == page("alert_rule_detail", org, churn.pk, rule.pk)
    assert rule.config == {
        "metric": MEAN_AGE,
        "field": "current.mean",
        "condition": "gt",
        "threshold": 50.5,
        "aggregate": "avg",
        "window": {"snapshots": 5},
    }
    assert (rule.severity, rule.pending_count, rule.repeat_minutes) == ("critical", 2, 30)
    assert list(rule.channels.all()) == [channel]
    detail = client.get(response.url).content.decode()
    assert "Added the rule Mean age drifts." in detail
    # The edit form shows the rule as it is.
    assert f'<option value="{series.pk}" selected>' in detail


def test_a_bad_rule_is_shown_again_with_the_field_to_fix(client_for, churn, bob):
    series = MetricSeries.objects.get(project=churn)
    response = client_for(bob).post(
        page("project_alerts", churn.organization, churn.pk),
        {
            "kind": "metric",
            "name": "Average without a window",
            "series": str(series.pk),
            "aggregate": "avg",
            "condition": "gt",
            "threshold": "1",
            "severity": "warning",
            "pending_count": "1",
            "repeat_minutes": "0",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "needs a window" in body
    assert 'id="add-metric" open' in body
    assert not AlertRule.objects.exists()


def test_a_tests_rule_offers_the_tests_of_recent_snapshots(client_for, churn, bob):
    snapshot = make_snapshot(churn)
    test = snapshot.tests.order_by("name").first()
    client = client_for(bob)
    url = page("project_alerts", churn.organization, churn.pk)
    assert f'value="{test.test_id}"' in client.get(url).content.decode().replace("&quot;", '"')
    response = client.post(
        url,
        {
            "kind": "tests_failed",
            "name": "Mean age test",
            "tests": "named",
            "names": [test.test_id],
            "severity": "warning",
            "pending_count": "1",
            "repeat_minutes": "0",
        },
    )
    assert response.status_code == 302
    assert AlertRule.objects.get().config == {"tests": "named", "names": [test.test_id]}
    refused = client.post(
        url,
        {
            "kind": "tests_failed",
            "name": "No names",
            "tests": "named",
            "severity": "warning",
            "pending_count": "1",
            "repeat_minutes": "0",
        },
    )
    assert "Name at least one test" in refused.content.decode()


def test_a_member_edits_disables_and_deletes_a_rule(client_for, churn, bob):
    org = churn.organization
    rule = make_rule(churn, kind="no_data", config={"minutes": 60})
    alert = fire(rule)
    client = client_for(bob)
    detail = page("alert_rule_detail", org, churn.pk, rule.pk)
    response = client.post(
        detail,
        {
            "name": "Quiet for a day",
            "minutes": "1440",
            "severity": "critical",
            "pending_count": "1",
            "repeat_minutes": "0",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.config, rule.severity) == (
        "Quiet for a day",
        {"minutes": 1440},
        "critical",
    )
    client.post(page("alert_rule_enable", org, churn.pk, rule.pk), {"enabled": "0"})
    rule.refresh_from_db()
    alert.refresh_from_db()
    assert rule.enabled is False
    assert alert.resolved_at is not None
    assert "disabled" in client.get(detail).content.decode()
    client.post(page("alert_rule_enable", org, churn.pk, rule.pk), {"enabled": "1"})
    assert AlertRule.objects.get(pk=rule.pk).enabled is True
    gone = client.post(page("alert_rule_delete", org, churn.pk, rule.pk))
    assert gone.url == page("project_alerts", org, churn.pk)
    assert not AlertRule.objects.exists()


def test_the_rule_page_shows_its_history_and_messages(client_for, churn, bob):
    org = churn.organization
    snapshot = make_snapshot(churn)
    channel = make_channel(org, "Pager", kind="webhook")
    rule = make_rule(churn, channels=(channel,))
    alert = fire(rule, value=51.25, snapshot=snapshot)
    message = Message.objects.create(
        channel=channel, key=f"{alert.pk}:firing", kind="firing", alert=alert
    )
    Notification.objects.create(
        message=message, attempt=1, status="retry", error="HTTP 503 from the hook", http_status=503
    )
    body = client_for(bob).get(page("alert_rule_detail", org, churn.pk, rule.pk)).content.decode()
    snapshot_link = reverse("snapshot_detail", args=[org.slug, churn.pk, snapshot.uuid])
    assert f'href="{snapshot_link}"' in body
    assert 'data-state="ok"' in body
    assert 'data-state="firing"' in body
    assert "51.25" in body
    assert f'data-message="{message.pk}"' in body
    assert "HTTP 503 from the hook" in body


def test_channels_are_added_tested_and_shown_with_their_failures(client_for, acme, bob):
    client = client_for(bob)
    url = page("alert_channels", acme)
    added = client.post(
        url,
        {
            "kind": "email",
            "name": "Data team",
            "addresses": "a@example.com, b@example.com",
            "roles": ["admin"],
            "send_resolved": "on",
        },
    )
    assert added.status_code == 302
    channel = Channel.objects.get()
    assert channel.config == {"addresses": ["a@example.com", "b@example.com"], "roles": ["admin"]}
    tested = client.post(page("alert_channel_test", acme, channel.pk), follow=True)
    assert "Test queued for Email: Data team; see its result below." in tested.content.decode()
    message = Message.objects.get()
    assert (message.channel, message.kind) == (channel, "test")
    Message.objects.filter(pk=message.pk).update(status="failed", error="550 No such user")
    channel.disable("The mail server refused every address.")
    listing = client.get(url).content.decode()
    assert "550 No such user" in listing
    assert (
        'class="bad small" data-testid="disabled-reason">The mail server refused every address.'
        in listing
    )
    assert "Send test" not in listing  # enable it first
    client.post(page("alert_channel_enable", acme, channel.pk))
    channel.refresh_from_db()
    assert channel.enabled


def test_a_bad_channel_is_shown_again_with_the_field_to_fix(client_for, acme, bob):
    response = client_for(bob).post(
        page("alert_channels", acme),
        {"kind": "webhook", "name": "Hook", "url": "http://example.com/h"},
    )
    assert response.status_code == 200
    assert "The URL must start with https://." in response.content.decode()
    assert not Channel.objects.exists()


def test_a_webhook_secret_is_shown_once_and_rotated(client_for, acme, bob):
    client = client_for(bob)
    created = client.post(
        page("alert_channels", acme),
        {"kind": "webhook", "name": "Hook", "url": "http://127.0.0.1:8999/h"},
    )
    channel = Channel.objects.get()
    assert created.status_code == 200
    assert channel.secret in created.content.decode()
    assert channel.secret not in client.get(page("alert_channels", acme)).content.decode()
    assert (
        channel.secret
        not in client.get(page("alert_channel_edit", acme, channel.pk)).content.decode()
    )
    old = channel.secret
    rotated = client.post(page("alert_channel_rotate", acme, channel.pk))
    channel.refresh_from_db()
    assert channel.secret != old
    assert channel.secret in rotated.content.decode()


def test_a_channel_is_edited_and_deleted(client_for, acme, bob):
    channel = make_channel(acme)
    client = client_for(bob)
    url = page("alert_channel_edit", acme, channel.pk)
    client.post(url, {"name": "Renamed", "addresses": "", "roles": ["owner"]})
    channel.refresh_from_db()
    assert channel.name == "Renamed"
    assert channel.config == {"addresses": [], "roles": ["owner"]}
    assert channel.send_resolved is False  # an unticked box
    client.post(page("alert_channel_delete", acme, channel.pk))
    assert not Channel.objects.exists()


def test_silences_and_maintenance_windows(client_for, churn, bob):
    org = churn.organization
    rule = make_rule(churn)
    client = client_for(bob)
    now = timezone.now()
    later = (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        page("alert_silence_create", org, churn.pk),
        {"mode": "mute", "ends_at": later, "reason": "deploy"},
    )
    muted = Silence.objects.get()
    assert muted.rule is None
    assert Silence.objects.covering(rule).exists()
    back = client.post(
        page("alert_silence_create", org, churn.pk),
        {"mode": "mute", "rule": str(rule.pk), "ends_at": later},
    )
    assert back.url == page("alert_rule_detail", org, churn.pk, rule.pk)
    assert Silence.objects.filter(rule=rule).count() == 1
    client.post(
        page("alert_silence_create", org, churn.pk),
        {
            "mode": "window",
            "starts_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=1, hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "database upgrade",
        },
    )
    window = Silence.objects.get(reason="database upgrade")
    assert window.is_maintenance
    body = client.get(page("project_alerts", org, churn.pk)).content.decode()
    assert "maintenance" in body
    assert "database upgrade" in body
    assert "End now" in body
    client.post(page("alert_silence_end", org, churn.pk, muted.pk))
    muted.refresh_from_db()
    assert muted.ends_at <= timezone.now()
    refused = client.post(
        page("alert_silence_create", org, churn.pk),
        {"mode": "mute", "ends_at": "2001-01-01T00:00"},
        follow=True,
    )
    assert "That time has passed." in refused.content.decode()


def test_the_alert_list_puts_what_fires_on_top(client_for, churn, acme, alice, bob):
    hidden = make_project(acme, "Credit", teams=[make_team(acme, "Risk", [alice])])
    firing = fire(make_rule(churn, "Firing rule", severity="critical"))
    pending = fire(make_rule(churn, "Pending rule"))
    Alert.objects.filter(pk=pending.pk).update(state=State.PENDING)
    resolved = fire(make_rule(churn, "Resolved rule"))
    Alert.objects.filter(pk=resolved.pk).update(state=State.RESOLVED, resolved_at=timezone.now())
    fire(make_rule(hidden, "Secret rule"))
    client = client_for(bob)
    body = client.get(page("alert_list", acme)).content.decode()
    now_part, history_part = body.split('data-testid="alert-history"')
    assert now_part.index("Firing rule") < now_part.index("Pending rule")
    assert "Resolved rule" in history_part
    assert "Resolved rule" not in now_part
    assert "Secret rule" not in body  # bob is not in the team that sees Credit
    assert "Secret rule" in client_for(alice).get(page("alert_list", acme)).content.decode()
    only_firing = client.get(page("alert_list", acme), {"state": "firing"}).content.decode()
    assert "Firing rule" in only_firing
    assert "Pending rule" not in only_firing
    assert "Resolved rule" not in only_firing
    other = make_project(acme, "Other")
    assert (
        "Firing rule"
        not in client.get(page("alert_list", acme), {"project": str(other.pk)}).content.decode()
    )
    assert (
        firing.rule.name
        in client.get(page("alert_list", acme), {"project": "junk"}).content.decode()
    )
    assert client.get(page("alert_list", acme), {"page": "9" * 30}).status_code == 400


def test_the_dashboard_shows_a_banner_while_alerts_fire(client_for, churn, bob):
    org = churn.organization
    url = page("project_detail", org, churn.pk)
    client = client_for(bob)
    assert 'data-testid="firing-alerts"' not in client.get(url).content.decode()
    first = fire(make_rule(churn, "Accuracy dropped"), value=0.71)
    fire(make_rule(churn, "Tests failing", kind="tests_failed"), value=2)
    pending = fire(make_rule(churn, "Only pending"))
    Alert.objects.filter(pk=pending.pk).update(state=State.PENDING)
    body = client.get(url).content.decode()
    assert "2 alerts firing:" in body
    assert (
        f'href="{page("alert_rule_detail", org, churn.pk, first.rule_id)}">Accuracy dropped</a> (value 0.71)'
        in body
    )
    assert "Tests failing" in body
    assert "Only pending" not in body
