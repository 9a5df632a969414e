"""The pre-built tabs (data quality, data drift, model quality, tests): panels made from the
metrics a project has received, and the default dashboard made of every tab its data allows.

Metric types, parameters and fields are named through `metrics.names`, which a test checks against
the library's results, so a renamed field fails a test rather than empties a panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from metrics import names
from projects.dashboards import relevance
from projects.dashboards.document import clean_spec, new_id
from projects.models import MetricSeries, Project, Snapshot

MEAN_PANELS = 6
PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")


@dataclass
class _Present:
    """The project's series by metric type: {type: {metric id: (params, {field, ...})}}."""

    by_type: dict[str, dict[str, tuple[dict[str, Any], set[str]]]]
    has_tests: bool
    project: Project

    def metrics(self, metric_type: str) -> list[tuple[str, dict[str, Any], set[str]]]:
        return [(m, p, f) for m, (p, f) in sorted(self.by_type.get(metric_type, {}).items())]

    def first(self, metric_type: str, field: str) -> str | None:
        return next((m for m, _, fields in self.metrics(metric_type) if field in fields), None)


def _present(project: Project) -> _Present:
    by_type: dict[str, dict[str, tuple[dict[str, Any], set[str]]]] = {}
    for metric_id, metric_type, params, field in MetricSeries.objects.filter(
        project=project
    ).values_list("metric_id", "metric_type", "params", "field"):
        entry = by_type.setdefault(metric_type, {}).setdefault(metric_id, (params, set()))
        entry[1].add(field)
    last = Snapshot.objects.filter(project=project).order_by("-timestamp").first()
    has_tests = last is not None and any(last.test_counts.values())
    return _Present(by_type, has_tests, project)


def _column(params: dict[str, Any]) -> str:
    return str(params.get(names.PARAM_COLUMN, ""))


def _segmented(params: dict[str, Any]) -> bool:
    return names.PARAM_SEGMENT in params


def _lines(present: _Present, metric_type: str, field: str, limit: int = 8) -> list[dict[str, Any]]:
    found = [
        (m, p)
        for m, p, fields in present.metrics(metric_type)
        if field in fields and not _segmented(p)
    ]
    return [
        {
            "metric": metric,
            "field": field,
            "label": _column(params) or metric_type,
            "color": PALETTE[i % len(PALETTE)],
        }
        for i, (metric, params) in enumerate(found[:limit])
    ]


def _panel_of(kind: str, title: str, **options: Any) -> dict[str, Any]:
    return {"type": kind, "title": title, **options}  # ids: see preset_tabs


def _counter(title: str, series: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """A counter a third wide; `options` give its aggregate, format and thresholds."""
    return _panel_of("counter", title, size="third", series=series, **options)


def _one(metric: str | None, field: str, label: str) -> list[dict[str, Any]]:
    return [] if metric is None else [{"metric": metric, "field": field, "label": label}]


def _field_lines(metric: str, fields: Iterable[str], present: set[str]) -> list[dict[str, Any]]:
    """One line per field of `metric` it has (`present`), labelled by the field's last part; a
    field keeps the colour of its place in `fields` whether or not those before it are present."""
    return [
        {"metric": metric, "field": f, "label": f.split(".")[-1], "color": c}
        for f, c in zip(fields, PALETTE, strict=False)
        if f in present
    ]


def _first_whole(present: _Present, metric_type: str) -> str | None:
    """The first metric of `metric_type` computed over all rows (not per segment)."""
    return next((m for m, p, _ in present.metrics(metric_type) if not _segmented(p)), None)


def _quality_tab(present: _Present) -> list[dict[str, Any]]:
    summary, column = names.DatasetSummary, names.ColumnSummary
    panels = []
    dataset = present.first(summary.TYPE, summary.ROW_COUNT)
    if dataset:
        rows = _one(dataset, summary.ROW_COUNT, "rows")
        panels += [
            _counter("Rows (latest)", rows, aggregate="last", format="integer"),
            _counter(
                "Missing cells (latest)",
                _one(dataset, summary.MISSING_CELLS_SHARE, "missing cells"),
                aggregate="last",
                format="percent",
            ),
            _counter("Rows (sum over the range)", rows, aggregate="sum", format="integer"),
            _panel_of("bar", "Rows per snapshot", size="half", format="integer", series=rows),
        ]
    if _lines(present, column.TYPE, column.MISSING_SHARE):
        panels.append(
            _panel_of(
                "line",
                "Missing values per column",
                size="half",
                format="percent",
                series=[],
                columns={"rank": "missing", "limit": relevance.DEFAULT_LIMIT},
                thresholds=[{"value": 0.05, "label": "5% missing", "color": "#dc2626"}],
            )
        )
    # One small chart per column: means of columns on different scales never share an axis.
    means = _lines(present, column.TYPE, column.MEAN, limit=1000)
    order = {e.column: i for i, e in enumerate(relevance.drift_columns(present.project))}
    means.sort(key=lambda line: (order.get(line["label"], len(order)), line["label"]))
    for i, line in enumerate(means[:MEAN_PANELS]):
        panels.append(
            _panel_of(
                "line",
                f"Mean of {line['label']}",
                size="third",
                series=[{**line, "label": "mean", "color": PALETTE[i % len(PALETTE)]}],
            )
        )
    distribution = names.ColumnDistribution
    numerical = [
        (m, p)
        for m, p, f in present.metrics(distribution.TYPE)
        if not _segmented(p) and distribution.COUNT in f
    ]
    if numerical:
        metric, params = numerical[0]
        panels.append(
            _panel_of(
                "distribution",
                f"Distribution of {_column(params)} over time",
                size="half",
                metric=metric,
            )
        )
    return panels


def _drift_tab(present: _Present) -> list[dict[str, Any]]:
    drift = names.DatasetDrift
    panels = []
    for metric, params, fields in present.metrics(drift.TYPE):
        if _segmented(params) or drift.DRIFTED_SHARE not in fields:
            continue
        limit = params.get(drift.PARAM_DRIFT_SHARE)
        thresholds = (
            [{"value": float(limit), "label": "dataset drift", "color": "#dc2626"}]
            if isinstance(limit, (int, float))
            else []
        )
        share = _one(metric, drift.DRIFTED_SHARE, "share of drifted columns")
        panels += [
            _counter(
                "Drifted columns (latest)",
                share,
                aggregate="last",
                format="percent",
                thresholds=thresholds,
            ),
            _panel_of(
                "line",
                "Share of drifted columns",
                size="full" if not thresholds else "half",
                format="percent",
                series=share,
                thresholds=thresholds,
                bands=[{"from": 0, "to": thresholds[0]["value"], "color": "#059669"}]
                if thresholds
                else [],
            ),
            _panel_of(
                "bar",
                "Drifted columns per snapshot",
                size="half",
                format="integer",
                series=_one(metric, drift.DRIFTED_COLUMNS, "drifted columns"),
            ),
        ]
        break
    if _lines(present, names.ColumnDrift.TYPE, names.ColumnDrift.SCORE):
        # p-values (low = drift) and distances (high = drift) never share an axis.
        kinds: list[str | None] = [*relevance.drift_kinds(present.project)] or [None]
        for kind in kinds:
            what = {"p_value": "Drift p-value", "distance": "Drift distance"}.get(kind or "")
            panels.append(
                _panel_of(
                    "line",
                    f"{what or 'Drift score'} per column",
                    size="full",
                    series=[],
                    columns={
                        "rank": "drift",
                        "limit": relevance.DEFAULT_LIMIT,
                        **({"kind": kind} if kind else {}),
                    },
                )
            )
    return panels


def _model_tab(present: _Present) -> list[dict[str, Any]]:
    quality, regression_quality = names.ClassificationQuality, names.RegressionQuality
    panels = []
    classification = _first_whole(present, quality.TYPE)
    if classification:
        fields = present.by_type[quality.TYPE][classification][1]
        auc = quality.ROC_AUC in fields
        headline = quality.ROC_AUC if auc else quality.ACCURACY
        panels += [
            _counter(
                "Accuracy (latest)",
                _one(classification, quality.ACCURACY, "accuracy"),
                aggregate="last",
            ),
            _counter(
                "F1 (average over the range)",
                _one(classification, quality.F1, "F1"),
                aggregate="avg",
            ),
            _counter(
                "Lowest " + ("ROC AUC" if auc else "accuracy"),
                _one(classification, headline, headline.split(".")[-1]),
                aggregate="min",
            ),
            _panel_of(
                "line",
                "Model quality",
                size="full",
                series=_field_lines(
                    classification,
                    (
                        quality.ACCURACY,
                        quality.PRECISION,
                        quality.RECALL,
                        quality.F1,
                        quality.ROC_AUC,
                    ),
                    fields,
                ),
            ),
        ]
    regression = _first_whole(present, regression_quality.TYPE)
    if regression:
        fields = present.by_type[regression_quality.TYPE][regression][1]
        errors = [
            f
            for f in (regression_quality.MAE, regression_quality.RMSE, regression_quality.MAPE)
            if f in fields
        ]
        panels += [
            _counter(
                f"{errors[0].split('.')[-1].upper()} (latest)" if errors else "Rows",
                _one(regression, errors[0] if errors else regression_quality.ROWS, "error"),
                aggregate="last",
            ),
            _panel_of(
                "line",
                "Regression error",
                size="full",
                series=_field_lines(regression, errors, fields),
            ),
        ]
    return [p for p in panels if p.get("series", [1])]


def _tests_tab(present: _Present) -> list[dict[str, Any]]:
    if not present.has_tests:
        return []
    return [
        _panel_of("test_counts", "Test results in the range", size="third"),
        _panel_of("test_status", "Test results over time", size="half", period="auto"),
        _panel_of(
            "text",
            "About these tests",
            size="third",
            text=(
                "Each snapshot's test suite checks its data and model against conditions. "
                "A failed critical test turns the snapshot red; click a bar to open the "
                "snapshots of that period."
            ),
        ),
    ]


PRESETS: dict[str, tuple[str, Any]] = {
    "data_quality": ("Data quality", _quality_tab),
    "data_drift": ("Data drift", _drift_tab),
    "model_quality": ("Model quality", _model_tab),
    "tests": ("Tests", _tests_tab),
}


def available_presets(project: Project) -> list[dict[str, Any]]:
    """Each pre-built tab, with how many panels it would have from what the project received."""
    present = _present(project)
    counts = {key: len(build(present)) for key, (_, build) in PRESETS.items()}
    return [
        {"id": key, "title": title, "panels": counts[key], "available": counts[key] > 0}
        for key, (title, _) in PRESETS.items()
    ]


def preset_tabs(
    project: Project, keys: Iterable[str], *, taken: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The pre-built tabs of `keys` the project's data allows. Their ids are derived from the
    preset (tab `data-drift`, panels `data-drift-1`, ...), so the default dashboard of a project
    that has none saved has the same ids on every read (the page and its data requests agree);
    a tab whose ids are `taken` on the dashboard gets fresh ones."""
    present = _present(project)
    used = set(taken)
    tabs = []
    for key in keys:
        if key not in PRESETS:
            raise ValidationError({"presets": f"Unknown preset {key!r}; use {', '.join(PRESETS)}."})
        title, build = PRESETS[key]
        panels = build(present)
        if not panels:
            continue
        tab_id = key.replace("_", "-")
        if any(i == tab_id or i.startswith(f"{tab_id}-") for i in used):
            tab_id = new_id(tab_id)
        for number, panel in enumerate(panels, start=1):
            panel["id"] = f"{tab_id}-{number}"
        used.update([tab_id, *(p["id"] for p in panels)])
        tabs.append({"id": tab_id, "title": title, "panels": panels})
    return tabs


def default_spec(project: Project) -> dict[str, Any]:
    """The dashboard a project starts with: every pre-built tab its data allows."""
    return clean_spec({"tabs": preset_tabs(project, PRESETS)})
