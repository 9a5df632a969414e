"""The collector form of the pages: it reads the fields and hands them to `clean_collector`."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.safestring import SafeString

from collector.models import Collector
from collector.runs import QUALITY_PRESETS
from collector.validation import (
    CRON_MAX_LENGTH,
    DEFAULT_LABELS_WINDOW_HOURS,
    DEFAULT_PRESETS,
    DEFAULT_QUALITY_PRESETS,
    DEFAULT_RETENTION_HOURS,
    NAME_MAX_LENGTH,
    clean_collector,
)
from metrics.presets import PRESETS

# The data definition fields the form edits; any other field set through the API is kept.
DEFINITION_TEXT = ("target", "prediction")
DEFINITION_LISTS = ("prediction_probas", "categorical_columns", "numerical_columns")

# The fields handed to `clean_collector` as they are.
PLAIN = (
    "name",
    "presets",
    "quality_presets",
    "drift_share",
    "every_minutes",
    "every_rows",
    "cron",
    "labels_window_hours",
    "retention_hours",
)
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What to compute", ("name", "presets", "quality_presets", "drift_share")),
    ("Columns", (*DEFINITION_TEXT, *DEFINITION_LISTS)),
    ("When to compute", ("every_minutes", "every_rows", "cron")),
    ("Keeping rows", ("labels_window_hours", "retention_hours")),
)


def _preset_label(name: str) -> SafeString:
    # The descriptions are the command line's: "needs --target" reads "needs target" here.
    about = re.sub(r"--([a-z-]+)", lambda m: m[1].replace("-", " "), PRESETS[name][0])
    return format_html('<code>{}</code> <span class="muted small">{}</span>', name, about)


def _preset_field(names: Any, *, label: str, help_text: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=[(name, _preset_label(name)) for name in names],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=label,
        help_text=help_text,
    )


def _hours_field(default: int, *, label: str, help_text: str) -> forms.IntegerField:
    # Empty is allowed: `clean_collector` reads it as the default, which the field shows first.
    return forms.IntegerField(required=False, initial=default, label=label, help_text=help_text)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class CollectorForm(forms.Form):
    """A new collector, or an existing one's settings: Django reads the types, `clean_collector`
    checks the rest, and its errors are shown on the fields they name."""

    # No max_length: `clean_collector` says what is wrong with a name, the browser keeps it short.
    name = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"maxlength": NAME_MAX_LENGTH})
    )
    presets = _preset_field(
        PRESETS, label="Presets", help_text="Computed over each run's rows, against the reference."
    )
    quality_presets = _preset_field(
        QUALITY_PRESETS,
        label="Quality presets (delayed labels)",
        help_text="Computed for a run once the targets of its rows arrive; none: no quality.",
    )
    drift_share = forms.FloatField(
        required=False,
        label="Drift share",
        help_text="The share of drifted columns that makes the dataset drift (0 to 1); "
        "empty: the preset's default.",
    )
    target = forms.CharField(required=False, label="Target column")
    prediction = forms.CharField(required=False, label="Prediction column")
    prediction_probas = forms.CharField(
        required=False,
        label="Prediction probability columns",
        help_text="Comma-separated: one column for a binary model, one per label otherwise.",
    )
    categorical_columns = forms.CharField(
        required=False,
        label="Categorical columns",
        help_text="Comma-separated; empty: inferred from the reference.",
    )
    numerical_columns = forms.CharField(
        required=False,
        label="Numerical columns",
        help_text="Comma-separated; empty: inferred from the reference.",
    )
    every_minutes = forms.IntegerField(required=False, label="Every N minutes")
    every_rows = forms.IntegerField(required=False, label="Every N rows")
    cron = forms.CharField(
        required=False,
        max_length=CRON_MAX_LENGTH,  # `clean_collector` checks the expression
        label="Cron expression",
        help_text="Five fields, UTC: minute hour day month weekday, e.g. 0 * * * *. "
        "Set one trigger or several: the first that is due starts a run.",
    )
    labels_window_hours = _hours_field(
        DEFAULT_LABELS_WINDOW_HOURS,
        label="Labels window (hours)",
        help_text="How long after a run its targets may arrive; its rows are kept until then. "
        f"Empty: {DEFAULT_LABELS_WINDOW_HOURS} (a week).",
    )
    retention_hours = _hours_field(
        DEFAULT_RETENTION_HOURS,
        label="Retention (hours)",
        help_text="Computed rows are deleted this long after their labels window closes. "
        f"Empty: {DEFAULT_RETENTION_HOURS}.",
    )

    def __init__(self, *args: Any, collector: Collector | None = None, **kwargs: Any) -> None:
        if collector is not None:
            kwargs.setdefault("initial", initial_of(collector))
        else:
            kwargs.setdefault(
                "initial",
                {
                    "presets": list(DEFAULT_PRESETS),
                    "quality_presets": list(DEFAULT_QUALITY_PRESETS),
                    "every_minutes": 60,
                },
            )
        super().__init__(*args, **kwargs)
        self.collector = collector
        self.collector_data: dict[str, Any] = {}

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in GROUPS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        # Django only reads the types; every value that was read goes to `clean_collector`, so
        # that all the errors show at once. A field Django could not read keeps its own error.
        unread = set(self.errors)
        data = {key: cleaned[key] for key in PLAIN if key not in unread}
        definition = dict(self.collector.config.get("definition") or {}) if self.collector else {}
        for key in DEFINITION_TEXT:
            definition[key] = cleaned[key] or None
        for key in DEFINITION_LISTS:
            definition[key] = _names(cleaned[key]) or None
        probas = definition["prediction_probas"]
        if probas is not None and len(probas) == 1:
            definition["prediction_probas"] = probas[0]  # one column: a binary model's
        data["definition"] = {k: v for k, v in definition.items() if v is not None}
        try:
            self.collector_data = clean_collector(data, collector=self.collector)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                name = key.removeprefix("definition.")
                if name in unread:
                    continue
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return cleaned


def initial_of(collector: Collector) -> dict[str, Any]:
    """The form's values for a collector's settings."""
    config = collector.config
    definition = config.get("definition") or {}

    def joined(value: Any) -> str:
        return ", ".join(value) if isinstance(value, list) else (value or "")

    return {
        "name": collector.name,
        "presets": config.get("presets", []),
        "quality_presets": config.get("quality_presets", []),
        "drift_share": config.get("drift_share"),
        **{key: definition.get(key) or "" for key in DEFINITION_TEXT},
        **{key: joined(definition.get(key)) for key in DEFINITION_LISTS},
        "every_minutes": collector.every_minutes,
        "every_rows": collector.every_rows,
        "cron": collector.cron,
        "labels_window_hours": collector.labels_window_hours,
        "retention_hours": collector.retention_hours,
    }
