"""Webhooks are delivered at least once: a receiver that answers after our timeout gets the message
again. Every delivery carries an `Idempotency-Key` (the message's id, the body's signed `id`), the
same on every retry of one message and different for different messages, so the receiver can drop
repeats. Against a real HTTP server on loopback that answers too late the first time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from django.utils import timezone

from alerts.delivery import deliver
from alerts.evaluation import evaluate_project
from alerts.models import Channel, Message
from tests.alerts.conftest import metric_rule, push
from tests.alerts.stub_server import Received, Stub, stub_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with stub_server() as stub:
        yield stub


def _webhook(acme: Any, stub: Stub) -> Channel:
    return Channel.objects.create(
        organization=acme, kind="webhook", name="Pager", config={"url": stub.url("/hooks/mlp")}
    )


def _firing(project: Any, channel: Channel) -> Message:
    metric_rule(project, channel)
    push(project, 0.5, 0)
    evaluate_project(project.pk)
    return Message.objects.get(channel=channel, kind="firing")


def _verified(channel: Channel, request: Received) -> None:
    # The receiver's check: the signature covers the timestamp and the body, whose `id` is the key.
    timestamp = request.headers["X-MLP-Timestamp"]
    expected = hmac.new(
        channel.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request.headers["X-MLP-Signature"], f"sha256={expected}")


def test_a_retry_after_a_slow_answer_carries_the_same_key(acme, project, receiver, settings):
    settings.ALERTS_HTTP_TIMEOUT = 0.5
    # The first time the receiver takes the message and answers after our timeout.
    receiver.script = [(200, {}, b"ok", 1.5)]
    channel = _webhook(acme, receiver)
    message = _firing(project, channel)

    assert deliver(message.pk) == "retry"
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert deliver(message.pk) == "sent"

    first, second = receiver.wait_for(2)
    assert first.json()["id"] == second.json()["id"] == str(message.pk)  # the same message twice
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == str(message.pk)
    for request in (first, second):
        _verified(channel, request)
        assert request.headers["Idempotency-Key"] == request.json()["id"]


def test_different_messages_carry_different_keys(acme, project, receiver):
    channel = _webhook(acme, receiver)
    firing = _firing(project, channel)
    test = Message.objects.create(channel=channel, key="test:idempotency", kind="test")
    assert deliver(firing.pk) == "sent"
    assert deliver(test.pk) == "sent"

    one, two = receiver.wait_for(2)
    assert one.headers["Idempotency-Key"] == str(firing.pk)
    assert two.headers["Idempotency-Key"] == str(test.pk)
    assert one.headers["Idempotency-Key"] != two.headers["Idempotency-Key"]
    for request in (one, two):
        _verified(channel, request)
        assert request.headers["Idempotency-Key"] == request.json()["id"]
