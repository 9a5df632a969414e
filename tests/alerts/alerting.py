"""Hand-written factories for the alert tests: metric series, channels, rules and fired alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from alerts.models import Alert, AlertEvent, AlertRule, Channel, Severity, State
from mlplatform.accounts.models import Organization
from projects.models import MetricSeries, Project

MEAN_AGE = 'ColumnSummary(column="age")'


def add_series(project: Project, metric: str = MEAN_AGE, field: str = "current.mean") -> Any:
    """A metric series, as ingestion would have created it for a received snapshot."""
    return MetricSeries.objects.create(
        project=project, metric_id=metric, metric_type="ColumnSummary", field=field
    )


def make_channel(
    org: Organization, name: str = "On call", *, kind: str = "email", **config: Any
) -> Channel:
    defaults = {
        "email": {"addresses": ["oncall@example.com"], "roles": []},
        "slack": {"url": "http://127.0.0.1:9/services/T0/B0/x"},
        "webhook": {"url": "http://127.0.0.1:9/hooks"},
    }
    return Channel.objects.create(
        organization=org, kind=kind, name=name, config=config or defaults[kind]
    )


def metric_config(**overrides: Any) -> dict[str, Any]:
    return {
        "metric": MEAN_AGE,
        "field": "current.mean",
        "condition": "gt",
        "threshold": 50,
        **overrides,
    }


def make_rule(
    project: Project,
    name: str = "Mean age too high",
    *,
    kind: str = "metric",
    config: dict[str, Any] | None = None,
    channels: tuple[Channel, ...] = (),
    **fields: Any,
) -> AlertRule:
    if config is None:
        config = (
            metric_config()
            if kind == "metric"
            else {"tests": "any"}
            if kind == "tests_failed"
            else {"minutes": 60}
        )
    rule = AlertRule.objects.create(project=project, name=name, kind=kind, config=config, **fields)
    rule.channels.set(channels)
    return rule


def fire(rule: AlertRule, value: float = 0.71, *, snapshot: Any = None) -> Alert:
    """The rule firing, as evaluation leaves it: its state, an open alert and the change."""
    now = timezone.now()
    rule.state, rule.last_value, rule.last_evaluated_at = State.FIRING, value, now
    rule.save(update_fields=["state", "last_value", "last_evaluated_at"])
    alert = Alert.objects.create(
        rule=rule,
        project=rule.project,
        severity=rule.severity or Severity.WARNING,
        state=State.FIRING,
        started_at=now - timedelta(minutes=5),
        fired_at=now,
        value=value,
        snapshot=snapshot,
    )
    AlertEvent.objects.create(
        rule=rule,
        alert=alert,
        from_state=State.OK,
        to_state=State.FIRING,
        value=value,
        snapshot=snapshot,
    )
    return alert
