"""API representations of alerts' channels, rules, alerts and silences, and the input classes that
document what the API takes (`alerts.validation` checks it, with the same limits)."""

from __future__ import annotations

from typing import Any

from django.db.models import TextChoices
from django.utils import timezone
from rest_framework import serializers

from alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    ChannelKind,
    Message,
    MessageKind,
    Notification,
    RuleKind,
    Severity,
    Silence,
    State,
)
from alerts.validation import (
    CHANNEL_NAME_MAX_LENGTH,
    DEFAULT_PENDING_COUNT,
    DEFAULT_REPEAT_MINUTES,
    DEFAULT_SEVERITY,
    MAX_PENDING_COUNT,
    MAX_REPEAT_MINUTES,
    MAX_RULE_CHANNELS,
    MIN_PENDING_COUNT,
    MIN_REPEAT_MINUTES,
    RULE_FIELDS,
    RULE_NAME_MAX_LENGTH,
    SILENCE_REASON_MAX_LENGTH,
)
from mlplatform.accounts.serializers import linked


def _one_of(choices: type[TextChoices], **kwargs: Any) -> serializers.CharField:
    """A choice as text, its values in the description: channels, rules and messages all have a
    `kind`, of different sets, which the schema would otherwise number (KindA59Enum)."""
    return serializers.CharField(help_text=f"One of: {', '.join(choices.values)}.", **kwargs)


# ---- representations ----------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["attempt", "status", "error", "http_status", "started_at", "finished_at"]


class MessageSerializer(serializers.ModelSerializer):
    channel = serializers.UUIDField(source="channel_id", read_only=True)
    alert = serializers.UUIDField(source="alert_id", read_only=True, allow_null=True)
    kind = _one_of(MessageKind, read_only=True)
    notifications = NotificationSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "channel",
            "alert",
            "kind",
            "status",
            "attempts",
            "error",
            "created_at",
            "sent_at",
            "notifications",
        ]


class LastMessageSerializer(serializers.ModelSerializer):
    kind = _one_of(MessageKind, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "kind", "status", "error", "created_at", "sent_at"]


class ChannelSerializer(serializers.ModelSerializer):
    """A channel. Its config (with a Slack or webhook URL, whose path is a credential) is shown to
    those who may change it; readers see the target host only."""

    organization = serializers.UUIDField(source="organization_id", read_only=True)
    kind = _one_of(ChannelKind, read_only=True)
    config = serializers.SerializerMethodField()
    target = serializers.CharField(read_only=True)
    last_message = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "id",
            "organization",
            "kind",
            "name",
            "target",
            "config",
            "send_resolved",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "created_at",
            "last_message",
        ]

    def get_config(self, channel: Channel) -> dict[str, Any] | None:
        if channel.kind != ChannelKind.EMAIL and not self.context.get("reveal"):
            return None
        return channel.config

    def get_last_message(self, channel: Channel) -> dict[str, Any] | None:
        latest = self.context.get("latest")
        message = (
            latest.get(channel.pk)
            if latest is not None
            else channel.messages.order_by("-created_at").first()
        )
        return LastMessageSerializer(message).data if message else None


class RuleSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    kind = _one_of(RuleKind, read_only=True)
    description = serializers.CharField(source="describe", read_only=True)
    channels = serializers.SerializerMethodField()
    last_snapshot = linked("last_snapshot", "uuid", serializers.UUIDField)

    class Meta:
        model = AlertRule
        # The fields a rule is written with (`clean_rule` checks them), then those it reports.
        fields = [
            "id",
            "project",
            *RULE_FIELDS,
            "description",
            "state",
            "last_value",
            "last_evaluated_at",
            "last_snapshot",
            "created_at",
        ]

    def get_channels(self, rule: AlertRule) -> list[str]:
        return [str(channel.pk) for channel in rule.channels.all()]


class EventSerializer(serializers.ModelSerializer):
    alert = serializers.UUIDField(source="alert_id", read_only=True, allow_null=True)
    from_state = _one_of(State, read_only=True)
    to_state = _one_of(State, read_only=True)
    snapshot = linked("snapshot", "uuid", serializers.UUIDField)

    class Meta:
        model = AlertEvent
        fields = [
            "id",
            "alert",
            "from_state",
            "to_state",
            "value",
            "snapshot",
            "detail",
            "created_at",
        ]


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.UUIDField(source="rule_id", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    project = serializers.UUIDField(source="project_id", read_only=True)
    snapshot = linked("snapshot", "uuid", serializers.UUIDField)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "project",
            "severity",
            "state",
            "started_at",
            "fired_at",
            "resolved_at",
            "value",
            "snapshot",
        ]


class AlertDetailSerializer(AlertSerializer):
    events = EventSerializer(many=True, read_only=True)
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "events", "messages"]


class SilenceSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    rule = serializers.UUIDField(source="rule_id", read_only=True, allow_null=True)
    created_by = linked("created_by", "email", serializers.EmailField)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Silence
        fields = [
            "id",
            "project",
            "rule",
            "starts_at",
            "ends_at",
            "reason",
            "active",
            "created_by",
            "created_at",
        ]

    def get_active(self, silence: Silence) -> bool:
        return silence.starts_at <= timezone.now() < silence.ends_at


# ---- input, for the schema: alerts.validation checks it, with the limits these fields read ------


class ChannelInput(serializers.Serializer):
    kind = _one_of(ChannelKind)
    name = serializers.CharField(max_length=CHANNEL_NAME_MAX_LENGTH)
    config = serializers.DictField(
        help_text='email: {"addresses": [...], "roles": [...]}; slack and webhook: {"url": ...}.'
    )
    send_resolved = serializers.BooleanField(required=False, default=True)


class RuleInput(serializers.Serializer):
    name = serializers.CharField(max_length=RULE_NAME_MAX_LENGTH)
    kind = _one_of(RuleKind)
    config = serializers.DictField(help_text="By kind: see docs/alerts.md.")
    severity = serializers.ChoiceField(choices=Severity.choices, default=DEFAULT_SEVERITY)
    pending_count = serializers.IntegerField(
        min_value=MIN_PENDING_COUNT, max_value=MAX_PENDING_COUNT, default=DEFAULT_PENDING_COUNT
    )
    repeat_minutes = serializers.IntegerField(
        min_value=MIN_REPEAT_MINUTES, max_value=MAX_REPEAT_MINUTES, default=DEFAULT_REPEAT_MINUTES
    )
    channels = serializers.ListField(
        child=serializers.UUIDField(), default=list, max_length=MAX_RULE_CHANNELS
    )
    enabled = serializers.BooleanField(default=True)


class SilenceInput(serializers.Serializer):
    rule = serializers.UUIDField(required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(
        max_length=SILENCE_REASON_MAX_LENGTH, required=False, allow_blank=True
    )
