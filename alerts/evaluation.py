"""Evaluating alert rules: their state from the data, the alert episodes and history that follow,
and the messages each change of state owes to the rule's channels.

A rule's state is computed from the project's data as it stands, not from the snapshot that
triggered the evaluation: the newest snapshots (or points) are read, each is judged a breach or
not, and the run of breaches at the newest end decides. So evaluating twice, or two snapshots out of
order, gives the same answer, and two workers evaluating one rule at once (each holds the rule's row
lock in turn) make one change and owe one message.

- `pending_count` consecutive breaching snapshots make a rule fire; fewer make it pending.
- A firing rule stays firing while its newest snapshot breaches, and resolves when it does not.
- No-data rules breach when the project's newest snapshot arrived longer ago than their period.
"""

from __future__ import annotations

import logging
import math
import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts import delivery
from alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    Message,
    MessageKind,
    MessageStatus,
    RuleKind,
    Silence,
    State,
)
from projects.batches import repeated_snapshots, shared_batches
from projects.models import MetricPoint, MetricSeries, Snapshot, TestOutcome

logger = logging.getLogger(__name__)

CONDITIONS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
    "ne": lambda a, b: not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}
AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "last": lambda values: values[0],
    "avg": lambda values: sum(values) / len(values),
    "min": min,
    "max": max,
    "sum": sum,
}
# Points read for a time-window rule at most (a window holding more is judged on the newest).
MAX_WINDOW_POINTS = 10_000


@dataclass
class Judgement:
    """What the data says of a rule: a breach flag per item, newest first (only as many as the
    rule's pending count needs), and the newest value and snapshot."""

    breaches: list[bool]
    value: float | None
    snapshot_id: int | None
    detail: str = ""


@dataclass
class Change:
    """A change of a rule's state, made by one evaluation."""

    rule: AlertRule
    alert: Alert | None
    from_state: str
    to_state: str
    messages: list[Message]


# ---- judging the data ---------------------------------------------------------------------------


def _judge_metric(rule: AlertRule, depth: int) -> Judgement:
    c = rule.config
    series = MetricSeries.objects.filter(
        project_id=rule.project_id, metric_id=c["metric"], field=c["field"]
    ).first()
    if series is None:
        return Judgement([], None, None, "the metric has not been received")
    compare = CONDITIONS[c["condition"]]
    threshold = float(c["threshold"])
    aggregate = AGGREGATES[c.get("aggregate", "last")]
    window = c.get("window") or {}
    points = MetricPoint.objects.filter(series_id=series.pk).order_by("-timestamp", "-snapshot_id")
    # A batch pushed as several snapshots is one value in a window, not several.
    repeats = repeated_snapshots(series.pk, shared_batches(rule.project_id))
    if repeats:
        points = points.exclude(snapshot_id__in=repeats)
    if window.get("minutes"):
        newest = list(points.values_list("timestamp", flat=True)[:depth])
        if not newest:
            return Judgement([], None, None, "no value yet")
        span = timedelta(minutes=int(window["minutes"]))
        rows = list(
            points.filter(timestamp__gt=newest[-1] - span).values_list(
                "timestamp", "value", "snapshot_id"
            )[:MAX_WINDOW_POINTS]
        )
        values = []
        for at in newest:
            inside = [v for t, v, _ in rows if at - span < t <= at]
            values.append(aggregate(inside) if inside else None)
    else:
        size = max(1, int(window.get("snapshots") or 1))
        rows = list(points.values_list("timestamp", "value", "snapshot_id")[: depth + size - 1])
        if not rows:
            return Judgement([], None, None, "no value yet")
        values = [
            aggregate([v for _, v, _ in rows[i : i + size]]) for i in range(min(depth, len(rows)))
        ]
    breaches = [v is not None and compare(v, threshold) for v in values]
    return Judgement(breaches, values[0], rows[0][2])


_PROBLEMS = {"any": ("FAIL", "ERROR", "WARNING"), "critical": ("FAIL", "ERROR")}


def _judge_tests(rule: AlertRule, depth: int) -> Judgement:
    which = rule.config.get("tests", "any")
    snapshots = Snapshot.objects.filter(project_id=rule.project_id).order_by("-timestamp", "-id")
    if which == "named":
        names = list(rule.config.get("names") or [])
        outcomes = TestOutcome.objects.filter(project_id=rule.project_id, test_id__in=names)
        keys = list(
            snapshots.filter(pk__in=outcomes.values("snapshot_id")).values_list("pk", flat=True)[
                :depth
            ]
        )
        failing: dict[int, int] = defaultdict(int)
        for key in outcomes.filter(snapshot_id__in=keys, status__in=_PROBLEMS["any"]).values_list(
            "snapshot_id", flat=True
        ):
            failing[key] += 1
        counts = [failing[key] for key in keys]
    else:
        rows = list(
            snapshots.exclude(
                tests_success=0, tests_fail=0, tests_warning=0, tests_error=0, tests_skipped=0
            ).values_list("pk", "tests_fail", "tests_error", "tests_warning")[:depth]
        )
        keys = [row[0] for row in rows]
        counts = [
            fail + error + (warning if which == "any" else 0) for _, fail, error, warning in rows
        ]
    if not keys:
        return Judgement([], None, None, "no snapshot with these tests yet")
    return Judgement([n > 0 for n in counts], float(counts[0]), keys[0])


def _judge_no_data(rule: AlertRule, now: datetime) -> Judgement:
    latest = (
        Snapshot.objects.filter(project_id=rule.project_id)
        .order_by("-created_at")
        .values_list("pk", "created_at")
        .first()
    )
    period = timedelta(minutes=int(rule.config["minutes"]))
    if latest is None:
        # A project that never received anything is silent from the rule's creation.
        quiet = now - rule.created_at
        return Judgement([quiet > period], quiet.total_seconds() / 60, None)
    quiet = now - latest[1]
    return Judgement([quiet > period], quiet.total_seconds() / 60, latest[0])


def judge(rule: AlertRule, now: datetime) -> Judgement:
    if rule.kind == RuleKind.NO_DATA:
        return _judge_no_data(rule, now)
    depth = max(1, rule.pending_count)
    if rule.kind == RuleKind.METRIC:
        return _judge_metric(rule, depth)
    return _judge_tests(rule, depth)


def _state(judgement: Judgement, previous: str, needed: int) -> str | None:
    """The state the judgement calls for, or None when there is nothing to judge (keep it)."""
    if not judgement.breaches:
        return None
    streak = 0
    for breach in judgement.breaches:
        if not breach:
            break
        streak += 1
    if streak == 0:
        return State.RESOLVED if previous in (State.FIRING, State.RESOLVED) else State.OK
    if previous == State.FIRING or streak >= needed:
        return State.FIRING
    return State.PENDING


# ---- changing state -----------------------------------------------------------------------------


def silenced(rule: AlertRule, at: datetime | None = None) -> bool:
    return Silence.objects.covering(rule, at).exists()


def _queue(channel: Channel, key: str, kind: str, **fields: Any) -> Message | None:
    """The message `key` for `channel`, created once: None when it exists already."""
    message, created = Message.objects.get_or_create(
        channel=channel, key=key, defaults={"kind": kind, **fields}
    )
    return message if created else None


def notify(alert: Alert, kind: str, key: str) -> list[Message]:
    """Messages of `kind` for the alert's rule's enabled channels (resolve notices only where the
    channel wants them)."""
    channels = alert.rule.channels.filter(enabled=True)
    if kind == MessageKind.RESOLVED:
        channels = channels.filter(send_resolved=True)
    found = [_queue(channel, key, kind, alert=alert) for channel in channels]
    return [m for m in found if m is not None]


def evaluate_rule(rule_id: Any, *, now: datetime | None = None) -> Change | None:
    """Judge one rule against the data and apply the change of state, if any, with its history and
    messages, in one transaction holding the rule's row."""
    now = now or timezone.now()
    with transaction.atomic():
        rule = (
            AlertRule.objects.select_for_update()
            .select_related("project")
            .filter(pk=rule_id, enabled=True)
            .first()
        )
        if rule is None:
            return None
        judgement = judge(rule, now)
        previous = rule.state
        new = _state(judgement, previous, max(1, rule.pending_count))
        rule.last_evaluated_at = now
        if new is None:
            rule.save(update_fields=["last_evaluated_at"])
            return None
        rule.last_value = judgement.value
        rule.last_snapshot_id = judgement.snapshot_id
        rule.state = new
        rule.save(update_fields=["last_evaluated_at", "last_value", "last_snapshot", "state"])
        if new == previous or {previous, new} <= {State.OK, State.RESOLVED}:
            if new in (State.PENDING, State.FIRING):
                Alert.objects.filter(rule=rule, resolved_at__isnull=True).update(
                    value=judgement.value, snapshot_id=judgement.snapshot_id
                )
            return None
        return _apply(rule, previous, new, judgement, now)


def _apply(rule: AlertRule, previous: str, new: str, judgement: Judgement, now: datetime) -> Change:
    alert = Alert.objects.filter(rule=rule, resolved_at__isnull=True).first()
    messages: list[Message] = []
    if new in (State.PENDING, State.FIRING):
        if alert is None:
            alert = Alert.objects.create(
                rule=rule,
                project_id=rule.project_id,
                severity=rule.severity,
                state=new,
                started_at=now,
                value=judgement.value,
                snapshot_id=judgement.snapshot_id,
            )
        alert.state = new
        alert.value = judgement.value
        alert.snapshot_id = judgement.snapshot_id
        if new == State.FIRING:
            alert.fired_at = now
            if not silenced(rule, now):
                messages = notify(alert, MessageKind.FIRING, f"{alert.pk}:firing")
                alert.notified_at = now
        alert.save()
    elif alert is not None:  # back to normal
        alert.state = State.RESOLVED
        alert.resolved_at = now
        alert.value = judgement.value
        alert.save(update_fields=["state", "resolved_at", "value"])
        # A resolve notice only for an alert people were told of.
        if alert.notified_at is not None and not silenced(rule, now):
            messages = notify(alert, MessageKind.RESOLVED, f"{alert.pk}:resolved")
    AlertEvent.objects.create(
        rule=rule,
        alert=alert,
        from_state=previous,
        to_state=new,
        value=judgement.value,
        snapshot_id=judgement.snapshot_id,
        detail=judgement.detail,
        created_at=now,
    )
    logger.info("Alert rule %s (%s): %s -> %s", rule.pk, rule.name, previous, new)
    return Change(rule, alert, previous, new, messages)


def _digest(changes: list[Change]) -> list[Message]:
    """Where many rules of one project fire at once for one channel, one digest instead of a
    message each: their firing messages, not yet attempted, are folded into it."""
    threshold = settings.ALERTS_DIGEST_THRESHOLD
    by_channel: dict[Any, list[Message]] = defaultdict(list)
    for change in changes:
        for message in change.messages:
            if message.kind == MessageKind.FIRING:
                by_channel[message.channel_id].append(message)
    digests = []
    for messages in by_channel.values():
        if len(messages) < threshold:
            continue
        with transaction.atomic():
            folded = list(
                Message.objects.select_for_update()
                .filter(pk__in=[m.pk for m in messages], status=MessageStatus.PENDING, attempts=0)
                .values_list("pk", "alert_id")
            )
            if len(folded) < threshold:
                continue
            Message.objects.filter(pk__in=[pk for pk, _ in folded]).update(
                status=MessageStatus.SKIPPED, error="Sent in a digest."
            )
            alert_ids = sorted(str(alert_id) for _, alert_id in folded)
            digest = _queue(
                messages[0].channel,
                f"digest:{alert_ids[0]}:{len(alert_ids)}",
                MessageKind.DIGEST,
                digest_of=alert_ids,
            )
            if digest is not None:
                digests.append(digest)
    return digests


def evaluate_project(project_id: Any, *, kinds: tuple[str, ...] | None = None) -> list[Change]:
    """Evaluate the project's enabled rules (of `kinds`, or all), fold simultaneous firings into
    digests, and queue the messages for delivery once committed."""
    rules = AlertRule.objects.filter(project_id=project_id, enabled=True)
    if kinds:
        rules = rules.filter(kind__in=kinds)
    changes = [c for c in (evaluate_rule(pk) for pk in rules.values_list("pk", flat=True)) if c]
    digests = _digest(changes)
    # The messages folded into a digest are SKIPPED by now: what is still pending goes out.
    candidates = [m.pk for c in changes for m in c.messages] + [d.pk for d in digests]
    pending = list(
        Message.objects.filter(pk__in=candidates, status=MessageStatus.PENDING).values_list(
            "pk", flat=True
        )
    )
    for message_id in pending:
        delivery.queue_delivery(message_id)
    return changes


def evaluate_no_data() -> int:
    """Every minute (beat): the no-data rules of every project."""
    projects = (
        AlertRule.objects.filter(kind=RuleKind.NO_DATA, enabled=True)
        .values_list("project_id", flat=True)
        .distinct()
    )
    return sum(len(evaluate_project(p, kinds=(RuleKind.NO_DATA,))) for p in projects)


def send_reminders(now: datetime | None = None) -> int:
    """Every minute (beat): firing alerts owed a reminder (their rule's repeat interval has passed
    since they were last told of), and firing alerts never told of because they were silenced
    when they fired, now that the silence is over."""
    now = now or timezone.now()
    queued = 0
    # Only the alerts that may be owed something: never told of, or with a repeat interval and
    # told at least a minute ago (the shortest interval; the exact one is checked below, a
    # product of a column and an interval being beyond SQLite). Alerts that are never repeated
    # cost nothing here.
    owed = Alert.objects.filter(
        state=State.FIRING, resolved_at__isnull=True, rule__enabled=True
    ).filter(
        Q(notified_at__isnull=True)
        | Q(rule__repeat_minutes__gt=0, notified_at__lte=now - timedelta(minutes=1))
    )
    for alert_id in owed.values_list("pk", flat=True):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update()
                .select_related("rule")
                .filter(pk=alert_id, state=State.FIRING, resolved_at__isnull=True)
                .first()
            )
            if alert is None or not alert.rule.enabled or silenced(alert.rule, now):
                continue
            if alert.notified_at is None:
                messages = notify(alert, MessageKind.FIRING, f"{alert.pk}:firing")
                alert.notified_at = now
                alert.save(update_fields=["notified_at"])
            elif alert.rule.repeat_minutes and alert.notified_at <= now - timedelta(
                minutes=alert.rule.repeat_minutes
            ):
                number = alert.reminders + 1
                messages = notify(alert, MessageKind.REMINDER, f"{alert.pk}:reminder:{number}")
                Alert.objects.filter(pk=alert.pk).update(
                    reminders=F("reminders") + 1, notified_at=now
                )
            else:
                continue
            ids = [m.pk for m in messages]
        for message_id in ids:
            delivery.queue_delivery(message_id)
        queued += len(ids)
    return queued
