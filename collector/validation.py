"""The one check of a collector's settings, for the pages and the API: errors name the field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from collector.models import Collector
from collector.runs import QUALITY_PRESETS, parse_cron
from metrics.core.definition import DEFINITION_FIELDS
from metrics.presets import PRESETS
from mlplatform.accounts.validation import column_max_length

FIELDS = (
    "name",
    "presets",
    "quality_presets",
    "definition",
    "drift_share",
    "pos_label",
    "every_minutes",
    "every_rows",
    "cron",
    "labels_window_hours",
    "retention_hours",
    "enabled",
)
# Each field's rule and limit, stated once: `collector.forms` reads these.
NAME_MAX_LENGTH = column_max_length(Collector, "name")
CRON_MAX_LENGTH = column_max_length(Collector, "cron")
MAX_EVERY_MINUTES = 7 * 24 * 60  # a week
MAX_EVERY_ROWS = 10_000_000
MAX_HOURS = 24 * 366  # a labels window or a retention: a year
DEFAULT_LABELS_WINDOW_HOURS = 168  # a week
DEFAULT_RETENTION_HOURS = 24
DEFAULT_PRESETS = ("data_drift",)
DEFAULT_QUALITY_PRESETS = ("classification",)
# `drift_share` is a number in (0, 1]: a share of the columns.

_LIST_FIELDS = {
    "numerical_columns",
    "categorical_columns",
    "text_columns",
    "datetime_columns",
    "exclude",
}


def _whole(
    errors: dict[str, str], data: dict[str, Any], name: str, low: int, high: int
) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = f"Expected a whole number from {low:,} to {high:,}."
        return None
    return value


def _names(
    errors: dict[str, str],
    data: dict[str, Any],
    name: str,
    allowed: tuple[str, ...] | list[str],
    default: tuple[str, ...],
) -> list[str]:
    value = data.get(name, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[name] = f"Expected a list of names from: {', '.join(allowed)}."
        return list(default)
    unknown = [v for v in value if v not in allowed]
    if unknown:
        errors[name] = f"Unknown {unknown[0]!r}; use {', '.join(allowed)}."
        return list(default)
    return list(dict.fromkeys(value))


def _definition(errors: dict[str, str], value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors["definition"] = "Expected an object of data definition fields."
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in DEFINITION_FIELDS or key == "embeddings":
            errors[f"definition.{key}"] = f"Unknown field; use {', '.join(DEFINITION_FIELDS)}."
            continue
        if key in _LIST_FIELDS or (key == "prediction_probas" and isinstance(item, list)):
            if not isinstance(item, list) or not all(isinstance(v, str) and v for v in item):
                errors[f"definition.{key}"] = "Expected a list of column names."
                continue
        elif item is not None and not (isinstance(item, str) and item):
            errors[f"definition.{key}"] = "Expected a column name."
            continue
        out[key] = item
    return out


def clean_collector(data: Any, *, collector: Collector | None = None) -> dict[str, Any]:
    """The collector's fields (model fields and `config`), checked. With `collector`, fields left
    out keep their values."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "Expected an object."})
    errors: dict[str, str] = {}
    for key in data:
        if key not in FIELDS:
            errors[key] = f"Unknown field; use {', '.join(FIELDS)}."
    if collector is not None:
        current = {
            "name": collector.name,
            **collector.config,
            "every_minutes": collector.every_minutes,
            "every_rows": collector.every_rows,
            "cron": collector.cron,
            "labels_window_hours": collector.labels_window_hours,
            "retention_hours": collector.retention_hours,
            "enabled": collector.enabled,
        }
        data = {**current, **data}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX_LENGTH:
        errors["name"] = f"A name of 1 to {NAME_MAX_LENGTH} characters is required."
    presets = _names(errors, data, "presets", list(PRESETS), DEFAULT_PRESETS)
    if not presets and "presets" not in errors:
        errors["presets"] = "Choose at least one preset."
    quality = _names(errors, data, "quality_presets", QUALITY_PRESETS, DEFAULT_QUALITY_PRESETS)
    definition = _definition(errors, data.get("definition"))
    drift_share = data.get("drift_share")
    if drift_share is not None and (
        isinstance(drift_share, bool)
        or not isinstance(drift_share, (int, float))
        or not 0 < drift_share <= 1
    ):
        errors["drift_share"] = "Expected a number in (0, 1]."
    pos_label = data.get("pos_label")
    if isinstance(pos_label, (dict, list)):
        errors["pos_label"] = "Expected a number, a string or a boolean."
    every_minutes = _whole(errors, data, "every_minutes", 1, MAX_EVERY_MINUTES)
    every_rows = _whole(errors, data, "every_rows", 1, MAX_EVERY_ROWS)
    cron = data.get("cron") or ""
    if not isinstance(cron, str):
        errors["cron"] = "Expected a cron expression such as '0 * * * *'."
    elif len(cron) > CRON_MAX_LENGTH:
        errors["cron"] = f"At most {CRON_MAX_LENGTH} characters."
    elif cron:
        try:
            parse_cron(cron)
        except (ValueError, TypeError) as exc:
            errors["cron"] = f"Not a cron expression: {exc}"
    if not (every_minutes or every_rows or cron) and not {
        "every_minutes",
        "every_rows",
        "cron",
    } & set(errors):
        errors["every_minutes"] = (
            "Set a trigger: every N minutes, every N rows, or a cron expression."
        )
    labels_window = (
        _whole(errors, data, "labels_window_hours", 1, MAX_HOURS) or DEFAULT_LABELS_WINDOW_HOURS
    )
    retention = _whole(errors, data, "retention_hours", 1, MAX_HOURS) or DEFAULT_RETENTION_HOURS
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = "Expected true or false."
    if errors:
        raise ValidationError(errors)
    assert isinstance(name, str)  # else errors["name"] was raised
    config: dict[str, Any] = {
        "presets": presets,
        "quality_presets": quality,
        "definition": definition,
    }
    if drift_share is not None:
        config["drift_share"] = float(drift_share)
    if pos_label is not None:
        config["pos_label"] = pos_label
    return {
        "name": name.strip(),
        "config": config,
        "every_minutes": every_minutes,
        "every_rows": every_rows,
        "cron": cron,
        "labels_window_hours": labels_window,
        "retention_hours": retention,
        "enabled": enabled,
    }
