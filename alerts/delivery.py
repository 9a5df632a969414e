"""Delivering messages: each attempt claimed by one worker and recorded as a Notification, transient
failures retried with backoff and jitter (or after the server's Retry-After), permanent ones ending
delivery, disabling the channel and telling the organisation's admins.

A message is claimed by moving its `next_attempt_at` past the time an attempt may take, in one
conditional UPDATE: of two workers handed the same message, one gets it. The attempt's row is
unique by (message, attempt number), so an attempt is recorded, and made, once. A worker that dies
mid-attempt leaves the message due again after the claim expires, for the sweeper to retry.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from alerts.messages import render
from alerts.models import (
    Channel,
    ChannelKind,
    Message,
    MessageKind,
    MessageStatus,
    Notification,
    NotificationStatus,
    members_with_roles,
)
from alerts.outgoing import TransportError
from alerts.signals import message_due
from alerts.transports import transport_for
from mlplatform.accounts.models import Role
from mlplatform.emails import absolute_url, send_templated_email

logger = logging.getLogger(__name__)

# How long one attempt may take before its claim lapses and the message is due again.
CLAIM_SECONDS = 120
# The sweeper leaves fresh messages to the task queued for them.
SWEEP_GRACE_SECONDS = 30


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: exponential from ALERTS_RETRY_BASE_SECONDS, capped,
    with full jitter so that many failed messages do not come back at once."""
    base = float(settings.ALERTS_RETRY_BASE_SECONDS)
    ceiling = min(float(settings.ALERTS_RETRY_MAX_SECONDS), base * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def queue_delivery(message_id: Any, *, delay: float = 0) -> None:
    """Deliver the message from a worker once the current transaction commits (announced with
    `message_due`, which `alerts.tasks` turns into a task). If the broker is down the message
    stays due and the sweeper (every 30 s) sends it."""
    transaction.on_commit(
        lambda: message_due.send(sender=Message, message_id=str(message_id), delay=delay or None)
    )


def _claim(message_id: Any) -> tuple[Message, Notification] | None:
    now = timezone.now()
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message_id, status=MessageStatus.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        if not claimed:
            return None
        message = Message.objects.select_related("channel", "channel__organization").get(
            pk=message_id
        )
        attempt = message.attempts + 1
        try:
            with transaction.atomic():
                notification = Notification.objects.create(message=message, attempt=attempt)
        except IntegrityError:
            return None  # this attempt was made already (a lapsed claim): the sweeper moves on
        message.attempts = attempt
        message.save(update_fields=["attempts"])
    return message, notification


def deliver(message_id: Any) -> str:
    """Make the message's next attempt, if it is due and nobody else is making it. Returns what
    happened: sent, retry, failed, skipped or not due."""
    claimed = _claim(message_id)
    if claimed is None:
        return "not due"
    message, notification = claimed
    channel = message.channel
    if not channel.enabled:
        _finish(message, notification, MessageStatus.SKIPPED, "The channel is disabled.")
        return "skipped"
    try:
        outgoing = render(message)
    except ValueError as exc:  # its alerts were deleted with their rule: nothing left to tell
        _finish(message, notification, MessageStatus.SKIPPED, str(exc))
        return "skipped"
    try:
        if channel.kind == ChannelKind.EMAIL:
            outgoing.to = channel.email_recipients()
        transport_for(channel).send(outgoing)
    except TransportError as exc:
        return _failed(message, notification, exc)
    except Exception as exc:  # a bug of ours: recorded, retried like a transient failure
        logger.exception("Delivering message %s failed unexpectedly", message.pk)
        return _failed(message, notification, TransportError(f"Internal error: {exc!r}"))
    _finish(message, notification, MessageStatus.SENT, "")
    return "sent"


def _finish(
    message: Message,
    notification: Notification,
    status: str,
    error: str,
    http_status: int | None = None,
) -> None:
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENT
        if status == MessageStatus.SENT
        else NotificationStatus.FAILED,
        error=error[:2000],
        http_status=http_status,
        finished_at=now,
    )
    Message.objects.filter(pk=message.pk).update(
        status=status, error=error[:2000], sent_at=now if status == MessageStatus.SENT else None
    )


def _failed(message: Message, notification: Notification, exc: TransportError) -> str:
    text = str(exc)
    max_attempts = settings.ALERTS_MAX_ATTEMPTS
    if exc.permanent or message.attempts >= max_attempts:
        _finish(message, notification, MessageStatus.FAILED, text, exc.http_status)
        # A failed test (from the channel's page) is shown there; it does not disable it.
        if exc.permanent and message.kind != MessageKind.TEST:
            disable_channel(message.channel, text)
        logger.warning("Message %s to %s failed: %s", message.pk, message.channel, text)
        return "failed"
    delay = exc.retry_after if exc.retry_after is not None else backoff(message.attempts)
    delay = min(delay + random.uniform(0, 0.1 * max(delay, 1)), 3600)
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.RETRY,
        error=text[:2000],
        http_status=exc.http_status,
        finished_at=now,
    )
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=now + timedelta(seconds=delay), error=text[:2000]
    )
    queue_delivery(message.pk, delay=delay)
    logger.info("Message %s: %s; retrying in %.1f s", message.pk, text, delay)
    return "retry"


def disable_channel(channel: Channel, reason: str) -> None:
    """Stop using a channel that cannot work (and say why on its page), and email the
    organisation's owners and admins once."""
    if not channel.disable(reason):
        return
    admins = members_with_roles(channel.organization, [Role.OWNER, Role.ADMIN])
    if not admins:
        return
    url = absolute_url(reverse("alert_channels", args=[channel.organization.slug]))
    try:
        send_templated_email(
            "channel_disabled",
            admins,
            {
                "channel": channel,
                "organization": channel.organization,
                "reason": reason,
                "url": url,
            },
        )
    except Exception:
        logger.exception("Could not tell the admins that channel %s was disabled", channel.pk)


def deliver_due(limit: int = 200) -> int:
    """Every 30 seconds (beat): messages due whose task was lost (broker down, worker died)."""
    cutoff = timezone.now() - timedelta(seconds=SWEEP_GRACE_SECONDS)
    due = list(
        Message.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(pk) == "sent" for pk in due)


def send_test(channel: Channel) -> Message:
    """A test message to the channel ("send test" on its page), delivered at once in a worker."""
    message = Message.objects.create(channel=channel, key=f"test:{uuid4()}", kind=MessageKind.TEST)
    queue_delivery(message.pk)
    return message
