"""Template tags for alerts on other apps' pages: `{% firing_alerts project access %}`, the banner
of a project's firing alerts (loaded by name, so the projects app never imports alerts)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse

from alerts.models import Alert, RuleKind, Severity, State, describe_value
from mlplatform.accounts.access import Access

register = template.Library()


@register.inclusion_tag("alerts/_firing_banner.html")
def firing_alerts(project: Any, access: Access) -> dict[str, Any]:
    """The project's alerts firing now, critical first, each linking to its rule."""
    alerts = (
        Alert.objects.filter(project=project, state=State.FIRING, resolved_at__isnull=True)
        .select_related("rule")
        .order_by(
            Case(
                When(severity=Severity.CRITICAL, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "started_at",
        )
    )
    found = list(alerts)
    slug = access.organization.slug
    # For the dashboard's charts: which metric fields fire, at which threshold.
    marks = [
        {
            "rule": alert.rule.name,
            "severity": alert.severity,
            "metric": alert.rule.config.get("metric")
            if alert.rule.kind == RuleKind.METRIC
            else None,
            "field": alert.rule.config.get("field"),
            "threshold": alert.rule.config.get("threshold"),
            "url": reverse("alert_rule_detail", args=[slug, project.pk, alert.rule_id]),
        }
        for alert in found
    ]
    return {"alerts": found, "project": project, "slug": slug, "marks": marks}


@register.filter
def alert_value(value: Any, rule: Any = None) -> str:
    """A rule's value as people read it: four significant digits, or "no value"; a no-data rule's
    value is the time since its last snapshot, said with its unit ("3 h 5 min")."""
    if rule is not None and getattr(rule, "kind", None) == RuleKind.NO_DATA and value is not None:
        return quiet_for(float(value))
    return describe_value(value)


def quiet_for(minutes: float) -> str:
    """Minutes without a snapshot, in words: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    if minutes < 1:
        return f"{round(minutes * 60)} s"
    whole = int(minutes)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
