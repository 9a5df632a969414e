"""Notification channels over the API: email, Slack and signed webhooks, their URLs checked when
saved, a test message on request, the webhook secret shown only when made."""

from __future__ import annotations

import socket

import pytest

from alerts.models import Channel, Message, MessageKind
from mlplatform.accounts.models import TokenScope
from tests.alerts.alerting import make_channel, make_rule
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"


@pytest.fixture
def public_dns(monkeypatch):
    """Names resolve to a public address (the tests run without a network); one to a private."""

    def getaddrinfo(host, port, *args, **kwargs):
        address = "10.0.0.7" if host == "intranet.example.com" else "52.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def channels_url(org, *rest) -> str:
    return "/".join([f"/api/v1/orgs/{org.pk}/alert-channels", *map(str, rest)])


def test_it_creates_an_email_channel(api_for, acme, bob):
    body = {
        "kind": "email",
        "name": "Data team",
        "config": {
            "addresses": ["data@example.com", " ops@example.com "],
            "roles": ["admin", "owner"],
        },
    }
    response = api_for(bob).post(channels_url(acme), body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["config"] == {
        "addresses": ["data@example.com", "ops@example.com"],
        "roles": ["owner", "admin"],
    }
    assert data["target"] == "data@example.com, ops@example.com, every owner, every admin"
    assert data["enabled"] is True
    assert data["send_resolved"] is True
    assert data["last_message"] is None
    assert "secret" not in data


def test_a_webhook_secret_is_shown_once_and_can_be_rotated(api_for, acme, bob):
    api = api_for(bob)
    url = "http://127.0.0.1:8999/hooks/alerts"
    created = api.post(
        channels_url(acme),
        {"kind": "webhook", "name": "Pager", "config": {"url": url}, "send_resolved": False},
        format="json",
    )
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    channel = Channel.objects.get(pk=created.json()["id"])
    assert channel.secret == secret
    assert channel.send_resolved is False
    read = api.get(channels_url(acme, channel.pk)).json()
    assert "secret" not in read
    assert read["config"] == {"url": url}
    assert all("secret" not in c for c in api.get(channels_url(acme)).json())
    rotated = api.post(channels_url(acme, channel.pk, "rotate-secret"))
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (secret, None)
    channel.refresh_from_db()
    assert channel.secret == rotated.json()["secret"]
    email = make_channel(acme)
    refused = api.post(channels_url(acme, email.pk, "rotate-secret"))
    assert refused.status_code == 400
    assert "kind" in refused.json()["fields"]


def test_a_slack_channel_takes_only_slack_hooks(api_for, acme, bob, public_dns):
    api = api_for(bob)
    ok = api.post(
        channels_url(acme),
        {"kind": "slack", "name": "#alerts", "config": {"url": SLACK_URL}},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["target"] == "hooks.slack.com"
    elsewhere = api.post(
        channels_url(acme),
        {"kind": "slack", "name": "#alerts", "config": {"url": "https://example.com/services/x"}},
        format="json",
    )
    assert elsewhere.status_code == 400
    assert "config.url" in elsewhere.json()["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "config": {}}, "kind"),
        ({"kind": "pigeon", "name": "x", "config": {}}, "kind"),
        ({"kind": "email", "config": {"addresses": ["a@example.com"]}}, "name"),
        ({"kind": "email", "name": "x" * 101, "config": {"addresses": ["a@example.com"]}}, "name"),
        ({"kind": "email", "name": "x"}, "config"),
        ({"kind": "email", "name": "x", "config": {}}, "config.addresses"),
        (
            {"kind": "email", "name": "x", "config": {"addresses": ["not an address"]}},
            "config.addresses",
        ),
        (
            {
                "kind": "email",
                "name": "x",
                "config": {"addresses": [f"a{i}@example.com" for i in range(21)]},
            },
            "config.addresses",
        ),
        ({"kind": "email", "name": "x", "config": {"roles": ["boss"]}}, "config.roles"),
        ({"kind": "email", "name": "x", "config": {"roles": "admin"}}, "config.roles"),
        ({"kind": "email", "name": "x", "config": {"roles": ["admin"], "cc": []}}, "config.cc"),
        (
            {"kind": "email", "name": "x", "config": {"roles": ["admin"]}, "send_resolved": 1},
            "send_resolved",
        ),
        ({"kind": "webhook", "name": "x", "config": {}}, "config.url"),
        (
            {"kind": "webhook", "name": "x", "config": {"url": "http://example.com/hook"}},
            "config.url",
        ),
        (
            {"kind": "webhook", "name": "x", "config": {"url": "https://10.0.0.1/hook"}},
            "config.url",
        ),
        (
            {"kind": "webhook", "name": "x", "config": {"url": "https://localhost/hook"}},
            "config.url",
        ),
        (
            {"kind": "webhook", "name": "x", "config": {"url": "https://intranet.example.com/h"}},
            "config.url",
        ),
        ({"kind": "webhook", "name": "x", "config": {"url": "ftp://example.com/h"}}, "config.url"),
        (
            {"kind": "slack", "name": "x", "config": {"url": SLACK_URL, "channel": "#x"}},
            "config.channel",
        ),
        ({"kind": "email", "name": "x", "config": {"roles": ["admin"]}, "colour": "red"}, "colour"),
    ],
)
def test_it_names_the_field_of_each_mistake(api_for, acme, bob, public_dns, body, field):
    response = api_for(bob).post(channels_url(acme), body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"], response.json()
    assert not Channel.objects.exists()


def test_patch_changes_settings_but_not_the_kind_nor_the_disabled_state(api_for, acme, bob):
    channel = make_channel(acme)
    channel.disable("The mail server refused the address.")
    api = api_for(bob)
    renamed = api.patch(channels_url(acme, channel.pk), {"name": "Data team"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Data team"
    assert renamed.json()["config"] == channel.config
    fixed = api.patch(
        channels_url(acme, channel.pk),
        {"config": {"addresses": ["fixed@example.com"]}},
        format="json",
    )
    assert fixed.json()["config"] == {"addresses": ["fixed@example.com"], "roles": []}
    assert fixed.json()["enabled"] is False
    assert fixed.json()["disabled_reason"] == "The mail server refused the address."
    kind = api.patch(channels_url(acme, channel.pk), {"kind": "slack"}, format="json")
    assert kind.status_code == 400
    assert "kind" in kind.json()["fields"]
    enabled = api.post(channels_url(acme, channel.pk, "enable"))
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] == ""


def test_send_test_queues_a_message(api_for, acme, bob):
    channel = make_channel(acme)
    api = api_for(bob)
    response = api.post(channels_url(acme, channel.pk, "test"))
    assert response.status_code == 202
    message = Message.objects.get(pk=response.json()["message"])
    assert message.channel == channel
    assert message.kind == MessageKind.TEST
    listed = api.get(channels_url(acme)).json()
    assert listed[0]["last_message"]["id"] == str(message.pk)
    assert listed[0]["last_message"]["status"] == "pending"
    channel.disable("Gone.")
    refused = api.post(channels_url(acme, channel.pk, "test"))
    assert refused.status_code == 400
    assert "enabled" in refused.json()["fields"]
    assert Message.objects.count() == 1


def test_delete_removes_the_channel_from_its_rules(api_for, acme, bob):
    channel = make_channel(acme)
    rule = make_rule(make_project(acme, "Churn"), kind="no_data", channels=(channel,))
    assert api_for(bob).delete(channels_url(acme, channel.pk)).status_code == 204
    assert not Channel.objects.exists()
    assert rule.channels.count() == 0


def test_viewers_read_without_the_urls_and_cannot_write(api_for, acme, vera):
    hook = make_channel(acme, "Pager", kind="webhook")
    email = make_channel(acme)
    _, read_token = make_token(acme, TokenScope.READ)
    for api in (api_for(vera), api_for(token=read_token)):
        listed = {c["name"]: c for c in api.get(channels_url(acme)).json()}
        assert listed["Pager"]["config"] is None  # the URL's path is a credential
        assert listed["Pager"]["target"] == "127.0.0.1"
        assert listed["On call"]["config"] == email.config
        for response in (
            api.post(
                channels_url(acme),
                {"kind": "email", "name": "x", "config": {"roles": ["admin"]}},
                format="json",
            ),
            api.patch(channels_url(acme, hook.pk), {"name": "Mine"}, format="json"),
            api.delete(channels_url(acme, hook.pk)),
            api.post(channels_url(acme, hook.pk, "test")),
            api.post(channels_url(acme, hook.pk, "enable")),
            api.post(channels_url(acme, hook.pk, "rotate-secret")),
        ):
            assert response.status_code == 403
            assert response.json()["error"] == "permission_denied"
    hook.refresh_from_db()
    assert hook.name == "Pager"
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "email", "name": "a\x00", "config": {"roles": ["admin"]}},
        {"kind": "email", "name": "x", "config": {"addresses": ["a\x00@example.com"]}},
        {"kind": "email", "name": "x", "config": {"addresses": [{"a": 1}], "roles": [None]}},
        {"kind": "webhook", "name": "x", "config": {"url": "https://exa\x00mple.com/h"}},
        {"kind": "webhook", "name": "x", "config": {"url": "https://" + "a" * 3000 + ".com/"}},
        {"kind": "webhook", "name": "x", "config": {"url": ["https://example.com/"]}},
        {"kind": "slack", "name": "x", "config": {"url": "https://hooks.slack.com\\@evil.com/"}},
        {"kind": None, "name": None, "config": None, "send_resolved": None},
    ],
)
def test_hostile_channels_are_refused_not_a_500(api_for, acme, bob, public_dns, body):
    response = api_for(bob).post(channels_url(acme), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "validation_error"
