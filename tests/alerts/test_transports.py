"""Transports against real servers on loopback: what they send, and how each answer is classified."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from alerts.models import Channel
from alerts.outgoing import Outgoing, TransportError
from alerts.transports import (
    EmailTransport,
    SlackTransport,
    WebhookTransport,
    retry_after,
    transport_for,
)
from mlplatform.accounts.models import Organization, Role
from tests.alerts.stub_server import Stub, stub_server
from tests.factories import add_member, make_user
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_is_allowed(settings: Any) -> None:
    settings.OUTBOUND_INSECURE_HOSTS = ["127.0.0.1"]
    settings.ALERTS_HTTP_TIMEOUT = 5


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_server() as server:
        yield server


@pytest.fixture
def slack(acme: Organization, stub: Stub) -> Channel:
    return Channel.objects.create(
        organization=acme, kind="slack", name="#ml-alerts", config={"url": stub.url()}
    )


@pytest.fixture
def webhook(acme: Organization, stub: Stub) -> Channel:
    return Channel.objects.create(
        organization=acme, kind="webhook", name="Pager", config={"url": stub.url("/hooks/mlp")}
    )


@pytest.fixture
def outgoing() -> Outgoing:
    return Outgoing(
        subject="[Acme] Scoring: Accuracy below 0.8 is firing",
        text="Accuracy below 0.8 is firing: accuracy 0.61.",
        html="<p><b>Accuracy below 0.8</b> is firing: accuracy 0.61.</p>",
        slack={"text": "Accuracy below 0.8 is firing", "blocks": [{"type": "section"}]},
        webhook={"event": "firing", "rule": {"name": "Accuracy below 0.8"}, "value": 0.61},
        to=["oncall@acme.test", "alice@example.com"],
    )


def answer(stub: Stub, status: int, body: bytes = b"", delay: float = 0.0, **headers: str) -> None:
    stub.default = (status, {k.replace("_", "-"): v for k, v in headers.items()}, body, delay)


def failure(channel: Channel, outgoing: Outgoing) -> TransportError:
    with pytest.raises(TransportError) as failed:
        transport_for(channel).send(outgoing)
    return failed.value


# ---- Slack ----------------------------------------------------------------------------------


def test_it_posts_the_slack_payload(slack: Channel, stub: Stub, outgoing: Outgoing) -> None:
    answer(stub, 200, b"ok")
    transport_for(slack).send(outgoing)
    (request,) = stub.received
    assert request.path == "/services/T000/B000/secret"
    assert request.json() == outgoing.slack
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("MLMonitor-Alerts/")


def test_it_retries_slack_after_a_server_error(
    slack: Channel, stub: Stub, outgoing: Outgoing
) -> None:
    answer(stub, 500, b"internal_error")
    error = failure(slack, outgoing)
    assert not error.permanent
    assert error.http_status == 500
    assert error.retry_after is None


def test_it_waits_as_long_as_a_429_says(slack: Channel, stub: Stub, outgoing: Outgoing) -> None:
    answer(stub, 429, b"rate_limited", Retry_After="7")
    error = failure(slack, outgoing)
    assert not error.permanent
    assert error.retry_after == 7
    assert error.http_status == 429


@pytest.mark.parametrize("status", [404, 410])
def test_it_gives_up_on_a_slack_webhook_that_is_gone(
    slack: Channel, stub: Stub, outgoing: Outgoing, status: int
) -> None:
    answer(stub, status, b"no_service")
    error = failure(slack, outgoing)
    assert error.permanent
    assert "no longer exists" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (403, "invalid_token", "token is invalid"),
        (404, "channel_not_found", "no longer exists"),
        (410, "channel_is_archived", "no longer exists"),
        (403, "action_prohibited", "admin restricted"),
        (400, "invalid_payload", "bug in"),
        (400, "something_new", "HTTP 400: something_new"),
    ],
)
def test_it_gives_up_on_slack_refusals_no_retry_can_change(
    slack: Channel, stub: Stub, outgoing: Outgoing, status: int, body: str, says: str
) -> None:
    answer(stub, status, body.encode())
    error = failure(slack, outgoing)
    assert error.permanent
    assert says in str(error)
    assert error.http_status == status


def test_it_says_when_slack_refuses_the_token(
    slack: Channel, stub: Stub, outgoing: Outgoing
) -> None:
    answer(stub, 400, b"invalid_token")
    error = failure(slack, outgoing)
    assert error.permanent
    assert "invalid_token" in str(error)


def test_it_gives_up_waiting_for_a_slow_answer(
    slack: Channel, stub: Stub, outgoing: Outgoing, settings: Any
) -> None:
    settings.ALERTS_HTTP_TIMEOUT = 0.5
    answer(stub, 200, b"ok", delay=3)
    started = time.monotonic()
    error = failure(slack, outgoing)
    assert time.monotonic() - started < 2
    assert not error.permanent
    assert "did not answer within 0.5 s" in str(error)


def test_it_retries_when_nothing_listens(acme: Organization, outgoing: Outgoing) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = Channel.objects.create(
        organization=acme,
        kind="slack",
        name="#gone",
        config={"url": f"http://127.0.0.1:{port}/services/T/B/X"},
    )
    error = failure(channel, outgoing)
    assert not error.permanent
    assert "connection refused" in str(error)


def test_it_does_not_follow_a_redirect(slack: Channel, stub: Stub, outgoing: Outgoing) -> None:
    answer(stub, 301, Location=stub.url("/services/T000/B000/moved"))
    error = failure(slack, outgoing)
    assert error.permanent
    assert "redirects are not followed" in str(error)
    assert len(stub.received) == 1


def test_it_refuses_a_slack_channel_whose_url_is_not_slack(
    acme: Organization, outgoing: Outgoing, settings: Any
) -> None:
    settings.OUTBOUND_INSECURE_HOSTS = []
    channel = Channel.objects.create(
        organization=acme,
        kind="slack",
        name="#elsewhere",
        config={"url": "https://example.com/services/T/B/X"},
    )
    error = failure(channel, outgoing)
    assert error.permanent
    assert "hooks.slack.com" in str(error)


# ---- Webhooks -------------------------------------------------------------------------------


def test_it_signs_webhooks_with_the_channel_secret(
    webhook: Channel, stub: Stub, outgoing: Outgoing
) -> None:
    answer(stub, 204)
    before = int(time.time())
    transport_for(webhook).send(outgoing)
    (request,) = stub.received
    assert request.path == "/hooks/mlp"
    assert request.json() == outgoing.webhook
    assert request.headers["X-MLP-Event"] == "firing"
    timestamp = request.headers["X-MLP-Timestamp"]
    assert before <= int(timestamp) <= time.time()
    # The receiver's side, written out: HMAC-SHA256 of "<timestamp>.<raw body>" with the secret.
    expected = hmac.new(
        webhook.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request.headers["X-MLP-Signature"], f"sha256={expected}")
    # And another secret does not verify.
    other = hmac.new(b"whsec_other", f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["X-MLP-Signature"] != f"sha256={other.hexdigest()}"


@pytest.mark.parametrize(
    ("status", "permanent", "says"),
    [
        (401, True, "signature"),
        (403, True, "signature"),
        (404, True, "does not exist"),
        (410, True, "does not exist"),
        (422, True, "HTTP 422"),
        (302, True, "redirects are not followed"),
        (408, False, "HTTP 408"),
        (429, False, "HTTP 429"),
        (502, False, "HTTP 502"),
        (503, False, "HTTP 503"),
    ],
)
def test_it_classifies_webhook_answers(
    webhook: Channel, stub: Stub, outgoing: Outgoing, status: int, permanent: bool, says: str
) -> None:
    answer(stub, status, b"nope")
    error = failure(webhook, outgoing)
    assert error.permanent is permanent
    assert says in str(error)
    assert error.http_status == status


def test_it_reads_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("7") == 7
    assert retry_after(None) is None
    assert retry_after("soon") is None
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    assert 100 < retry_after(in_two_minutes) <= 120  # type: ignore[operator]
    assert retry_after("86400") == 3600  # at most an hour
    yesterday = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert retry_after(yesterday) == 0


# ---- Email ----------------------------------------------------------------------------------


@pytest.fixture
def email(acme: Organization) -> Channel:
    return Channel.objects.create(
        organization=acme,
        kind="email",
        name="On call",
        config={"addresses": ["oncall@acme.test"], "roles": [Role.OWNER, Role.ADMIN]},
    )


def test_it_reaches_the_addresses_and_the_members_with_the_roles(
    email: Channel, acme: Organization
) -> None:
    add_member(acme, make_user("dana@example.com"), Role.ADMIN)
    gone = make_user("gone@example.com")
    add_member(acme, gone, Role.ADMIN)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    # alice owns Acme; bob (member) and vera (viewer) have neither role.
    assert email.email_recipients() == ["oncall@acme.test", "alice@example.com", "dana@example.com"]


def test_it_sends_text_and_html_to_the_recipients(email: Channel, outgoing: Outgoing) -> None:
    outgoing.to = email.email_recipients()
    transport_for(email).send(outgoing)
    (sent,) = mail.outbox
    assert isinstance(sent, EmailMultiAlternatives)
    assert sent.to == ["oncall@acme.test", "alice@example.com"]
    assert sent.subject == outgoing.subject
    assert sent.from_email == "ML Monitor <noreply@testserver>"
    assert sent.body == outgoing.text
    # Django's EmailAlternative named tuples; django-stubs type them as plain tuples.
    alternatives = [(a.content, a.mimetype) for a in sent.alternatives]  # type: ignore[attr-defined]
    assert alternatives == [(outgoing.html, "text/html")]


def test_it_gives_up_on_an_email_channel_without_recipients(
    email: Channel, outgoing: Outgoing
) -> None:
    outgoing.to = []
    error = failure(email, outgoing)
    assert error.permanent
    assert "no recipients" in str(error)
    assert mail.outbox == []


def smtp_mailer(port: int) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }


def test_it_sends_through_a_real_smtp_server(
    email: Channel, outgoing: Outgoing, settings: Any
) -> None:
    with smtp_server() as (_host, port, received):
        settings.MAILERS = smtp_mailer(port)
        EmailTransport(email).send(outgoing)
    (message,) = received
    assert message["Subject"] == outgoing.subject
    assert message["To"] == "oncall@acme.test, alice@example.com"
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}  # type: ignore[attr-defined]
    assert parts["text/plain"].strip() == outgoing.text
    assert parts["text/html"].strip() == outgoing.html


def test_it_retries_when_the_mail_server_is_down(
    email: Channel, outgoing: Outgoing, settings: Any
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = smtp_mailer(port)
    error = failure(email, outgoing)
    assert not error.permanent
    assert "mail server" in str(error)


# ---- Which transport ------------------------------------------------------------------------


def test_each_kind_has_its_transport(email: Channel, slack: Channel, webhook: Channel) -> None:
    assert type(transport_for(email)) is EmailTransport
    assert type(transport_for(slack)) is SlackTransport
    assert type(transport_for(webhook)) is WebhookTransport
    email.kind = "pigeon"
    with pytest.raises(TransportError) as failed:
        transport_for(email)
    assert failed.value.permanent


def test_the_webhook_body_is_sent_as_signed(
    webhook: Channel, stub: Stub, outgoing: Outgoing
) -> None:
    # Non-ASCII and non-JSON-native values: the bytes signed are the bytes received.
    outgoing.webhook = {"event": "test", "rule": "Précision ≥ 0.8", "at": datetime(2026, 1, 1)}
    answer(stub, 200)
    transport_for(webhook).send(outgoing)
    (request,) = stub.received
    assert json.loads(request.body)["rule"] == "Précision ≥ 0.8"
    timestamp = request.headers["X-MLP-Timestamp"]
    expected = hmac.new(
        webhook.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-MLP-Signature"] == f"sha256={expected}"
