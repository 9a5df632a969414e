"""Checking the input of alert rules, channels and silences: the one place, for pages and the API."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from alerts.evaluation import AGGREGATES, CONDITIONS
from alerts.models import AlertRule, Channel, ChannelKind, RuleKind, Severity, Silence
from mlplatform.accounts.access import parse_uuid
from mlplatform.accounts.models import Organization, Role
from mlplatform.accounts.validation import column_max_length
from mlplatform.instants import in_utc
from projects.models import MetricSeries, Project, TestOutcome

RULE_FIELDS = (
    "name",
    "kind",
    "config",
    "severity",
    "pending_count",
    "repeat_minutes",
    "channels",
    "enabled",
)
CHANNEL_FIELDS = ("kind", "name", "config", "send_resolved")
SILENCE_FIELDS = ("rule", "starts_at", "ends_at", "reason")
RULE_CONFIG_FIELDS = {
    RuleKind.TESTS_FAILED: ("tests", "names"),
    RuleKind.METRIC: ("metric", "field", "condition", "threshold", "aggregate", "window"),
    RuleKind.NO_DATA: ("minutes",),
}
CHANNEL_CONFIG_FIELDS = {
    ChannelKind.EMAIL: ("addresses", "roles"),
    ChannelKind.SLACK: ("url",),
    ChannelKind.WEBHOOK: ("url",),
}
# Each field's rule and limit, stated once: `alerts.forms` and the API's input classes
# (`alerts.serializers`) build their fields from these.
RULE_NAME_MAX_LENGTH = column_max_length(AlertRule, "name")
CHANNEL_NAME_MAX_LENGTH = column_max_length(Channel, "name")
SILENCE_REASON_MAX_LENGTH = column_max_length(Silence, "reason")
METRIC_ID_MAX_LENGTH = column_max_length(MetricSeries, "metric_id")
METRIC_FIELD_MAX_LENGTH = column_max_length(MetricSeries, "field")
TEST_ID_MAX_LENGTH = column_max_length(TestOutcome, "test_id")
URL_MAX_LENGTH = 2000

DEFAULT_SEVERITY = Severity.WARNING
MIN_PENDING_COUNT, MAX_PENDING_COUNT, DEFAULT_PENDING_COUNT = 1, 100, 1
MIN_REPEAT_MINUTES, MAX_REPEAT_MINUTES, DEFAULT_REPEAT_MINUTES = 0, 10_080, 0  # up to a week
MAX_MINUTES = 525_600  # a year: a no-data rule's wait, a window in minutes
MAX_WINDOW_SNAPSHOTS = 1000
MAX_RULE_CHANNELS = 20

TEST_SELECTIONS = ("any", "critical", "named")
DEFAULT_TEST_SELECTION = "any"
MAX_TEST_NAMES = 100
CONDITION_NAMES = tuple(CONDITIONS)
AGGREGATE_NAMES = tuple(AGGREGATES)
DEFAULT_AGGREGATE = "last"
# A window's kinds and their largest size (each at least 1).
WINDOW_LIMITS = {"snapshots": MAX_WINDOW_SNAPSHOTS, "minutes": MAX_MINUTES}

MAX_ADDRESSES = 20
MAX_SILENCE = timedelta(days=365)


class _Errors:
    """Errors gathered field by field, so that one answer names every field to fix."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def check(self, field: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
        """`parse(*args, **kwargs)`, or None with its complaint recorded against `field`."""
        try:
            return parse(*args, **kwargs)
        except ValidationError as exc:
            for message in exc.messages:
                self.add(field, message)
            return None

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _object(data: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    unknown = sorted(set(data) - set(fields))
    if unknown:
        expected = ", ".join(fields)
        raise ValidationError({name: [f"Unknown field; expected {expected}."] for name in unknown})
    return data


def _text(value: Any, max_length: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError("Expected text.")
    value = value.strip()
    if "\x00" in value:  # PostgreSQL stores no NUL, in text or in JSON
        raise ValidationError("Null characters are not allowed.")
    if required and not value:
        raise ValidationError("This field is required.")
    if len(value) > max_length:
        raise ValidationError(f"At most {max_length} characters.")
    return value


def _choice(value: Any, choices: list[str] | tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(f"Expected one of: {', '.join(choices)}.")
    return value


def _whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"Expected a whole number from {low} to {high}.")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("Expected true or false.")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError("Expected a finite number.")
    return float(value)


def _list(value: Any, max_items: int, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(f"Expected a list of {what}.")
    if len(value) > max_items:
        raise ValidationError(f"At most {max_items} {what}.")
    return value


def _datetime(value: Any, *, required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            raise ValidationError("This field is required.")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{value!r} is not an ISO 8601 date and time, e.g. 2026-11-01T00:00:00Z."
            ) from None
    if not isinstance(value, datetime):
        raise ValidationError("Expected an ISO 8601 date and time, e.g. 2026-11-01T00:00:00Z.")
    try:
        return in_utc(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


# ---- rules --------------------------------------------------------------------------------------


def _rule_values(rule: AlertRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "config": rule.config,
        "severity": rule.severity,
        "pending_count": rule.pending_count,
        "repeat_minutes": rule.repeat_minutes,
        "channels": [str(pk) for pk in rule.channels.values_list("pk", flat=True)],
        "enabled": rule.enabled,
    }


def _channels(organization: Organization, value: Any) -> list[Channel]:
    ids = _list(value, MAX_RULE_CHANNELS, "channel ids")
    parsed = [parse_uuid(raw) for raw in ids]
    found = {
        channel.pk: channel
        for channel in Channel.objects.filter(
            organization=organization, pk__in=[pk for pk in parsed if pk is not None]
        )
    }
    for raw, pk in zip(ids, parsed, strict=True):
        if pk not in found:
            raise ValidationError(f"No channel {raw} in this organisation.")
    return list(dict.fromkeys(found[pk] for pk in parsed if pk is not None))


def _tests_config(project: Project, config: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    which = errors.check(
        "config.tests", _choice, config.get("tests", DEFAULT_TEST_SELECTION), TEST_SELECTIONS
    )
    names = config.get("names")
    if which != "named":
        if names:
            errors.add("config.names", 'Names are for "tests": "named"; leave them out.')
        return {"tests": which}
    names = errors.check("config.names", _list, names or [], MAX_TEST_NAMES, "test ids")
    if names is None:
        return {}
    if not names:
        errors.add("config.names", "Name at least one test (its id).")
        return {}
    if not all(
        isinstance(n, str) and 0 < len(n) <= TEST_ID_MAX_LENGTH and "\x00" not in n for n in names
    ):
        errors.add(
            "config.names", f"Expected test ids: text of at most {TEST_ID_MAX_LENGTH} characters."
        )
        return {}
    names = list(dict.fromkeys(names))
    known = set(
        TestOutcome.objects.filter(project_id=project.pk, test_id__in=names)
        .values_list("test_id", flat=True)
        .distinct()
    )
    missing = [name for name in names if name not in known]
    if missing:
        errors.add("config.names", f"No test {missing[0]!r} in this project's snapshots.")
    return {"tests": which, "names": names}


def _window(value: Any) -> dict[str, int] | None:
    if value is None or value == {}:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise ValidationError('Expected {"snapshots": N} or {"minutes": M}, or null.')
    ((key, size),) = value.items()
    if key in WINDOW_LIMITS:
        return {key: _whole(size, 1, WINDOW_LIMITS[key])}
    raise ValidationError('Expected {"snapshots": N} or {"minutes": M}, or null.')


def _metric_config(project: Project, config: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    metric = errors.check("config.metric", _text, config.get("metric"), METRIC_ID_MAX_LENGTH)
    field = errors.check("config.field", _text, config.get("field"), METRIC_FIELD_MAX_LENGTH)
    condition = errors.check("config.condition", _choice, config.get("condition"), CONDITION_NAMES)
    threshold = errors.check("config.threshold", _number, config.get("threshold"))
    aggregate = errors.check(
        "config.aggregate", _choice, config.get("aggregate", DEFAULT_AGGREGATE), AGGREGATE_NAMES
    )
    window = errors.check("config.window", _window, config.get("window"))
    if "config.window" not in errors.by_field:
        if aggregate == "last" and window:
            errors.add(
                "config.window",
                '"last" judges the newest value: leave the window out, or aggregate with avg, '
                "min, max or sum.",
            )
        elif aggregate not in (None, "last") and window is None:
            errors.add(
                "config.window",
                f'"{aggregate}" needs a window: {{"snapshots": N}} or {{"minutes": M}}.',
            )
    if metric and field:
        series = MetricSeries.objects.filter(project=project, metric_id=metric)
        fields = list(series.values_list("field", flat=True)[:200])
        if not fields:
            errors.add(
                "config.metric",
                f"No metric {metric!r} in this project; pick one it has received "
                f"(GET /api/v1/projects/{project.pk}/metrics).",
            )
        elif field not in fields and not series.filter(field=field).exists():
            errors.add(
                "config.field",
                f"The metric has no field {field!r}; it has {', '.join(sorted(fields)[:10])}"
                f"{'…' if len(fields) > 10 else ''}.",
            )
    return {
        "metric": metric,
        "field": field,
        "condition": condition,
        "threshold": threshold,
        "aggregate": aggregate,
        "window": window,
    }


def _no_data_config(config: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    return {
        "minutes": errors.check("config.minutes", _whole, config.get("minutes"), 1, MAX_MINUTES)
    }


def _config_object(
    config: Any, kind: str, what: str, expected: tuple[str, ...], errors: _Errors
) -> bool:
    """Whether `config` is an object, for a `what` (rule, channel) of `kind`; its fields that the
    kind does not have are reported."""
    if not isinstance(config, dict):
        errors.add("config", f"Expected an object: the settings of the {what}'s kind.")
        return False
    for key in sorted(set(config) - set(expected)):
        errors.add(
            f"config.{key}", f"Unknown field for a {kind} {what}; expected {', '.join(expected)}."
        )
    return True


def _rule_config(project: Project, kind: str, config: Any, errors: _Errors) -> dict[str, Any]:
    if not _config_object(config, kind, "rule", RULE_CONFIG_FIELDS[RuleKind(kind)], errors):
        return {}
    if kind == RuleKind.TESTS_FAILED:
        return _tests_config(project, config, errors)
    if kind == RuleKind.METRIC:
        return _metric_config(project, config, errors)
    return _no_data_config(config, errors)


def clean_rule(project: Project, data: Any, *, rule: AlertRule | None = None) -> dict[str, Any]:
    """The rule's fields, checked: name, kind, config, severity, pending_count, repeat_minutes,
    channels (Channel rows) and enabled. With `rule`, fields left out keep its values (a kind
    change needs the new kind's config); its config is checked again only when given.

    Raises ValidationError({field: messages}); config fields are named `config.<key>`.
    """
    data = _object(data, RULE_FIELDS)
    values = {**_rule_values(rule), **data} if rule is not None else data
    errors = _Errors()
    name = errors.check("name", _text, values.get("name"), RULE_NAME_MAX_LENGTH)
    kind = errors.check("kind", _choice, values.get("kind"), RuleKind.values)
    severity = errors.check(
        "severity", _choice, values.get("severity", DEFAULT_SEVERITY), Severity.values
    )
    pending_count = errors.check(
        "pending_count",
        _whole,
        values.get("pending_count", DEFAULT_PENDING_COUNT),
        MIN_PENDING_COUNT,
        MAX_PENDING_COUNT,
    )
    repeat_minutes = errors.check(
        "repeat_minutes",
        _whole,
        values.get("repeat_minutes", DEFAULT_REPEAT_MINUTES),
        MIN_REPEAT_MINUTES,
        MAX_REPEAT_MINUTES,
    )
    enabled = errors.check("enabled", _boolean, values.get("enabled", True))
    channels = errors.check("channels", _channels, project.organization, values.get("channels", []))
    config: dict[str, Any] = {}
    if rule is not None and "config" not in data:
        if kind is not None and kind != rule.kind:
            errors.add("config", f"A rule changing its kind to {kind} needs that kind's config.")
        config = rule.config
    elif kind is not None:
        if "config" not in values and kind != RuleKind.TESTS_FAILED:
            errors.add("config", "This field is required.")
        else:
            config = _rule_config(project, kind, values.get("config", {}), errors)
    errors.raise_any()
    return {
        "name": name,
        "kind": kind,
        "config": config,
        "severity": severity,
        "pending_count": pending_count,
        "repeat_minutes": repeat_minutes,
        "channels": channels,
        "enabled": enabled,
    }


# ---- channels -----------------------------------------------------------------------------------


def _email_config(config: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    addresses = errors.check(
        "config.addresses", _list, config.get("addresses", []), MAX_ADDRESSES, "addresses"
    )
    roles = errors.check("config.roles", _list, config.get("roles", []), len(Role.values), "roles")
    clean_addresses: list[str] = []
    for address in addresses or []:
        if not isinstance(address, str):
            errors.add("config.addresses", "Expected email addresses.")
            break
        try:
            validate_email(address.strip())
        except ValidationError:
            errors.add("config.addresses", f"{address!r} is not a valid email address.")
            break
        clean_addresses.append(address.strip())
    for role in roles or []:
        if role not in Role.values:
            errors.add("config.roles", f"Unknown role {role!r}; expected {', '.join(Role.values)}.")
            break
    if addresses == [] and roles == []:
        errors.add("config.addresses", "Give addresses, roles whose members get the mail, or both.")
    return {
        "addresses": list(dict.fromkeys(clean_addresses)),
        "roles": [r for r in Role.values if r in (roles or [])],
    }


def _url_config(config: dict[str, Any], errors: _Errors, *, slack: bool) -> dict[str, Any]:
    # Imported here: alerts.outbound is the one gate for outgoing URLs, and heavy with network code.
    from alerts.outbound import check_url

    url = errors.check("config.url", _text, config.get("url"), URL_MAX_LENGTH)
    if url:
        url = errors.check("config.url", check_url, url, slack=slack)
    return {"url": url}


def _channel_config(kind: str, config: Any, errors: _Errors) -> dict[str, Any]:
    if not _config_object(
        config, kind, "channel", CHANNEL_CONFIG_FIELDS[ChannelKind(kind)], errors
    ):
        return {}
    if kind == ChannelKind.EMAIL:
        return _email_config(config, errors)
    return _url_config(config, errors, slack=kind == ChannelKind.SLACK)


def clean_channel(
    organization: Organization, data: Any, *, channel: Channel | None = None
) -> dict[str, Any]:
    """The channel's fields, checked: kind, name, config and send_resolved. Slack and webhook URLs
    pass `alerts.outbound.check_url`. With `channel`, fields left out keep its values; the kind
    cannot change, and the config is checked again only when given.

    Raises ValidationError({field: messages}); config fields are named `config.<key>`.
    """
    data = _object(data, CHANNEL_FIELDS)
    errors = _Errors()
    if channel is not None:
        kind = channel.kind
        if "kind" in data and data["kind"] != channel.kind:
            errors.add("kind", "A channel's kind cannot change; create a new channel instead.")
    else:
        kind = errors.check("kind", _choice, data.get("kind"), ChannelKind.values)
    name = errors.check(
        "name",
        _text,
        data.get("name", channel.name if channel else None),
        CHANNEL_NAME_MAX_LENGTH,
    )
    send_resolved = errors.check(
        "send_resolved",
        _boolean,
        data.get("send_resolved", channel.send_resolved if channel else True),
    )
    config: dict[str, Any] = {}
    if channel is not None and "config" not in data:
        config = channel.config
    elif kind is not None:
        if "config" not in data:
            errors.add("config", "This field is required.")
        else:
            config = _channel_config(kind, data["config"], errors)
    errors.raise_any()
    return {"kind": kind, "name": name, "config": config, "send_resolved": send_resolved}


# ---- silences -----------------------------------------------------------------------------------


def _rule_of(project: Project, value: Any) -> AlertRule | None:
    if value is None or value == "":
        return None
    rule = AlertRule.objects.filter(
        project=project,
        pk=parse_uuid(value),  # type: ignore[misc]  # None is a valid lookup: it matches nothing
    ).first()
    if parse_uuid(value) is None or rule is None:
        raise ValidationError("No such alert rule in this project.")
    return rule


def clean_silence(project: Project, data: Any) -> dict[str, Any]:
    """A silence's fields, checked: rule (None mutes the whole project), starts_at (default now),
    ends_at (after starts_at and in the future, at most a year later) and reason."""
    data = _object(data, SILENCE_FIELDS)
    errors = _Errors()
    now = timezone.now()
    rule = errors.check("rule", _rule_of, project, data.get("rule"))
    starts_at = errors.check("starts_at", _datetime, data.get("starts_at"), required=False)
    ends_at = errors.check("ends_at", _datetime, data.get("ends_at"), required=True)
    reason = errors.check(
        "reason", _text, data.get("reason"), SILENCE_REASON_MAX_LENGTH, required=False
    )
    start = starts_at or now
    if ends_at is not None and "starts_at" not in errors.by_field:
        if ends_at <= now:
            errors.add("ends_at", "That time has passed.")
        elif ends_at <= start:
            errors.add("ends_at", "The end must come after the start.")
        elif ends_at - start > MAX_SILENCE:
            errors.add("ends_at", "A silence lasts at most a year.")
        elif start - now > MAX_SILENCE:
            errors.add("starts_at", "Schedule at most a year ahead.")
    errors.raise_any()
    return {"rule": rule, "starts_at": start, "ends_at": ends_at, "reason": reason or ""}
