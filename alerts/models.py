"""Alert rules and their state, alerts and their history, notification channels, the messages sent
through them and each delivery attempt, and silences.

- An `AlertRule` belongs to a project; its state (ok, pending, firing, resolved) is recomputed from
  the data after each snapshot (and every minute for "no data" rules) by `alerts.evaluation`.
- An `Alert` is one episode of a rule: from its first breach to its recovery. `AlertEvent`s are its
  history: every change of state, with the value and threshold at the time.
- A `Channel` belongs to an organisation: email, a Slack incoming webhook or a signed webhook.
- A `Message` is one thing to tell one channel ("rule X fires"), unique by its key, so it is never
  created twice; each `Notification` is one attempt to deliver it, with its outcome.
- A `Silence` mutes a rule or a whole project from one time to another (a maintenance window is a
  silence that starts later).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mlplatform.accounts.models import Organization, Role
from projects.models import Project, Snapshot


class Severity(models.TextChoices):
    WARNING = "warning"
    CRITICAL = "critical"


class RuleKind(models.TextChoices):
    TESTS_FAILED = "tests_failed", "Tests failed"
    METRIC = "metric", "Metric threshold"
    NO_DATA = "no_data", "No data"


class State(models.TextChoices):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    WEBHOOK = "webhook", "Webhook"


def _webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Channel(models.Model):
    """Where an organisation's alerts go. `config` by kind:

    - email: {"addresses": [...], "roles": ["owner", "admin", ...]} (members with those roles);
    - slack: {"url": "https://hooks.slack.com/services/..."};
    - webhook: {"url": "https://..."}; requests are signed with `secret` (HMAC-SHA256).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict)
    secret = models.CharField(max_length=100, default=_webhook_secret, editable=False)
    send_resolved = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    # Why delivery stopped for good (Slack said the webhook is gone, ...), shown in the UI.
    disabled_reason = models.TextField(blank=True, max_length=2000)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def disable(self, reason: str) -> bool:
        """Stop delivering to this channel; False when it was already disabled."""
        changed = Channel.objects.filter(pk=self.pk, enabled=True).update(
            enabled=False, disabled_reason=reason[:2000], disabled_at=timezone.now()
        )
        self.refresh_from_db(fields=["enabled", "disabled_reason", "disabled_at"])
        return bool(changed)

    def enable(self) -> None:
        Channel.objects.filter(pk=self.pk).update(
            enabled=True, disabled_reason="", disabled_at=None
        )
        self.refresh_from_db(fields=["enabled", "disabled_reason", "disabled_at"])

    @property
    def target(self) -> str:
        """What the channel sends to, for people (the URL's host only: the path is a secret)."""
        if self.kind == ChannelKind.EMAIL:
            parts = list(self.config.get("addresses", []))
            parts += [f"every {role}" for role in self.config.get("roles", [])]
            return ", ".join(parts)
        from urllib.parse import urlsplit

        return urlsplit(self.config.get("url", "")).hostname or ""

    def email_recipients(self) -> list[str]:
        """The addresses an email channel reaches: its own and its members' by role."""
        addresses = [a for a in self.config.get("addresses", []) if a]
        roles = [r for r in self.config.get("roles", []) if r in Role.values]
        return list(dict.fromkeys(addresses + members_with_roles(self.organization, roles)))


def members_with_roles(organization: Organization, roles: list[str]) -> list[str]:
    """The email addresses of the organisation's active members with these roles."""
    if not roles:
        return []
    return list(
        organization.memberships.filter(role__in=roles, user__is_active=True)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


class AlertRule(models.Model):
    """A condition over a project's snapshots. `config` by kind:

    - tests_failed: {"tests": "any" | "critical" | "named", "names": [test ids]};
    - metric: {"metric", "field", "condition": gt|gte|lt|lte|eq|ne, "threshold",
      "aggregate": last|avg|min|max|sum, "window": {"snapshots": N} or {"minutes": M}};
    - no_data: {"minutes": M}: no snapshot has arrived for M minutes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    config = models.JSONField(default=dict)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    # Fire after this many consecutive breaching snapshots (1: at once).
    pending_count = models.PositiveIntegerField(default=1)
    # While firing, remind every this many minutes (0: never).
    repeat_minutes = models.PositiveIntegerField(default=0)
    channels = models.ManyToManyField(Channel, blank=True, related_name="rules")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The state, as the last evaluation found it.
    state = models.CharField(max_length=16, choices=State.choices, default=State.OK)
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_snapshot = models.ForeignKey(
        Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def describe(self) -> str:
        """The rule in one line, for pages and messages."""
        c = self.config
        if self.kind == RuleKind.TESTS_FAILED:
            which = c.get("tests", "any")
            if which == "named":
                return f"Any of {len(c.get('names', []))} named tests fails"
            return "A critical test fails" if which == "critical" else "Any test fails or warns"
        if self.kind == RuleKind.NO_DATA:
            return f"No snapshot for {c.get('minutes')} minutes"
        symbol = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "eq": "=", "ne": "≠"}
        window = c.get("window") or {}
        over = (
            f" over the last {window['snapshots']} snapshots"
            if window.get("snapshots")
            else f" over the last {window['minutes']} minutes"
            if window.get("minutes")
            else ""
        )
        aggregate = c.get("aggregate", "last")
        what = f"{c.get('metric')} {c.get('field')}"
        head = what if aggregate == "last" and not over else f"{aggregate} of {what}{over}"
        return f"{head} {symbol.get(c.get('condition', ''), '?')} {c.get('threshold')}"


class Alert(models.Model):
    """One episode of a rule: from its first breach (pending) through firing to its recovery."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alerts")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    state = models.CharField(max_length=16, choices=State.choices)
    started_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)  # at the last change
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Firing notices sent (the first, then each reminder), for the repeat interval.
    notified_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # At most one open episode per rule, whatever two workers do at once.
            models.UniqueConstraint(
                fields=["rule"], condition=Q(resolved_at__isnull=True), name="one_open_alert"
            )
        ]
        indexes = [models.Index(fields=["project", "-started_at"], name="alert_project_time")]

    def __str__(self) -> str:
        return f"{self.rule} ({self.state})"


class AlertEvent(models.Model):
    """A change of a rule's state: its history."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events", null=True)
    from_state = models.CharField(max_length=16, choices=State.choices)
    to_state = models.CharField(max_length=16, choices=State.choices)
    value = models.FloatField(null=True, blank=True)
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule}: {self.from_state} → {self.to_state}"


class MessageKind(models.TextChoices):
    FIRING = "firing"
    RESOLVED = "resolved"
    REMINDER = "reminder"
    DIGEST = "digest"
    TEST = "test"


class MessageStatus(models.TextChoices):
    PENDING = "pending"  # waiting for its next attempt
    SENT = "sent"
    FAILED = "failed"  # gave up: a permanent error, or out of attempts
    SILENCED = "silenced"  # not sent: the rule or project was muted
    SKIPPED = "skipped"  # not sent: the channel was disabled, or part of a digest


class Message(models.Model):
    """One thing to tell one channel. `key` makes it unique per channel: the firing notice of an
    alert is created once however many workers evaluate the rule."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    # For a digest: the alerts it tells of (their own firing messages are SKIPPED into it).
    digest_of = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="one_message_per_key")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="message_due",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.channel} ({self.status})"


class NotificationStatus(models.TextChoices):
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"  # a transient failure: another attempt follows
    FAILED = "failed"  # a permanent failure, or the last attempt


class Notification(models.Model):
    """One delivery attempt of a message: (message, attempt) is unique, so no attempt is made
    twice, and its outcome is kept."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="notifications")
    attempt = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.SENDING
    )
    error = models.TextField(blank=True, max_length=2000)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["message", "attempt"], name="one_attempt_each")
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.message_id}: {self.status}"


class SilenceQuerySet(models.QuerySet["Silence"]):
    def active(self, at: datetime | None = None) -> SilenceQuerySet:
        at = at or timezone.now()
        return self.filter(starts_at__lte=at, ends_at__gt=at)

    def covering(self, rule: AlertRule, at: datetime | None = None) -> SilenceQuerySet:
        """The silences muting `rule` at `at`: its own and its project's."""
        return (
            self.active(at)
            .filter(project_id=rule.project_id)
            .filter(Q(rule__isnull=True) | Q(rule=rule))
        )


class Silence(models.Model):
    """No notifications for a rule (or every rule of a project) from `starts_at` to `ends_at`.
    Rules are still evaluated; an alert still firing when the silence ends is notified then."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="silences")
    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, null=True, blank=True, related_name="silences"
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SilenceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"silence of {self.rule or self.project} until {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def is_maintenance(self) -> bool:
        """A window planned ahead, rather than a mute from now."""
        return self.starts_at > self.created_at + timedelta(minutes=1)


def describe_value(value: Any) -> str:
    if value is None:
        return "no value"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
