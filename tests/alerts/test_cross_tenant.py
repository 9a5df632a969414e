"""Charlie, who owns Globex, gets 404 for every alert page and API route of Acme's, and cannot
reach Acme's channels and rules from his own organisation either. The routes are enumerated from
alerts.urls and the API router, so a new one is covered the day it is added."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from alerts import api as alerts_api
from alerts import urls as alert_urls
from alerts.models import Alert, AlertRule, Channel, Message, Silence
from mlplatform.accounts.models import Organization, TokenScope
from mlplatform.api_router import router
from projects.models import Project
from tests.alerts.alerting import add_series, fire, make_channel, make_rule, metric_config
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db


@dataclass
class AcmeAlerts:
    org: Organization
    project: Project
    channel: Channel
    rule: AlertRule
    alert: Alert
    silence: Silence


@pytest.fixture
def acme_alerts(acme) -> AcmeAlerts:
    project = make_project(acme, "Churn")
    add_series(project)
    channel = make_channel(acme, "Pager", kind="webhook")
    rule = make_rule(project, channels=(channel,))
    alert = fire(rule)
    silence = Silence.objects.create(project=project, ends_at=timezone.now() + timedelta(hours=1))
    return AcmeAlerts(acme, project, channel, rule, alert, silence)


def page_urls(a: AcmeAlerts) -> list[str]:
    values = {
        "org_slug": a.org.slug,
        "project_id": a.project.pk,
        "channel_id": a.channel.pk,
        "rule_id": a.rule.pk,
        "silence_id": a.silence.pk,
    }
    return [
        reverse(p.name, kwargs={key: values[key] for key in p.pattern.converters})
        for p in alert_urls.urlpatterns
        if isinstance(p, URLPattern)
    ]


def api_routes(a: AcmeAlerts) -> list[tuple[str, str]]:
    """(method, url) for every route of the alert viewsets, with Acme's ids."""
    lookups = {
        alerts_api.ChannelViewSet: a.channel.pk,
        alerts_api.RuleViewSet: a.rule.pk,
        alerts_api.AlertViewSet: a.alert.pk,
        alerts_api.SilenceViewSet: a.silence.pk,
    }
    values = {"org_id": a.org.pk, "project_id": a.project.pk}
    routes = []
    for pattern in router.urls:
        assert isinstance(pattern, URLPattern)  # a router makes no resolvers
        viewset = getattr(pattern.callback, "cls", None)
        if viewset not in lookups:
            continue
        keys = pattern.pattern.regex.groupindex
        kwargs = {key: values.get(key, lookups[viewset]) for key in keys}
        url = reverse(pattern.name, kwargs=kwargs)
        routes += [(method, url) for method in pattern.callback.actions]  # type: ignore[attr-defined]  # set by as_view
    return routes


def test_every_alert_page_and_route_is_enumerated(acme_alerts):
    assert len(page_urls(acme_alerts)) == len(alert_urls.urlpatterns) >= 13
    methods = {(method, url.split("/")[-1]) for method, url in api_routes(acme_alerts)}
    assert ("post", "test") in methods
    assert ("post", "rotate-secret") in methods
    assert ("get", "history") in methods
    assert len(api_routes(acme_alerts)) >= 18


def test_an_outsider_gets_404_for_every_alert_page(client_for, acme_alerts, charlie, globex):
    client = client_for(charlie)
    for url in page_urls(acme_alerts):
        assert client.get(url).status_code == 404, url
        body = {"name": "pwned", "kind": "email", "roles": ["owner"], "enabled": "0"}
        assert client.post(url, body).status_code == 404, url
    _assert_untouched(acme_alerts)


def test_an_outsider_gets_404_for_every_alert_api_route(api_for, acme_alerts, charlie, globex):
    _, write = make_token(globex, TokenScope.WRITE)
    _, ingest = make_token(globex, TokenScope.INGEST, project=make_project(globex, "G"))
    body = {"name": "pwned", "kind": "email", "config": {"roles": ["owner"]}, "enabled": False}
    for client in (api_for(charlie), api_for(token=write), api_for(token=ingest)):
        for method, url in api_routes(acme_alerts):
            call = getattr(client, method)
            response = call(url, body, format="json") if method in ("post", "patch") else call(url)
            assert response.status_code == 404, f"{method.upper()} {url}"
            if method != "head":
                assert response.json()["error"] == "not_found"
    _assert_untouched(acme_alerts)


def _assert_untouched(a: AcmeAlerts) -> None:
    channel = Channel.objects.get(pk=a.channel.pk)
    assert (channel.name, channel.secret, channel.enabled) == ("Pager", a.channel.secret, True)
    rule = AlertRule.objects.get(pk=a.rule.pk)
    assert (rule.name, rule.enabled) == ("Mean age too high", True)
    assert Silence.objects.get(pk=a.silence.pk).ends_at == a.silence.ends_at
    assert Alert.objects.get(pk=a.alert.pk).resolved_at is None
    assert not Message.objects.exists()


def test_acmes_channels_and_rules_are_unknown_in_globex(api_for, acme_alerts, charlie, globex):
    theirs = make_project(globex, "Fraud")
    add_series(theirs)
    api = api_for(charlie)
    rule = api.post(
        f"/api/v1/projects/{theirs.pk}/alert-rules",
        {
            "name": "Borrowed pager",
            "kind": "metric",
            "config": metric_config(),
            "channels": [str(acme_alerts.channel.pk)],
        },
        format="json",
    )
    assert rule.status_code == 400
    assert "channels" in rule.json()["fields"]
    silence = api.post(
        f"/api/v1/projects/{theirs.pk}/silences",
        {
            "rule": str(acme_alerts.rule.pk),
            "ends_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert silence.status_code == 400
    assert "rule" in silence.json()["fields"]
    assert api.get(f"/api/v1/orgs/{globex.pk}/alert-channels").json() == []
    # Acme's ids under Globex's own URLs are missing objects, not Acme's.
    assert (
        api.get(f"/api/v1/orgs/{globex.pk}/alert-channels/{acme_alerts.channel.pk}").status_code
        == 404
    )
    assert (
        api.get(f"/api/v1/projects/{theirs.pk}/alert-rules/{acme_alerts.rule.pk}").status_code
        == 404
    )
    assert api.get(f"/api/v1/projects/{theirs.pk}/alerts/{acme_alerts.alert.pk}").status_code == 404
    assert (
        api.delete(f"/api/v1/projects/{theirs.pk}/silences/{acme_alerts.silence.pk}").status_code
        == 404
    )
    _assert_untouched(acme_alerts)


def test_acmes_ids_under_globex_pages_are_404(client_for, acme_alerts, charlie, globex):
    theirs = make_project(globex, "Fraud")
    client = client_for(charlie)
    slug = globex.slug
    a = acme_alerts
    for url in [
        reverse("alert_channel_edit", args=[slug, a.channel.pk]),
        reverse("alert_rule_detail", args=[slug, theirs.pk, a.rule.pk]),
        reverse("project_alerts", args=[slug, a.project.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        reverse("alert_channel_test", args=[slug, a.channel.pk]),
        reverse("alert_channel_rotate", args=[slug, a.channel.pk]),
        reverse("alert_rule_delete", args=[slug, theirs.pk, a.rule.pk]),
        reverse("alert_silence_end", args=[slug, theirs.pk, a.silence.pk]),
    ]:
        assert client.post(url).status_code == 404, url
    listing = client.get(reverse("alert_list", args=[slug])).content.decode()
    assert "Mean age too high" not in listing
    assert "Pager" not in client.get(reverse("alert_channels", args=[slug])).content.decode()
    _assert_untouched(acme_alerts)
