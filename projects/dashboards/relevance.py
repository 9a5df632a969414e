"""Which columns a default panel shows: the most relevant ones in the range, chosen when the panel
is drawn (its `columns` rule), not the first ones alphabetically.

A panel with `"columns": {"rank": "drift", "limit": 8, "kind": "p_value"}` shows the columns that
drift most in the latest snapshot of its range: drifted columns first, then by how far each one's
score is past (or short of) its own threshold. `"rank": "missing"` shows the columns with the most
missing values. The ranking reads one snapshot document (the latest one that has the metric in the
range); the lines are then read from the points like any other panel's.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from metrics import names
from projects.dashboards.document import DRIFT_KINDS as KINDS
from projects.models import MetricPoint, MetricSeries, Project, SnapshotDocument

DEFAULT_LIMIT = 8
# What each drift kind's scores mean, said on every panel that draws them.
DIRECTION = {
    "p_value": "p-values: lower means more drift",
    "distance": "distances: higher means more drift",
}


@dataclass
class Ranked:
    """One column of a ranked panel: its metric (the series to draw) and why it is there."""

    column: str
    metric: str
    value: float | None
    threshold: float | None = None
    drifted: bool = False
    kind: str | None = None
    method: str | None = None


def _latest_body(
    series: list[MetricSeries], since: Any, until: Any, snapshots: Any
) -> dict[str, Any] | None:
    """The document of the latest snapshot in the range with a point in the first of `series`."""
    if not series:
        return None
    points = MetricPoint.objects.filter(series_id=min(s.pk for s in series))
    if since is not None:
        points = points.filter(timestamp__gte=since)
    if until is not None:
        points = points.filter(timestamp__lt=until)
    if snapshots is not None:
        points = points.filter(snapshot_id__in=snapshots.values("pk"))
    key = points.order_by("-timestamp").values_list("snapshot_id", flat=True).first()
    if key is None:
        return None
    document = SnapshotDocument.objects.filter(snapshot_id=key).first()
    if document is None:
        return None
    body = orjson.loads(zlib.decompress(bytes(document.body)))
    return body if isinstance(body, dict) else None


def _whole(project: Project, metric_type: str, field: str) -> list[MetricSeries]:
    """The project's series of `field` of `metric_type` over all rows (not per segment)."""
    return [
        s
        for s in MetricSeries.objects.filter(project=project, metric_type=metric_type, field=field)
        if names.PARAM_SEGMENT not in (s.params or {})
    ]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _severity(entry: Ranked) -> float:
    """How far past its threshold a column's score is (above 1: drifted), whatever its kind."""
    if entry.value is None or not entry.threshold:
        return 0.0
    if entry.kind == "p_value":  # small is drift: compare on a log scale
        low = max(entry.value, 1e-300)
        return math.log(low) / math.log(entry.threshold) if entry.threshold < 1 else 0.0
    return entry.value / entry.threshold


def drift_columns(
    project: Project,
    *,
    since: Any = None,
    until: Any = None,
    snapshots: Any = None,
    kind: str | None = None,
) -> list[Ranked]:
    """Every column drift result of the latest snapshot in the range, most drifted first."""
    series = _whole(project, names.ColumnDrift.TYPE, names.ColumnDrift.SCORE)
    body = _latest_body(series, since, until, snapshots)
    known = {s.metric_id for s in series}
    found = []
    for result in (body or {}).get("metrics", ()):
        if not isinstance(result, dict) or result.get("id") not in known:
            continue
        values, details = result.get("values") or {}, result.get("details") or {}
        entry = Ranked(
            column=str((result.get("params") or {}).get(names.PARAM_COLUMN, result["id"])),
            metric=result["id"],
            value=_number(values.get(names.ColumnDrift.SCORE)),
            threshold=_number(values.get(names.ColumnDrift.THRESHOLD)),
            drifted=bool(values.get(names.ColumnDrift.DRIFTED)),
            kind=details.get("kind") if details.get("kind") in KINDS else None,
            method=details.get("method_title") or details.get("method"),
        )
        if kind is None or entry.kind == kind:
            found.append(entry)
    found.sort(key=lambda e: (not e.drifted, -_severity(e), e.column))
    return found


def drift_kinds(project: Project) -> list[str]:
    """The kinds of drift score (p-values, distances) of the project's latest drift results."""
    present = {e.kind for e in drift_columns(project) if e.kind}
    return [k for k in KINDS if k in present]


def missing_columns(
    project: Project, *, since: Any = None, until: Any = None, snapshots: Any = None
) -> list[Ranked]:
    """Every column summary of the latest snapshot in the range, most missing values first."""
    series = _whole(project, names.ColumnSummary.TYPE, names.ColumnSummary.MISSING_SHARE)
    body = _latest_body(series, since, until, snapshots)
    known = {s.metric_id for s in series}
    found = []
    for result in (body or {}).get("metrics", ()):
        if not isinstance(result, dict) or result.get("id") not in known:
            continue
        current = (result.get("values") or {}).get("current") or {}
        found.append(
            Ranked(
                column=str((result.get("params") or {}).get(names.PARAM_COLUMN, result["id"])),
                metric=result["id"],
                value=_number(current.get("missing_share")),
            )
        )
    found.sort(key=lambda e: (-(e.value or 0.0), e.column))
    return found


def _share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def resolve(
    project: Project,
    rule: dict[str, Any],
    *,
    since: Any = None,
    until: Any = None,
    snapshots: Any = None,
    palette: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The series, threshold lines and caption of a panel's `columns` rule over a range."""
    limit = int(rule.get("limit") or DEFAULT_LIMIT)
    if rule["rank"] == "drift":
        ranked = drift_columns(
            project, since=since, until=until, snapshots=snapshots, kind=rule.get("kind")
        )
        field = names.ColumnDrift.SCORE
    else:
        ranked = missing_columns(project, since=since, until=until, snapshots=snapshots)
        field = names.ColumnSummary.MISSING_SHARE
    shown = ranked[:limit]
    series = [
        {
            "metric": e.metric,
            "field": field,
            "label": e.column,
            **({"color": palette[i % len(palette)]} if palette else {}),
        }
        for i, e in enumerate(shown)
    ]
    out: dict[str, Any] = {
        "series": series,
        "columns": [
            {
                "column": e.column,
                "value": e.value,
                "threshold": e.threshold,
                "drifted": e.drifted,
                "kind": e.kind,
                "method": e.method,
            }
            for e in shown
        ],
        "thresholds": [],
        "caption": "",
    }
    if not ranked:
        return out
    if rule["rank"] == "drift":
        drifted = [e.column for e in ranked if e.drifted]
        kinds = {e.kind for e in shown if e.kind}
        limits: dict[float, set[str]] = {}
        for e in shown:
            if e.threshold is not None:
                limits.setdefault(e.threshold, set()).add(e.method or "")
        out["thresholds"] = [
            {
                "value": value,
                "label": "drift threshold"
                if len(limits) == 1
                else f"threshold ({', '.join(sorted(m for m in methods if m)) or 'drift'})",
                "color": "#dc2626",
            }
            for value, methods in sorted(limits.items())[:3]
        ]
        direction = (
            DIRECTION[next(iter(kinds))]
            if len(kinds) == 1
            else "mixed methods on one axis: p-values (lower means drift) and distances "
            "(higher means drift)"
        )
        if drifted:
            named = ", ".join(drifted[:5]) + (
                f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
            )
            state = f"{len(drifted)} of {len(ranked)} columns drifted ({named})"
        else:
            state = f"None of {len(ranked)} columns drifted"
        shown_text = (
            "all are shown"
            if len(shown) == len(ranked)
            else f"the {len(shown)} most drifted are shown"
        )
        out["caption"] = f"{direction.capitalize()}. {state}; {shown_text}."
    else:
        with_missing = [e for e in ranked if e.value]
        top = shown[0]
        if with_missing:
            state = (
                f"{len(with_missing)} of {len(ranked)} columns have missing values, "
                f"{top.column} the most ({_share(top.value or 0)})"
            )
        else:
            state = f"None of {len(ranked)} columns has missing values"
        shown_text = (
            "all are shown"
            if len(shown) == len(ranked)
            else f"the {len(shown)} with the most are shown"
        )
        out["caption"] = f"{state}; {shown_text}."
    return out
