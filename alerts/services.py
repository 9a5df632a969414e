"""Changing alert rules, channels and silences, by verb: what the pages and the API call.

The functions take input already checked by `alerts.validation` (`clean_rule`, `clean_channel`,
`clean_silence`); they save it and do what follows, such as judging a changed rule against the
data as it stands once the change is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from alerts import delivery, evaluation
from alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    ChannelKind,
    Message,
    Silence,
    State,
)
from mlplatform.accounts.models import Organization, User
from projects.models import Project

logger = logging.getLogger(__name__)

_RULE_FIELDS = ("name", "kind", "config", "severity", "pending_count", "repeat_minutes")


# ---- rules --------------------------------------------------------------------------------------


def _evaluate_on_commit(rule: AlertRule) -> None:
    """Judge the rule against the current data once the change is committed, so that its state
    (and any message it owes) reflects the rule as it now reads."""

    def run() -> None:
        try:
            change = evaluation.evaluate_rule(rule.pk)
        except Exception:  # the change is saved; the next snapshot evaluates the rule again
            logger.exception("Evaluating alert rule %s after a change failed", rule.pk)
            return
        for message in change.messages if change else []:
            delivery.queue_delivery(message.pk)

    transaction.on_commit(run)


def create_rule(project: Project, data: dict[str, Any], user: User | None) -> AlertRule:
    """A new rule of the project from `clean_rule`'s output, judged at once against the data."""
    with transaction.atomic():
        rule = AlertRule.objects.create(
            project=project,
            enabled=data["enabled"],
            **{field: data[field] for field in _RULE_FIELDS},
        )
        rule.channels.set(data["channels"])
        if rule.enabled:
            _evaluate_on_commit(rule)
    logger.info(
        "Alert rule %s (%s) created in project %s by %s",
        rule.pk,
        rule.name,
        project.pk,
        user.email if user else "a token",
    )
    return rule


def update_rule(rule: AlertRule, data: dict[str, Any]) -> AlertRule:
    """Save `clean_rule(project, data, rule=rule)`'s output to the rule and judge it again."""
    with transaction.atomic():
        was_enabled = AlertRule.objects.select_for_update().get(pk=rule.pk).enabled
        for field in _RULE_FIELDS:
            setattr(rule, field, data[field])
        rule.save(update_fields=list(_RULE_FIELDS))
        rule.channels.set(data["channels"])
        set_rule_enabled(rule, data["enabled"])  # judges a rule it turns on
        if rule.enabled and was_enabled:
            _evaluate_on_commit(rule)
    return rule


def set_rule_enabled(rule: AlertRule, enabled: bool) -> AlertRule:
    """Turn a rule on or off. Turning it off closes its open alert, without a notice: a rule
    nobody evaluates any more cannot resolve it later."""
    with transaction.atomic():
        locked = AlertRule.objects.select_for_update().get(pk=rule.pk)
        if locked.enabled == enabled:
            rule.enabled = enabled
            return rule
        locked.enabled = enabled
        fields = ["enabled"]
        if not enabled:
            now = timezone.now()
            alert = Alert.objects.filter(rule=locked, resolved_at__isnull=True).first()
            if alert is not None:
                alert.state = State.RESOLVED
                alert.resolved_at = now
                alert.save(update_fields=["state", "resolved_at"])
            if alert is not None or locked.state in (State.PENDING, State.FIRING):
                AlertEvent.objects.create(
                    rule=locked,
                    alert=alert,
                    from_state=locked.state,
                    to_state=State.OK,
                    value=locked.last_value,
                    detail="The rule was disabled; its alert was closed without a notice.",
                    created_at=now,
                )
            locked.state = State.OK
            fields += ["state"]
        locked.save(update_fields=fields)
        if enabled:
            _evaluate_on_commit(locked)
    for field in ("enabled", "state"):
        setattr(rule, field, getattr(locked, field))
    return rule


def delete_rule(rule: AlertRule) -> None:
    """Delete the rule with its alerts, history and messages."""
    logger.info("Alert rule %s (%s) deleted", rule.pk, rule.name)
    rule.delete()


# ---- channels -----------------------------------------------------------------------------------


def create_channel(organization: Organization, data: dict[str, Any]) -> Channel:
    """A new channel from `clean_channel`'s output. A webhook's signing secret is made with it."""
    return Channel.objects.create(
        organization=organization,
        kind=data["kind"],
        name=data["name"],
        config=data["config"],
        send_resolved=data["send_resolved"],
    )


def update_channel(channel: Channel, data: dict[str, Any]) -> Channel:
    """Save `clean_channel(org, data, channel=channel)`'s output. A disabled channel stays
    disabled until it is enabled: fixing its URL and enabling it are two steps."""
    channel.name = data["name"]
    channel.config = data["config"]
    channel.send_resolved = data["send_resolved"]
    channel.save(update_fields=["name", "config", "send_resolved"])
    return channel


def enable_channel(channel: Channel) -> Channel:
    channel.enable()
    return channel


def delete_channel(channel: Channel) -> None:
    """Delete the channel; rules that used it keep their other channels."""
    channel.delete()


def rotate_secret(channel: Channel) -> str:
    """A new signing secret for a webhook channel, returned to be shown once."""
    if channel.kind != ChannelKind.WEBHOOK:
        raise ValidationError({"kind": "Only webhook channels sign their requests with a secret."})
    channel.secret = Channel._meta.get_field("secret").get_default()
    channel.save(update_fields=["secret"])
    return channel.secret


def send_test(channel: Channel) -> Message:
    """A test message to the channel, delivered by a worker; its outcome shows on the channel."""
    if not channel.enabled:
        raise ValidationError({"enabled": "This channel is disabled; enable it, then send a test."})
    return delivery.send_test(channel)


def latest_messages(channels: Iterable[Channel]) -> dict[Any, Message]:
    """Each channel's newest message (for its last status and error), by channel id."""
    ids = [channel.pk for channel in channels]
    # A subquery per channel rather than DISTINCT ON, which SQLite (the embedded default) lacks.
    newest_of_channel = (
        Message.objects.filter(channel_id=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    newest = Channel.objects.filter(pk__in=ids).values(newest=Subquery(newest_of_channel))
    return {message.channel_id: message for message in Message.objects.filter(pk__in=newest)}


# ---- silences -----------------------------------------------------------------------------------


def mute(
    project: Project,
    rule: AlertRule | None,
    until: datetime,
    reason: str,
    user: User | None,
) -> Silence:
    """Silence a rule (or, with None, every rule of the project) from now until `until`."""
    return schedule_maintenance(project, timezone.now(), until, reason, user, rule=rule)


def schedule_maintenance(
    project: Project,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    user: User | None,
    *,
    rule: AlertRule | None = None,
) -> Silence:
    """A maintenance window: the project's rules (or one rule) silenced from one time to another."""
    return Silence.objects.create(
        project=project,
        rule=rule,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=user,
    )


def end_silence(silence: Silence) -> Silence:
    """End a silence now (a window not yet started is cancelled). An alert that fired while it
    held, and still fires, is notified by the next reminder run."""
    now = timezone.now()
    if silence.ends_at > now:
        silence.starts_at = min(silence.starts_at, now)
        silence.ends_at = now
        silence.save(update_fields=["starts_at", "ends_at"])
    return silence
