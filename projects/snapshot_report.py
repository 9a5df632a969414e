"""A stored snapshot document turned into the sections of a readable report (pure: no database)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

# Metrics the drift table shows; every other metric is listed with its values, by type.
COLUMN_DRIFT_TYPES = ("ColumnDrift", "EmbeddingsDrift")
DATASET_DRIFT_TYPE = "DatasetDrift"
# A ColumnDistribution's values are only its counts, which its chart already shows.
CHART_ONLY_TYPES = ("ColumnDistribution",)
# Rows of one metric's value table: a confusion matrix of many labels stays readable, and the page
# small, with the rest summarised in one line.
MAX_VALUE_ROWS = 120
MAX_DETAIL_TEXT = 200
MAX_DETAIL_ITEMS = 20
# A group of many metrics starts folded so that the page opens on its summary and drift.
OPEN_GROUP_SIZE = 3
TEST_STATUS_ORDER = ("FAIL", "ERROR", "WARNING", "SUCCESS", "SKIPPED")
SIDES = ("current", "reference")


@dataclass(frozen=True)
class Value:
    """A number, boolean or missing value as read (`text`) and exactly (`raw`, its JSON)."""

    text: str
    raw: str
    missing: bool = False


@dataclass(frozen=True)
class Side:
    rows: int | None
    columns: int | None


@dataclass(frozen=True)
class Summary:
    current: Side | None
    reference: Side | None
    column_types: dict[str, int]  # type → how many columns
    roles: list[tuple[str, str]]  # (role, column)
    library: str


@dataclass(frozen=True)
class DriftRow:
    anchor: str
    metric_id: str
    column: str
    segment: str
    column_type: str
    method: str
    kind: str  # "p_value", "distance" or ""
    score: Value
    threshold: Value
    statistic: Value
    drifted: bool | None
    status: str
    reason: str
    chart_anchor: str = ""  # the column's distribution chart, when the snapshot has one
    # How the score meets the threshold to drift ("at or below", "below", "at or above", "above");
    # snapshots from before the library recorded it get the old rule for their kind.
    rule: str = ""


@dataclass(frozen=True)
class DatasetDriftRow:
    anchor: str
    metric_id: str
    label: str
    drifted_columns: Value
    columns: Value
    drifted_share: Value
    drift_share: Value
    drifted_percent: str
    drift_share_percent: str
    dataset_drift: bool | None
    status: str
    reason: str


@dataclass(frozen=True)
class ValueRow:
    field: str
    current: Value | None
    reference: Value | None = None
    # A value that belongs to neither side (such as a drift score) spans both columns.
    whole: bool = False


@dataclass(frozen=True)
class MetricTable:
    anchor: str
    metric_id: str
    type: str
    label: str
    status: str
    reason: str
    two_sided: bool
    rows: list[ValueRow]
    hidden_rows: int
    details: list[tuple[str, str]]


@dataclass(frozen=True)
class MetricGroup:
    type: str
    title: str
    metrics: list[MetricTable]
    open: bool


@dataclass(frozen=True)
class Chart:
    """One distribution: current and reference counts on the same bins, for a bar chart."""

    anchor: str
    metric_id: str
    title: str
    column: str
    segment: str
    kind: str  # "histogram" or "categories"
    column_type: str
    bins: list[str]  # a label per bin, for the table and for screen readers
    current: list[int]
    reference: list[int] | None
    edges: list[float | None] | None
    labels: list[str] | None

    @property
    def current_total(self) -> int:
        return sum(self.current)

    @property
    def reference_total(self) -> int | None:
        return sum(self.reference) if self.reference is not None else None

    def data(self) -> dict[str, Any]:
        """What the page's script draws (embedded with json_script)."""
        return {
            "title": self.title,
            "kind": self.kind,
            "columnType": self.column_type,
            "bins": self.bins,
            "edges": self.edges,
            "current": self.current,
            "reference": self.reference,
        }

    @property
    def rows(self) -> list[tuple[str, int, int | None]]:
        reference = self.reference or [None] * len(self.current)  # type: ignore[list-item]
        return list(zip(self.bins, self.current, reference, strict=False))


@dataclass(frozen=True)
class TestRow:
    __test__ = False  # not a pytest test class

    test_id: str
    name: str
    status: str
    critical: bool
    description: str
    metric_anchor: str
    value: Value | None
    condition_source: str


@dataclass(frozen=True)
class SnapshotReport:
    summary: Summary
    drift: list[DriftRow]
    dataset_drift: list[DatasetDriftRow]
    groups: list[MetricGroup]
    charts: list[Chart]
    tests: list[TestRow]
    test_counts: dict[str, int]
    tags: list[str]
    metadata: list[tuple[str, Value]]
    skipped: int = 0  # metrics skipped or in error, all sections together

    @property
    def drifted_count(self) -> int:
        return sum(1 for row in self.drift if row.drifted)

    @property
    def drift_checked(self) -> int:
        return sum(1 for row in self.drift if row.status == "ok")


def build_report(document: Mapping[str, Any]) -> SnapshotReport:
    """Read a snapshot document (the format of docs/snapshot-format.md) into report sections.

    Unknown metric types are listed with their values like any other; a metric that was skipped
    or failed keeps its place and shows its reason.
    """
    metrics = [m for m in document.get("metrics") or [] if isinstance(m, Mapping)]
    anchors: dict[Any, str] = {}  # metric id → where the page shows it, for the tests' links
    column_types = _dict(_dict(document.get("data")).get("column_types"))
    drift: list[DriftRow] = []
    dataset_drift: list[DatasetDriftRow] = []
    charts: list[Chart] = []
    grouped: dict[str, list[MetricTable]] = {}
    for index, metric in enumerate(metrics):
        kind = str(metric.get("type", ""))
        chart = _chart(metric, f"chart-{index}", column_types)
        if chart is not None:
            charts.append(chart)
        if kind in COLUMN_DRIFT_TYPES:
            drift.append(_drift_row(metric, f"drift-{index}", column_types))
            anchors.setdefault(metric.get("id"), f"drift-{index}")
        elif kind == DATASET_DRIFT_TYPE:
            dataset_drift.append(_dataset_drift_row(metric, f"drift-{index}"))
            anchors.setdefault(metric.get("id"), f"drift-{index}")
        elif kind not in CHART_ONLY_TYPES or chart is None:
            grouped.setdefault(kind, []).append(_metric_table(metric, f"metric-{index}"))
            anchors.setdefault(metric.get("id"), f"metric-{index}")
        else:
            anchors.setdefault(metric.get("id"), chart.anchor)
    chart_of: dict[tuple[str, str], str] = {}
    for chart in charts:
        if chart.column:
            chart_of.setdefault((chart.column, chart.segment), chart.anchor)
    drift = [
        replace(row, chart_anchor=chart_of.get((row.column, row.segment), "")) for row in drift
    ]
    # Drifted columns first: they are what a reader came for.
    drift.sort(key=lambda row: (row.status != "ok", not row.drifted))
    groups = [
        MetricGroup(
            type=kind,
            title=metric_title(kind),
            metrics=tables,
            open=len(tables) <= OPEN_GROUP_SIZE,
        )
        for kind, tables in grouped.items()
    ]
    tests = [_test_row(t, anchors) for t in document.get("tests") or [] if isinstance(t, Mapping)]
    tests.sort(key=lambda t: _rank(t.status))
    counts = dict.fromkeys(TEST_STATUS_ORDER, 0)
    for test in tests:
        counts[test.status] = counts.get(test.status, 0) + 1
    metadata = _dict(document.get("metadata"))
    return SnapshotReport(
        summary=_summary(document),
        drift=drift,
        dataset_drift=dataset_drift,
        groups=groups,
        charts=charts,
        tests=tests,
        test_counts=counts,
        tags=[str(tag) for tag in document.get("tags") or []],
        metadata=[(str(key), _label_value(metadata[key])) for key in metadata],
        skipped=sum(1 for m in metrics if m.get("status") in ("skipped", "error")),
    )


# ---- values ---------------------------------------------------------------------------------------


def format_number(value: Any) -> str:
    """A value as people read it: counts with separators, four significant digits otherwise."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        if abs(value) >= 1e-3:
            return f"{value:.4g}"
        return f"{value:.3g}"
    return str(value)


def format_percent(share: Any) -> str:
    """A share (0 to 1) as a percentage: 0.6667 → "66.7%", 0.5 → "50%"."""
    if not isinstance(share, (int, float)) or isinstance(share, bool):
        return "—"
    percent = round(100 * share, 1)
    return f"{percent:g}%"


def value_of(value: Any) -> Value:
    return Value(text=format_number(value), raw=json.dumps(value), missing=value is None)


def _label_value(value: Any) -> Value:
    """A metadata value as its author wrote it: a run number stays 1842, not "1,842"."""
    text = value if isinstance(value, str) else json.dumps(value)
    return Value(text=text, raw=json.dumps(value), missing=value is None)


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(field path, value) for each leaf of nested values: `{"a": {"b": 1}}` gives ("a.b", 1)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, path + ".")
        else:
            yield path, value


# ---- sections -------------------------------------------------------------------------------------


def _summary(document: Mapping[str, Any]) -> Summary:
    data = _dict(document.get("data"))
    types: dict[str, int] = {}
    for column_type in _dict(data.get("column_types")).values():
        types[str(column_type)] = types.get(str(column_type), 0) + 1
    library = _dict(document.get("library"))
    return Summary(
        current=_side(data.get("current")),
        reference=_side(data.get("reference")),
        column_types=types,
        roles=[(str(role), str(column)) for role, column in _dict(data.get("roles")).items()],
        library=" ".join(str(library[k]) for k in ("name", "version") if library.get(k)),
    )


def _side(value: Any) -> Side | None:
    if not isinstance(value, Mapping):
        return None
    return Side(rows=value.get("rows"), columns=value.get("columns"))


def _drift_row(metric: Mapping[str, Any], anchor: str, column_types: Mapping[str, Any]) -> DriftRow:
    params = _dict(metric.get("params"))
    values = _dict(metric.get("values"))
    details = _dict(metric.get("details"))
    column = str(params.get("column") or params.get("embeddings") or metric.get("id", ""))
    method = details.get("method_title") or details.get("method") or params.get("method") or ""
    if metric.get("type") == "EmbeddingsDrift":
        column_type = "embeddings"
        if params.get("metric") and params.get("method") == "distance":
            method = f"{method} ({params['metric']})"
    else:
        column_type = str(details.get("column_type") or column_types.get(column) or "")
    drifted = values.get("drifted")
    return DriftRow(
        anchor=anchor,
        metric_id=str(metric.get("id", "")),
        column=column,
        segment=_segment(params),
        column_type=column_type,
        method=str(method),
        kind=str(details.get("kind") or ""),
        score=value_of(values.get("score")),
        threshold=value_of(values.get("threshold")),
        statistic=value_of(values.get("statistic")),
        drifted=drifted if isinstance(drifted, bool) else None,
        status=str(metric.get("status", "")),
        reason=str(metric.get("reason") or ""),
        rule=str(
            details.get("rule")
            or {"p_value": "below", "distance": "at or above"}.get(str(details.get("kind")), "")
        ),
    )


def _dataset_drift_row(metric: Mapping[str, Any], anchor: str) -> DatasetDriftRow:
    values = _dict(metric.get("values"))
    params = _dict(metric.get("params"))
    drifted = values.get("dataset_drift")
    drift_share = values.get("drift_share", params.get("drift_share"))
    return DatasetDriftRow(
        anchor=anchor,
        metric_id=str(metric.get("id", "")),
        label=params_label({k: v for k, v in params.items() if k != "drift_share"}),
        drifted_columns=value_of(values.get("drifted_columns")),
        columns=value_of(values.get("columns")),
        drifted_share=value_of(values.get("drifted_share")),
        drift_share=value_of(drift_share),
        drifted_percent=format_percent(values.get("drifted_share")),
        drift_share_percent=format_percent(drift_share),
        dataset_drift=drifted if isinstance(drifted, bool) else None,
        status=str(metric.get("status", "")),
        reason=str(metric.get("reason") or ""),
    )


def _metric_table(metric: Mapping[str, Any], anchor: str) -> MetricTable:
    values = _dict(metric.get("values"))
    two_sided = any(isinstance(values.get(side), Mapping) for side in SIDES)
    rows: list[ValueRow] = []
    if two_sided:
        current = dict(flatten(_dict(values.get("current"))))
        reference = dict(flatten(_dict(values.get("reference"))))
        has_reference = "reference" in values
        for path in [*current, *(p for p in reference if p not in current)]:
            rows.append(
                ValueRow(
                    field=path,
                    current=value_of(current.get(path)),
                    reference=value_of(reference.get(path)) if has_reference else None,
                )
            )
        others = {k: v for k, v in values.items() if k not in SIDES}
        rows.extend(ValueRow(path, value_of(v), whole=True) for path, v in flatten(others))
    else:
        rows = [ValueRow(path, value_of(v), whole=True) for path, v in flatten(values)]
    params = _dict(metric.get("params"))
    return MetricTable(
        anchor=anchor,
        metric_id=str(metric.get("id", "")),
        type=str(metric.get("type", "")),
        label=params_label(params),  # empty: the group's title says it all
        status=str(metric.get("status", "")),
        reason=str(metric.get("reason") or ""),
        two_sided=two_sided,
        rows=rows[:MAX_VALUE_ROWS],
        hidden_rows=max(0, len(rows) - MAX_VALUE_ROWS),
        details=list(_readable_details(_dict(metric.get("details")))),
    )


def _readable_details(details: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Short details (names, single values, short lists of names); tables and matrices are left
    out, as they would swamp the page."""
    for key, value in details.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not prefix:  # one level down: {"current": {...}, "reference": {...}}
                yield from _readable_details(value, path + ".")
        elif isinstance(value, list):
            # Empty lists ("no constant columns") would only add noise.
            if 0 < len(value) <= MAX_DETAIL_ITEMS and all(_is_scalar(item) for item in value):
                text = ", ".join(format_number(item) for item in value)
                if len(text) <= MAX_DETAIL_TEXT:
                    yield path, text
        elif _is_scalar(value) and len(str(value)) <= MAX_DETAIL_TEXT:
            yield path, format_number(value)


def _chart(metric: Mapping[str, Any], anchor: str, column_types: Mapping[str, Any]) -> Chart | None:
    distribution = metric.get("distribution")
    if metric.get("status") != "ok" or not isinstance(distribution, Mapping):
        return None
    current = _counts(distribution.get("current"))
    if current is None or not current:
        return None
    reference = _counts(distribution.get("reference"))
    if reference is not None and len(reference) != len(current):
        reference = None  # not on the same bins: nothing to compare against
    params = _dict(metric.get("params"))
    column = params.get("column")
    kind = str(distribution.get("kind"))
    edges = distribution.get("edges")
    labels = distribution.get("labels")
    column_type = str(column_types.get(column, "")) if column else ""
    if kind == "histogram" and isinstance(edges, list) and len(edges) == len(current) + 1:
        bins = [
            f"{_edge(edges[i], column_type)} \u2013 {_edge(edges[i + 1], column_type)}"
            for i in range(len(current))
        ]
        labels = None
    elif isinstance(labels, list) and len(labels) == len(current):
        kind, edges, labels = "categories", None, [str(label) for label in labels]
        bins = labels
    else:
        kind, edges, labels = "categories", None, None
        bins = [str(i + 1) for i in range(len(current))]
    segment = _segment(params)
    title = str(column) if column else metric_title(str(metric.get("type", "")))
    return Chart(
        anchor=anchor,
        metric_id=str(metric.get("id", "")),
        title=f"{title} ({segment})" if segment else title,
        column=str(column or ""),
        segment=segment,
        kind=kind,
        column_type=column_type,
        bins=bins,
        current=current,
        reference=reference,
        edges=edges if kind == "histogram" else None,
        labels=labels,
    )


def _test_row(test: Mapping[str, Any], anchors: Mapping[Any, str]) -> TestRow:
    value = test.get("value")
    return TestRow(
        test_id=str(test.get("id", "")),
        name=str(test.get("name") or test.get("type") or ""),
        status=str(test.get("status", "")),
        critical=bool(test.get("critical", True)),
        description=str(test.get("description") or ""),
        metric_anchor=anchors.get(test.get("metric_id"), ""),
        value=value_of(value) if "value" in test else None,
        condition_source=str(test.get("condition_source") or ""),
    )


# ---- helpers --------------------------------------------------------------------------------------


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _counts(value: Any) -> list[int] | None:
    if not isinstance(value, list) or not all(isinstance(c, int) for c in value):
        return None
    return value


def _edge(value: Any, column_type: str) -> str:
    if value is None:
        return "…"
    if column_type == "datetime":
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%d %H:%M")
    return format_number(value)


def _rank(status: str) -> int:
    return (
        TEST_STATUS_ORDER.index(status) if status in TEST_STATUS_ORDER else len(TEST_STATUS_ORDER)
    )


def _segment(params: Mapping[str, Any]) -> str:
    segment = params.get("segment")
    if isinstance(segment, Mapping):
        return f"{segment.get('column')} = {segment.get('value')}"
    return ""


def params_label(params: Mapping[str, Any]) -> str:
    """Parameters as a short line: `column=age, bins=20`, the segment last."""
    parts = []
    for key, value in params.items():
        if value is None or key == "segment":
            continue
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        parts.append(f"{key}={_shorten(text, 60)}")
    segment = _segment(params)
    if segment:
        parts.append(f"segment {segment}")
    return ", ".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def metric_title(type_name: str) -> str:
    """`ColumnSummary` → "Column summary"; acronyms stay whole (`RocCurve` → "Roc curve")."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", type_name)
    if not words:
        return type_name
    return " ".join([words[0], *(w.lower() if not w.isupper() else w for w in words[1:])])
