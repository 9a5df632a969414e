"""Dashboards: the document that describes a project's tabs and panels, its checks, the pre-built
tabs offered from what a project has received, and the default dashboard made after its first
snapshot.

A dashboard is data (docs/dashboards.md): the browser's editor and "dashboard as code" over the API
write the same JSON, checked here, so neither can store what the page cannot draw.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from projects.models import Dashboard, MetricSeries, Project, Snapshot

PANEL_TYPES = (
    "counter",
    "line",
    "bar",
    "scatter",
    "distribution",
    "test_status",
    "test_counts",
    "text",
)
SERIES_PANELS = ("counter", "line", "bar", "scatter")
AGGREGATES = ("last", "sum", "avg", "min", "max")
FORMATS = ("number", "integer", "percent")
SIZES = ("half", "full", "third")
PERIODS = ("auto", "hour", "day", "week", "month")
MAX_TABS = 20
MAX_PANELS_PER_TAB = 40
MAX_SERIES = 10
MAX_SPEC_BYTES = 256 * 1024

_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class _Checker:
    """Collects every problem of a dashboard document, each under its path (tabs[0].panels[2].unit),
    so that a bad document gets one answer naming all its faults."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def text(
        self, obj: dict[str, Any], key: str, path: str, *, limit: int, required: bool = False
    ) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(f"{path}.{key}", "This field is required.")
            return ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", "Expected a string.")
            return ""
        if len(value) > limit:
            self.fail(f"{path}.{key}", f"At most {limit} characters.")
        if required and not value.strip():
            self.fail(f"{path}.{key}", "Must not be blank.")
        return value

    def choice(self, obj: dict[str, Any], key: str, path: str, options: tuple[str, ...]) -> str:
        value = obj.get(key, options[0])
        if value not in options:
            self.fail(f"{path}.{key}", f"Expected one of: {', '.join(options)}.")
            return options[0]
        return str(value)

    def number(self, value: Any, path: str, *, nullable: bool = False) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, "Expected a number.")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.fail(path, "Expected a finite number.")
            return None
        return float(value)

    def color(self, obj: dict[str, Any], path: str) -> str | None:
        value = obj.get("color")
        if value is None:
            return None
        if not isinstance(value, str) or not _COLOR.match(value):
            self.fail(f"{path}.color", "Expected a colour like #d62728.")
            return None
        return value

    def items(self, obj: dict[str, Any], key: str, path: str, *, limit: int) -> list[Any]:
        value = obj.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{path}.{key}", "Expected a list.")
            return []
        if len(value) > limit:
            self.fail(f"{path}.{key}", f"At most {limit} items.")
            return []
        return value

    def unknown(self, obj: dict[str, Any], path: str, allowed: Iterable[str]) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"{path}.{key}", f"Unknown field {key!r}.")


_PANEL_FIELDS = {
    "id",
    "type",
    "title",
    "description",
    "size",
    "series",
    "metric",
    "format",
    "unit",
    "thresholds",
    "bands",
    "aggregate",
    "stacked",
    "side",
    "period",
    "tests",
    "text",
}


def _series(check: _Checker, raw: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        check.fail(path, "Expected an object with metric and field.")
        return None
    check.unknown(raw, path, ("metric", "field", "label", "color"))
    entry = {
        "metric": check.text(raw, "metric", path, limit=2000, required=True),
        "field": check.text(raw, "field", path, limit=200, required=True),
    }
    label = check.text(raw, "label", path, limit=100)
    if label:
        entry["label"] = label
    color = check.color(raw, path)
    if color:
        entry["color"] = color
    return entry


def _panel(check: _Checker, raw: Any, path: str, seen: set[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        check.fail(path, "Expected a panel object.")
        return None
    check.unknown(raw, path, _PANEL_FIELDS)
    kind = raw.get("type")
    if kind not in PANEL_TYPES:
        check.fail(f"{path}.type", f"Expected one of: {', '.join(PANEL_TYPES)}.")
        return None
    panel_id = raw.get("id") or new_id("p")
    if not isinstance(panel_id, str) or not _ID.match(panel_id):
        check.fail(f"{path}.id", "Ids are 1 to 40 letters, digits, '-' or '_'.")
    elif panel_id in seen:
        check.fail(f"{path}.id", f"Another tab or panel has the id {panel_id!r}.")
    seen.add(str(panel_id))
    panel: dict[str, Any] = {
        "id": panel_id,
        "type": kind,
        "title": check.text(raw, "title", path, limit=200, required=True),
        "size": check.choice(
            raw, "size", path, SIZES if kind != "counter" else ("third", "half", "full")
        ),
    }
    description = check.text(raw, "description", path, limit=1000)
    if description:
        panel["description"] = description
    if kind in SERIES_PANELS:
        series = check.items(raw, "series", path, limit=1 if kind == "counter" else MAX_SERIES)
        if not series and f"{path}.series" not in check.errors:
            check.fail(f"{path}.series", "Choose at least one metric field to plot.")
        panel["series"] = [
            entry
            for i, raw_series in enumerate(series)
            if (entry := _series(check, raw_series, f"{path}.series[{i}]"))
        ]
        panel["format"] = check.choice(raw, "format", path, FORMATS)
        panel["unit"] = check.text(raw, "unit", path, limit=20)
        panel["thresholds"] = []
        for i, line in enumerate(check.items(raw, "thresholds", path, limit=10)):
            where = f"{path}.thresholds[{i}]"
            if not isinstance(line, dict):
                check.fail(where, "Expected {value, label, color}.")
                continue
            check.unknown(line, where, ("value", "label", "color"))
            value = check.number(line.get("value"), f"{where}.value")
            entry: dict[str, Any] = {"value": value}
            if label := check.text(line, "label", where, limit=100):
                entry["label"] = label
            if color := check.color(line, where):
                entry["color"] = color
            panel["thresholds"].append(entry)
        panel["bands"] = []
        for i, band in enumerate(check.items(raw, "bands", path, limit=10)):
            where = f"{path}.bands[{i}]"
            if not isinstance(band, dict):
                check.fail(where, "Expected {from, to, label, color}.")
                continue
            check.unknown(band, where, ("from", "to", "label", "color"))
            low = check.number(band.get("from"), f"{where}.from", nullable=True)
            high = check.number(band.get("to"), f"{where}.to", nullable=True)
            if low is not None and high is not None and low > high:
                check.fail(f"{where}.to", "A band's upper bound must not be below its lower one.")
            entry = {"from": low, "to": high}
            if label := check.text(band, "label", where, limit=100):
                entry["label"] = label
            if color := check.color(band, where):
                entry["color"] = color
            panel["bands"].append(entry)
    if kind == "counter":
        panel["aggregate"] = check.choice(raw, "aggregate", path, AGGREGATES)
    if kind == "bar":
        stacked = raw.get("stacked", False)
        if not isinstance(stacked, bool):
            check.fail(f"{path}.stacked", "Expected true or false.")
        panel["stacked"] = bool(stacked)
    if kind == "distribution":
        panel["metric"] = check.text(raw, "metric", path, limit=2000, required=True)
        panel["side"] = check.choice(raw, "side", path, ("current", "reference"))
    if kind in ("test_status", "test_counts"):
        tests = check.items(raw, "tests", path, limit=50)
        if not all(isinstance(t, str) and 0 < len(t) <= 2000 for t in tests):
            check.fail(f"{path}.tests", "Expected a list of test ids.")
            tests = []
        panel["tests"] = list(tests)
    if kind == "test_status":
        panel["period"] = check.choice(raw, "period", path, PERIODS)
    if kind == "text":
        panel["text"] = check.text(raw, "text", path, limit=5000, required=True)
    return panel


def clean_spec(raw: Any) -> dict[str, Any]:
    """The dashboard document `raw` in its canonical form (defaults filled in, ids given to new tabs
    and panels), or a `ValidationError` whose dict names every bad field by its path."""
    check = _Checker()
    if not isinstance(raw, dict):
        raise ValidationError({"tabs": "Expected an object with a list of tabs."})
    if len(orjson.dumps(raw)) > MAX_SPEC_BYTES:
        raise ValidationError({"tabs": f"A dashboard is at most {MAX_SPEC_BYTES // 1024} KiB."})
    check.unknown(raw, "dashboard", ("tabs", "version", "updated_at"))
    tabs_raw = raw.get("tabs")
    if not isinstance(tabs_raw, list):
        raise ValidationError({"tabs": "Expected a list of tabs."})
    if len(tabs_raw) > MAX_TABS:
        raise ValidationError({"tabs": f"At most {MAX_TABS} tabs."})
    seen: set[str] = set()
    tabs = []
    for t, tab_raw in enumerate(tabs_raw):
        path = f"tabs[{t}]"
        if not isinstance(tab_raw, dict):
            check.fail(path, "Expected a tab object with a title and panels.")
            continue
        check.unknown(tab_raw, path, ("id", "title", "panels"))
        tab_id = tab_raw.get("id") or new_id("t")
        if not isinstance(tab_id, str) or not _ID.match(tab_id):
            check.fail(f"{path}.id", "Ids are 1 to 40 letters, digits, '-' or '_'.")
        elif tab_id in seen:
            check.fail(f"{path}.id", f"Another tab or panel has the id {tab_id!r}.")
        seen.add(str(tab_id))
        panels = check.items(tab_raw, "panels", path, limit=MAX_PANELS_PER_TAB)
        tabs.append(
            {
                "id": tab_id,
                "title": check.text(tab_raw, "title", path, limit=60, required=True),
                "panels": [
                    panel
                    for i, raw_panel in enumerate(panels)
                    if (panel := _panel(check, raw_panel, f"{path}.panels[{i}]", seen))
                ],
            }
        )
    if check.errors:
        raise ValidationError(check.errors)
    return {"tabs": tabs}


def clean_panel(raw: Any, existing: dict[str, Any]) -> dict[str, Any]:
    """One panel checked as a member of the dashboard `existing` (its id must be new there)."""
    seen = {tab["id"] for tab in existing["tabs"]} | {
        panel["id"] for tab in existing["tabs"] for panel in tab["panels"]
    }
    check = _Checker()
    panel = _panel(check, raw, "panel", seen)
    if check.errors or panel is None:
        raise ValidationError(check.errors or {"panel": "Expected a panel object."})
    return panel


def find_tab(spec: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A tab by its id, or else by its title (case-insensitive)."""
    for tab in spec["tabs"]:
        if tab["id"] == key:
            return tab
    return next((t for t in spec["tabs"] if t["title"].lower() == key.strip().lower()), None)


def find_panel(spec: dict[str, Any], panel_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for tab in spec["tabs"]:
        for panel in tab["panels"]:
            if panel["id"] == panel_id:
                return tab, panel
    return None


# ---- reading and saving -------------------------------------------------------------------------


@dataclass
class DashboardState:
    spec: dict[str, Any]
    version: int  # 0: not saved yet (the generated default is shown)
    updated_at: Any


def dashboard_of(project: Project) -> DashboardState:
    """The project's saved dashboard, or (version 0) the default made from what it has received."""
    saved = Dashboard.objects.filter(project=project).first()
    if saved is not None:
        # Checked again on the way out: options added since it was saved get their defaults.
        try:
            spec = clean_spec(saved.spec)
        except ValidationError:
            spec = saved.spec
        return DashboardState(spec, saved.version, saved.updated_at)
    return DashboardState(default_spec(project), 0, None)


class VersionConflict(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(
            f"The dashboard changed since you read it (now version {current}); reload and "
            "apply your change again."
        )
        self.current = current


def save_dashboard(
    project: Project, spec: dict[str, Any], *, user: Any = None, expected_version: int | None = None
) -> Dashboard:
    """Store a checked dashboard document. With `expected_version`, refuse (VersionConflict) when
    someone saved since that version was read; 0 means "nobody has saved one yet"."""
    spec = clean_spec(spec)
    with transaction.atomic():
        saved = Dashboard.objects.select_for_update().filter(project=project).first()
        current = saved.version if saved else 0
        if expected_version is not None and expected_version != current:
            raise VersionConflict(current)
        user_id = getattr(user, "pk", None)
        if saved is None:
            try:
                with transaction.atomic():
                    return Dashboard.objects.create(
                        project=project, spec=spec, version=1, updated_by_id=user_id
                    )
            except IntegrityError:  # saved at the same moment by someone else
                raise VersionConflict(1) from None
        saved.spec = spec
        saved.version = current + 1
        saved.updated_at = timezone.now()
        saved.updated_by_id = user_id
        saved.save()
        return saved


# ---- pre-built tabs -----------------------------------------------------------------------------

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")


@dataclass
class _Present:
    """The project's series by metric type: {type: {metric id: (params, {field, ...})}}."""

    by_type: dict[str, dict[str, tuple[dict[str, Any], set[str]]]]
    has_tests: bool

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
    return _Present(by_type, has_tests)


def _column(params: dict[str, Any]) -> str:
    return str(params.get("column", ""))


def _segmented(params: dict[str, Any]) -> bool:
    return "segment" in params


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


def _one(metric: str | None, field: str, label: str) -> list[dict[str, Any]]:
    return [] if metric is None else [{"metric": metric, "field": field, "label": label}]


def _quality_tab(present: _Present) -> list[dict[str, Any]]:
    panels = []
    dataset = present.first("DatasetSummary", "current.row_count")
    if dataset:
        panels += [
            _panel_of(
                "counter",
                "Rows (latest)",
                size="third",
                aggregate="last",
                format="integer",
                series=_one(dataset, "current.row_count", "rows"),
            ),
            _panel_of(
                "counter",
                "Missing cells (latest)",
                size="third",
                aggregate="last",
                format="percent",
                series=_one(dataset, "current.missing_cells_share", "missing cells"),
            ),
            _panel_of(
                "counter",
                "Rows (sum over the range)",
                size="third",
                aggregate="sum",
                format="integer",
                series=_one(dataset, "current.row_count", "rows"),
            ),
            _panel_of(
                "bar",
                "Rows per snapshot",
                size="half",
                format="integer",
                series=_one(dataset, "current.row_count", "rows"),
            ),
        ]
    missing = _lines(present, "ColumnSummary", "current.missing_share")
    if missing:
        panels.append(
            _panel_of(
                "line",
                "Missing values per column",
                size="half",
                format="percent",
                series=missing,
                thresholds=[{"value": 0.05, "label": "5%", "color": "#dc2626"}],
            )
        )
    means = _lines(present, "ColumnSummary", "current.mean", limit=4)
    if means:
        panels.append(_panel_of("scatter", "Column means", size="half", series=means))
    numerical = [
        m
        for m, p, f in present.metrics("ColumnDistribution")
        if not _segmented(p) and "current.count" in f
    ]
    if numerical:
        panels.append(
            _panel_of(
                "distribution",
                f"Distribution of {_column(present.by_type['ColumnDistribution'][numerical[0]][0])} over time",
                size="half",
                metric=numerical[0],
            )
        )
    return panels


def _drift_tab(present: _Present) -> list[dict[str, Any]]:
    panels = []
    for metric, params, fields in present.metrics("DatasetDrift"):
        if _segmented(params) or "drifted_share" not in fields:
            continue
        limit = params.get("drift_share")
        thresholds = (
            [{"value": float(limit), "label": "dataset drift", "color": "#dc2626"}]
            if isinstance(limit, (int, float))
            else []
        )
        panels += [
            _panel_of(
                "counter",
                "Drifted columns (latest)",
                size="third",
                aggregate="last",
                format="percent",
                series=_one(metric, "drifted_share", "share of drifted columns"),
                thresholds=thresholds,
            ),
            _panel_of(
                "line",
                "Share of drifted columns",
                size="full" if not thresholds else "half",
                format="percent",
                series=_one(metric, "drifted_share", "share of drifted columns"),
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
                series=_one(metric, "drifted_columns", "drifted columns"),
            ),
        ]
        break
    scores = _lines(present, "ColumnDrift", "score")
    if scores:
        panels.append(_panel_of("line", "Drift score per column", size="full", series=scores))
    return panels


def _model_tab(present: _Present) -> list[dict[str, Any]]:
    panels = []
    classification = next(
        (m for m, p, _ in present.metrics("ClassificationQuality") if not _segmented(p)), None
    )
    if classification:
        fields = present.by_type["ClassificationQuality"][classification][1]
        headline = "current.roc_auc" if "current.roc_auc" in fields else "current.accuracy"
        panels += [
            _panel_of(
                "counter",
                "Accuracy (latest)",
                size="third",
                aggregate="last",
                series=_one(classification, "current.accuracy", "accuracy"),
            ),
            _panel_of(
                "counter",
                "F1 (average over the range)",
                size="third",
                aggregate="avg",
                series=_one(classification, "current.f1", "F1"),
            ),
            _panel_of(
                "counter",
                "Lowest " + ("ROC AUC" if headline.endswith("auc") else "accuracy"),
                size="third",
                aggregate="min",
                series=_one(classification, headline, headline.split(".")[-1]),
            ),
            _panel_of(
                "line",
                "Model quality",
                size="full",
                series=[
                    {"metric": classification, "field": f, "label": f.split(".")[-1], "color": c}
                    for f, c in zip(
                        (
                            "current.accuracy",
                            "current.precision",
                            "current.recall",
                            "current.f1",
                            "current.roc_auc",
                        ),
                        PALETTE,
                        strict=False,
                    )
                    if f in fields
                ],
            ),
        ]
    regression = next(
        (m for m, p, _ in present.metrics("RegressionQuality") if not _segmented(p)), None
    )
    if regression:
        fields = present.by_type["RegressionQuality"][regression][1]
        errors = [f for f in ("current.mae", "current.rmse", "current.mape") if f in fields]
        panels += [
            _panel_of(
                "counter",
                f"{errors[0].split('.')[-1].upper()} (latest)" if errors else "Rows",
                size="third",
                aggregate="last",
                series=_one(regression, errors[0] if errors else "current.rows", "error"),
            ),
            _panel_of(
                "line",
                "Regression error",
                size="full",
                series=[
                    {"metric": regression, "field": f, "label": f.split(".")[-1], "color": c}
                    for f, c in zip(errors, PALETTE, strict=False)
                ],
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


def ensure_default_dashboard(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    """A `snapshot_ingested` receiver: after a project's first snapshot, save its default
    dashboard (later snapshots leave the dashboard to its people)."""
    project = snapshot.project
    if Dashboard.objects.filter(project=project).exists():
        return
    spec = default_spec(project)
    if not spec["tabs"]:
        return
    # Someone (another worker, a person) may have saved one first: theirs stands.
    with contextlib.suppress(VersionConflict):
        save_dashboard(project, spec, expected_version=0)
