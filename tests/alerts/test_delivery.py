"""Delivery against a real HTTP server on loopback standing in for Slack and webhooks: transient
failures (500, 429 with Retry-After, timeouts) are retried until delivered, permanent ones (404,
410, an invalid token) stop, disable the channel, say why and tell the admins; each attempt is a
Notification row, and no attempt is made twice."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from alerts.delivery import deliver, deliver_due, send_test
from alerts.evaluation import evaluate_project
from alerts.models import Channel, Message, Notification
from tests.alerts.conftest import metric_rule, push
from tests.alerts.stub_server import stub_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def slack():
    with stub_server() as stub:
        yield stub


def _firing(project, channel) -> Message:
    metric_rule(project, channel)
    push(project, 0.5, 0)
    evaluate_project(project.pk)
    return Message.objects.get(channel=channel, kind="firing")


def _due_now(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def _channel(acme, stub, kind: str = "slack") -> Channel:
    return Channel.objects.create(
        organization=acme, kind=kind, name=f"{kind} stand-in", config={"url": stub.url()}
    )


def test_a_message_is_delivered_once(acme, project, slack):
    message = _firing(project, _channel(acme, slack))
    assert deliver(message.pk) == "sent"
    assert deliver(message.pk) == "not due"  # already sent: nothing more
    assert len(slack.received) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.sent_at is not None
    (attempt,) = Notification.objects.filter(message=message)
    assert (attempt.attempt, attempt.status) == (1, "sent")


def test_server_errors_are_retried_until_delivered(acme, project, slack):
    slack.script = [(500, {}, b"oops", 0), (503, {}, b"busy", 0)]
    message = _firing(project, _channel(acme, slack))
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == "pending"
    assert message.next_attempt_at > timezone.now()  # backoff: not due at once
    assert deliver(message.pk) == "not due"
    _due_now(message)
    assert deliver(message.pk) == "retry"
    _due_now(message)
    assert deliver(message.pk) == "sent"
    attempts = list(Notification.objects.filter(message=message).order_by("attempt"))
    assert [(a.attempt, a.status, a.http_status) for a in attempts] == [
        (1, "retry", 500),
        (2, "retry", 503),
        (3, "sent", None),
    ]
    assert len(slack.received) == 3


def test_retry_after_is_honoured(acme, project, slack):
    slack.script = [(429, {"Retry-After": "5"}, b"slow down", 0)]
    message = _firing(project, _channel(acme, slack))
    before = timezone.now()
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    wait = (message.next_attempt_at - before).total_seconds()
    assert 5 <= wait <= 6.5
    assert Notification.objects.get(message=message).http_status == 429


def test_a_timeout_is_retried(acme, project, slack, settings):
    settings.ALERTS_HTTP_TIMEOUT = 0.5
    slack.script = [(200, {}, b"ok", 2.0)]
    message = _firing(project, _channel(acme, slack))
    started = time.monotonic()
    assert deliver(message.pk) == "retry"
    assert time.monotonic() - started < 2
    _due_now(message)
    assert deliver(message.pk) == "sent"


@pytest.mark.parametrize(
    ("status", "body"), [(404, b"no_service"), (410, b"gone"), (403, b"invalid_token")]
)
def test_permanent_errors_stop_disable_the_channel_and_tell_the_admins(
    acme, project, slack, status, body
):
    channel = _channel(acme, slack)
    slack.default = (status, {}, body, 0)
    message = _firing(project, channel)
    assert deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == "failed"
    channel.refresh_from_db()
    assert not channel.enabled
    assert channel.disabled_reason
    assert Notification.objects.get(message=message).status == "failed"
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.com"]  # Acme's owner (no admins besides)
    assert channel.name in notice.subject
    assert channel.disabled_reason in notice.body
    # Nothing more goes to it; a later message is skipped without a request.
    later = Message.objects.create(channel=channel, key="later", kind="test")
    assert deliver(later.pk) == "skipped"
    assert len(slack.received) == 1


def test_it_gives_up_after_the_last_attempt_without_disabling(acme, project, slack, settings):
    settings.ALERTS_MAX_ATTEMPTS = 2
    slack.default = (500, {}, b"down", 0)
    channel = _channel(acme, slack)
    message = _firing(project, channel)
    assert deliver(message.pk) == "retry"
    _due_now(message)
    assert deliver(message.pk) == "failed"
    channel.refresh_from_db()
    assert channel.enabled  # a server that was down is not a broken channel
    assert Message.objects.get(pk=message.pk).status == "failed"


def test_webhooks_are_signed_and_delivered(acme, project, slack):
    channel = _channel(acme, slack, kind="webhook")
    message = _firing(project, channel)
    assert deliver(message.pk) == "sent"
    (request,) = slack.received
    assert request.headers["X-MLP-Signature"].startswith("sha256=")
    assert request.json()["event"] == "firing"


def test_email_goes_to_the_addresses_and_the_roles(acme, project, bob):
    channel = Channel.objects.create(
        organization=acme,
        kind="email",
        name="Team",
        config={"addresses": ["oncall@acme.test"], "roles": ["member"]},
    )
    message = _firing(project, channel)
    assert deliver(message.pk) == "sent"
    (email,) = mail.outbox
    assert sorted(email.to) == ["bob@example.com", "oncall@acme.test"]
    assert isinstance(email, EmailMultiAlternatives)
    assert email.alternatives  # the HTML part


def test_a_failed_test_message_does_not_disable_the_channel(acme, slack):
    channel = _channel(acme, slack)
    slack.default = (404, {}, b"no_service", 0)
    message = send_test(channel)
    assert deliver(message.pk) == "failed"
    channel.refresh_from_db()
    assert channel.enabled
    assert "404" in Message.objects.get(pk=message.pk).error


def test_the_sweeper_sends_what_was_never_queued(acme, project, slack):
    message = _firing(project, _channel(acme, slack))
    assert deliver_due() == 0  # fresh: left to its own task
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=1)
    )
    assert deliver_due() == 1
    assert len(slack.received) == 1


def test_a_claimed_attempt_is_not_made_by_a_second_worker(acme, project, slack):
    from alerts.delivery import _claim

    message = _firing(project, _channel(acme, slack))
    first = _claim(message.pk)
    assert first is not None
    assert _claim(message.pk) is None  # the claim holds the message
    # Even after the claim lapses, attempt 1 exists: a second claim makes attempt 2, never 1 again.
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    second = _claim(message.pk)
    assert second is not None
    assert second[1].attempt == 2
