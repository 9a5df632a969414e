"""Forms of the alert pages: a rule form and a channel form per kind, and silences; each hands its
input to `alerts.validation`, which checks it as it checks the API's."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError

from alerts.models import AlertRule, Channel, ChannelKind, RuleKind, Severity, State
from alerts.validation import (
    AGGREGATE_NAMES,
    CHANNEL_NAME_MAX_LENGTH,
    CONDITION_NAMES,
    DEFAULT_AGGREGATE,
    DEFAULT_PENDING_COUNT,
    DEFAULT_REPEAT_MINUTES,
    DEFAULT_SEVERITY,
    DEFAULT_TEST_SELECTION,
    MAX_ADDRESSES,
    MAX_MINUTES,
    MAX_PENDING_COUNT,
    MAX_REPEAT_MINUTES,
    MIN_PENDING_COUNT,
    MIN_REPEAT_MINUTES,
    RULE_NAME_MAX_LENGTH,
    SILENCE_REASON_MAX_LENGTH,
    TEST_SELECTIONS,
    URL_MAX_LENGTH,
    WINDOW_LIMITS,
    clean_channel,
    clean_rule,
    clean_silence,
)
from mlplatform.accounts.models import Organization, Role
from mlplatform.instants import InstantField
from projects import series_choices
from projects.models import MetricSeries, Project, Snapshot, TestOutcome

# Tests offered by a "tests failed" rule: those of the project's newest snapshots.
RECENT_SNAPSHOTS = 20


def _labelled(values: tuple[str, ...], labels: dict[str, str]) -> list[tuple[str, str]]:
    """Choices of the values `alerts.validation` allows, in its order, with the page's words."""
    return [(value, labels[value]) for value in values]


class _Checked(forms.Form):
    """A form whose `clean` hands its data to a validation function (`check`); the errors that
    come back, named by the API's field names, are shown on the form's fields (`error_fields`
    renames). A rule's or channel's kind-specific fields make its `config`."""

    error_fields: ClassVar[dict[str, str]] = {}

    def initial_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return dict(config)

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, cleaned: dict[str, Any]) -> None:
        """Hand the fields Django read to `alerts.validation`; raises its ValidationError."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        if not self.errors:
            try:
                self.check(cleaned)
            except ValidationError as exc:
                self.report(exc)
        return cleaned

    def report(self, exc: ValidationError) -> None:
        for key, messages in exc.message_dict.items():
            name = self.error_fields.get(key, key.removeprefix("config."))
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


# ---- rules --------------------------------------------------------------------------------------


class RuleForm(_Checked):
    """The fields every rule has; a subclass per kind adds its own and says how they make the
    rule's config."""

    kind: ClassVar[str]

    name = forms.CharField(max_length=RULE_NAME_MAX_LENGTH)
    severity = forms.ChoiceField(choices=Severity.choices, initial=DEFAULT_SEVERITY)
    pending_count = forms.IntegerField(
        min_value=MIN_PENDING_COUNT,
        max_value=MAX_PENDING_COUNT,
        initial=DEFAULT_PENDING_COUNT,
        label="Fire after",
        help_text="This many consecutive breaching snapshots (1: at the first).",
    )
    repeat_minutes = forms.IntegerField(
        min_value=MIN_REPEAT_MINUTES,
        max_value=MAX_REPEAT_MINUTES,
        initial=DEFAULT_REPEAT_MINUTES,
        label="Remind every (minutes)",
        help_text="While it fires; 0: never.",
    )
    channels = forms.ModelMultipleChoiceField(
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Notify",
    )

    def __init__(
        self, *args: Any, project: Project, rule: AlertRule | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", f"id_{self.kind}_%s")
        if rule is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": rule.name,
                    "severity": rule.severity,
                    "pending_count": rule.pending_count,
                    "repeat_minutes": rule.repeat_minutes,
                    "channels": list(rule.channels.all()),
                    **self.initial_config(rule.config),
                },
            )
        super().__init__(*args, **kwargs)
        self.project = project
        self.rule = rule
        self.rule_data: dict[str, Any] = {}
        channels = cast(forms.ModelMultipleChoiceField, self.fields["channels"])
        channels.queryset = Channel.objects.filter(organization=project.organization)
        channels.help_text = (
            ""
            if channels.queryset.exists()
            else "No channels yet: add them on the alert channels page."
        )

    def check(self, cleaned: dict[str, Any]) -> None:
        data = {
            "name": cleaned["name"],
            "kind": self.kind,
            "config": self.config(cleaned),
            "severity": cleaned["severity"],
            "pending_count": cleaned["pending_count"],
            "repeat_minutes": cleaned["repeat_minutes"],
            "channels": [str(channel.pk) for channel in cleaned["channels"]],
        }
        self.rule_data = clean_rule(self.project, data, rule=self.rule)


class TestsFailedRuleForm(RuleForm):
    __test__ = False  # not a pytest test class

    kind = RuleKind.TESTS_FAILED
    field_order = ("name", "tests", "names")
    error_fields: ClassVar[dict[str, str]] = {"config.tests": "tests", "config.names": "names"}

    tests = forms.ChoiceField(
        choices=_labelled(
            TEST_SELECTIONS,
            {
                "any": "Any test fails or warns",
                "critical": "A critical test fails",
                "named": "One of the tests below fails or warns",
            },
        ),
        initial=DEFAULT_TEST_SELECTION,
        label="Fire when",
    )
    names = forms.MultipleChoiceField(
        required=False,
        label="Tests",
        help_text="From the project's recent snapshots; for “one of the tests below”.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recent = Snapshot.objects.filter(project=self.project).order_by("-timestamp")[
            :RECENT_SNAPSHOTS
        ]
        tests = (
            TestOutcome.objects.filter(
                project_id=self.project.pk,
                snapshot_id__in=list(recent.values_list("pk", flat=True)),
            )
            .values_list("test_id", "name")
            .distinct()
            .order_by("name", "test_id")
        )
        choices = dict(tests)
        for test_id in (self.rule.config.get("names") or []) if self.rule else []:
            choices.setdefault(test_id, test_id)  # chosen earlier, absent from recent snapshots
        cast(forms.ChoiceField, self.fields["names"]).choices = list(choices.items())

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["tests"] != "named":
            return {"tests": data["tests"]}
        return {"tests": "named", "names": data["names"]}


class MetricRuleForm(RuleForm):
    kind = RuleKind.METRIC
    field_order = ("name", "series", "aggregate", "window", "window_size", "condition", "threshold")
    error_fields: ClassVar[dict[str, str]] = {
        "config.metric": "series",
        "config.field": "series",
        "config.window": "window_size",
    }

    # Grouped by metric, the useful fields first; `static/js/picker.js` adds a search box.
    series = forms.ChoiceField(
        label="Metric — field", widget=forms.Select(attrs={"data-picker": "metric"})
    )
    aggregate = forms.ChoiceField(
        choices=_labelled(
            AGGREGATE_NAMES,
            {
                "last": "the newest value",
                "avg": "the average",
                "min": "the minimum",
                "max": "the maximum",
                "sum": "the sum",
            },
        ),
        initial=DEFAULT_AGGREGATE,
        label="Of",
    )
    window = forms.ChoiceField(
        choices=[("", "—"), *((kind, kind) for kind in WINDOW_LIMITS)],
        required=False,
        label="Over the last",
        help_text="For an average, minimum, maximum or sum.",
    )
    # The largest of the kinds' limits: `clean_rule` checks the size against the kind chosen.
    window_size = forms.IntegerField(
        min_value=1, max_value=max(WINDOW_LIMITS.values()), required=False, label="N"
    )
    condition = forms.ChoiceField(
        choices=_labelled(
            CONDITION_NAMES,
            {
                "gt": "is above (>)",
                "gte": "is at least (≥)",
                "lt": "is below (<)",
                "lte": "is at most (≤)",
                "eq": "equals (=)",
                "ne": "differs from (≠)",
            },
        ),
        label="Fire when it",
    )
    threshold = forms.FloatField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rows = list(
            MetricSeries.objects.filter(project=self.project).values_list(
                "pk", "metric_id", "metric_type", "params", "field"
            )
        )
        self.series_by_key = {str(pk): (metric, field) for pk, metric, _, _, field in rows}
        series = cast(forms.ChoiceField, self.fields["series"])
        series.choices = [("", "—"), *series_choices.form_choices(series_choices.grouped(rows))]
        if not self.series_by_key:
            self.fields["series"].help_text = "No metrics yet: push a snapshot first."
        if self.rule is not None and "series" not in self.initial:
            chosen = (self.rule.config.get("metric"), self.rule.config.get("field"))
            self.initial["series"] = next(
                (key for key, pair in self.series_by_key.items() if pair == chosen), ""
            )

    def initial_config(self, config: dict[str, Any]) -> dict[str, Any]:
        window = config.get("window") or {}
        kind = next(iter(window), "")
        return {
            "aggregate": config.get("aggregate", DEFAULT_AGGREGATE),
            "window": kind,
            "window_size": window.get(kind),
            "condition": config.get("condition"),
            "threshold": config.get("threshold"),
        }

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        metric, field = self.series_by_key[data["series"]]
        return {
            "metric": metric,
            "field": field,
            "condition": data["condition"],
            "threshold": data["threshold"],
            "aggregate": data["aggregate"],
            "window": {data["window"]: data["window_size"]} if data["window"] else None,
        }


class NoDataRuleForm(RuleForm):
    kind = RuleKind.NO_DATA
    field_order = ("name", "minutes")

    minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_MINUTES,
        label="Fire when no snapshot has arrived for (minutes)",
    )

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"minutes": data["minutes"]}


RULE_FORMS: dict[str, type[RuleForm]] = {
    RuleKind.TESTS_FAILED: TestsFailedRuleForm,
    RuleKind.METRIC: MetricRuleForm,
    RuleKind.NO_DATA: NoDataRuleForm,
}


# ---- channels -----------------------------------------------------------------------------------


class ChannelForm(_Checked):
    kind: ClassVar[str]

    name = forms.CharField(max_length=CHANNEL_NAME_MAX_LENGTH)
    send_resolved = forms.BooleanField(
        required=False, initial=True, label="Also tell when an alert resolves"
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        channel: Channel | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", f"id_{self.kind}_%s")
        if channel is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": channel.name,
                    "send_resolved": channel.send_resolved,
                    **self.initial_config(channel.config),
                },
            )
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.channel = channel
        self.channel_data: dict[str, Any] = {}

    def check(self, cleaned: dict[str, Any]) -> None:
        data = {
            "name": cleaned["name"],
            "config": self.config(cleaned),
            "send_resolved": cleaned["send_resolved"],
        }
        if self.channel is None:
            data["kind"] = self.kind
        self.channel_data = clean_channel(self.organization, data, channel=self.channel)


class EmailChannelForm(ChannelForm):
    kind = ChannelKind.EMAIL

    addresses = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One per line, or separated by commas (at most {MAX_ADDRESSES}).",
    )
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="And every member who is",
    )

    def initial_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {
            "addresses": "\n".join(config.get("addresses", [])),
            "roles": config.get("roles", []),
        }

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        raw = data["addresses"].replace(",", "\n").replace(";", "\n")
        return {
            "addresses": [line.strip() for line in raw.splitlines() if line.strip()],
            "roles": data["roles"],
        }


class SlackChannelForm(ChannelForm):
    kind = ChannelKind.SLACK

    url = forms.CharField(
        max_length=URL_MAX_LENGTH,
        label="Incoming webhook URL",
        widget=forms.TextInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"url": data["url"]}


class WebhookChannelForm(ChannelForm):
    kind = ChannelKind.WEBHOOK

    url = forms.CharField(
        max_length=URL_MAX_LENGTH,
        label="URL",
        help_text="https only; each request is signed with the channel's secret.",
        widget=forms.TextInput(attrs={"placeholder": "https://example.com/hooks/ml-monitor"}),
    )

    def config(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"url": data["url"]}


CHANNEL_FORMS: dict[str, type[ChannelForm]] = {
    ChannelKind.EMAIL: EmailChannelForm,
    ChannelKind.SLACK: SlackChannelForm,
    ChannelKind.WEBHOOK: WebhookChannelForm,
}


# ---- silences -----------------------------------------------------------------------------------


def _moment(label: str, *, required: bool = True) -> forms.DateTimeField:
    return InstantField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class SilenceForm(_Checked):
    """Mute a rule (its id posted as `rule`, outside the form's fields), or the whole project,
    from now until a time."""

    prefix_id: ClassVar[str] = "mute"

    ends_at = _moment("Until (UTC)")
    reason = forms.CharField(max_length=SILENCE_REASON_MAX_LENGTH, required=False)

    def __init__(
        self, *args: Any, project: Project, rule_id: str | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", f"id_{self.prefix_id}_%s")
        super().__init__(*args, **kwargs)
        self.project = project
        self.rule_id = rule_id or None
        self.silence_data: dict[str, Any] = {}

    def check(self, cleaned: dict[str, Any]) -> None:
        data = {key: cleaned.get(key) for key in ("starts_at", "ends_at", "reason")}
        data["rule"] = self.rule_id
        self.silence_data = clean_silence(self.project, data)


class MaintenanceForm(SilenceForm):
    """A maintenance window: every rule of the project silenced from one time to another."""

    prefix_id = "window"

    starts_at = _moment("From (UTC)")
    ends_at = _moment("To (UTC)")

    field_order = ("starts_at", "ends_at", "reason")


class AlertFilterForm(forms.Form):
    """The alert list's filters: a project the caller sees, and a state."""

    project = forms.ChoiceField(required=False)
    state = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any state"),
            *(
                (state.value, state.label)
                for state in (State.FIRING, State.PENDING, State.RESOLVED)
            ),
        ],
    )

    def __init__(self, *args: Any, projects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [("", "All projects")] + [
            (str(pk), name) for pk, name in projects.order_by("name").values_list("pk", "name")
        ]
        for field in self.fields.values():
            field.widget.attrs["data-autosubmit"] = ""
