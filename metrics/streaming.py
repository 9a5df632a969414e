"""Reports over Parquet files larger than memory: the data is streamed in row batches, each batch
gives mergeable partial aggregates (`metrics.partials`), and the metrics are read off the merged
partials. Memory stays bounded by the batch size and the partials, not by the rows.

`Report.run(current, reference)` takes this path when `current` (and `reference`) is a Parquet
file, a directory of them, or a list of files. The data summary and data drift presets run on it,
and so do their metrics alone (`STREAMED_METRICS`); anything else is refused before any reading,
with the list of what is supported.

Exact and approximate, as in `metrics.partials`: counts, shares, means, standard deviations,
value counts, correlations, duplicates and the drift of categorical columns equal the in-memory
path. Quantiles, the unique count and Wasserstein / KS drift of numerical columns with more than
`DISTINCT_CAP` distinct values come from sketches; their results then say `approximate: true` and
give the error bound (`error_bound`, and `rank_error` for quantiles).

Two passes over each side: the first computes the partials; the second, only for the histograms
of `ColumnDistribution`, counts values into bins fixed from the first pass's range.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from metrics import partials
from metrics.computations import drift_methods
from metrics.computations.column_stats import (
    ColumnDistribution,
    ColumnSummary,
    ColumnValueCounts,
    _share,
    category_distribution,
    histogram_edges,
    label_text,
    value_counts_summary,
)
from metrics.computations.drift import (
    FEW_VALUES,
    ColumnDrift,
    DatasetDrift,
    categorical_drift,
    default_method,
    drift_result,
)
from metrics.computations.quality import (
    _HASH_PRIME,
    Correlations,
    DatasetSummary,
    correlation_summary,
    quality_values,
)
from metrics.core.base import Context, Distribution, Metric, MetricError, MetricResult
from metrics.core.columns import ColumnData
from metrics.core.definition import ColumnType, Schema
from metrics.core.progress import Progress, progress_enabled

BATCH_ROWS = 250_000
SAMPLE_ROWS = 10_000
DISTINCT_CAP = partials.DEFAULT_DISTINCT_CAP
STREAMED_METRICS = (
    ColumnSummary,
    ColumnValueCounts,
    ColumnDistribution,
    ColumnDrift,
    DatasetDrift,
    Correlations,
    DatasetSummary,
)
NUMBERS = (ColumnType.NUMERICAL, ColumnType.DATETIME)
# Numerical drift methods computed from partials: on sketches, or on exact value counts.
SKETCHED_METHODS = ("wasserstein", "ks")


@dataclass
class ParquetSource:
    """Parquet files read in batches of `batch_rows` rows (pyarrow), one batch in memory at once."""

    files: list[Path]
    batch_rows: int = BATCH_ROWS

    @classmethod
    def of(cls, data: Any, batch_rows: int | None = None) -> ParquetSource:
        paths = [Path(p) for p in (data if isinstance(data, (list, tuple)) else [data])]
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*.parquet") if p.is_file())
                if not found:
                    raise ValueError(f"No .parquet files in the directory {str(path)!r}.")
                files += found
            elif path.is_file():
                files.append(path)
            else:
                raise ValueError(f"No such Parquet file or directory: {str(path)!r}.")
        return cls(files, batch_rows or BATCH_ROWS)

    @property
    def rows(self) -> int:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files)

    @property
    def batches(self) -> int:
        """How many batches a pass reads (for the progress bar)."""
        import pyarrow.parquet as pq

        total = 0
        for f in self.files:
            metadata = pq.ParquetFile(f).metadata
            for i in range(metadata.num_row_groups):
                total += -(-metadata.row_group(i).num_rows // self.batch_rows)
        return total

    def sample(self, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
        """The first rows, for inferring column types (and for presets that look at the data)."""
        for frame in self.frames():
            return frame.iloc[:rows]
        raise ValueError(f"The Parquet data {[str(f) for f in self.files]} has no rows.")

    title = "Streaming Parquet"

    @property
    def steps(self) -> int:
        return self.batches

    def partials(self, plan: Plan, bar: Progress, side: str) -> SidePartials:
        return first_pass(self, plan, bar, side)

    def histograms(
        self, plan: Plan, edges: dict[str, np.ndarray], bar: Progress, side: str
    ) -> dict[str, np.ndarray]:
        counts = {c: np.zeros(len(e) - 1, dtype=np.int64) for c, e in edges.items()}
        for frame in self.frames(list(edges)):
            for column, found in frame_histograms(frame, plan, edges).items():
                counts[column] += found
            bar.advance(note=f"{side} histograms")
        return counts

    def frames(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        for f in self.files:
            reader = pq.ParquetFile(f)
            for batch in reader.iter_batches(batch_size=self.batch_rows, columns=columns):
                yield batch.to_pandas()


# ---- the partials of one side ----------------------------------------------------------------


@dataclass
class SidePartials:
    """Everything the streamed metrics read about one side, merged over its batches."""

    rows: int = 0
    numeric: dict[str, partials.NumericPartial] = field(default_factory=dict)
    categorical: dict[str, partials.CategoricalPartial] = field(default_factory=dict)
    text_lengths: dict[str, float] = field(default_factory=dict)
    correlations: dict[tuple[str, ...], partials.CorrelationPartial] = field(default_factory=dict)
    histograms: dict[str, np.ndarray] = field(default_factory=dict)
    # DatasetSummary's: missing per column, rows with any / all missing, row hashes, and equal
    # cells per pair of same-typed columns.
    missing: dict[str, int] = field(default_factory=dict)
    rows_with_missing: int = 0
    empty_rows: int = 0
    # One 8-byte hash per row (the only part that grows with the rows), filled batch by batch.
    row_hashes: list[np.ndarray] = field(default_factory=list)
    equal_cells: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class Plan:
    """What the metrics need: which columns, which correlations, whether the dataset summary."""

    schema: Schema
    columns: list[str]
    correlations: list[tuple[str, ...]]
    dataset_summary: bool
    histograms: dict[str, int]  # column -> bins


def plan_for(metrics: list[Metric], schema: Schema) -> Plan:
    unsupported = sorted({m.type for m in metrics if not isinstance(m, STREAMED_METRICS)})
    if unsupported or any(m.segment is not None for m in metrics):
        names = ", ".join(sorted(t.__name__ for t in STREAMED_METRICS))
        problem = f"{', '.join(unsupported)} cannot run" if unsupported else "Segments cannot run"
        raise ValueError(
            f"{problem} on streamed Parquet data. Streamed data supports {names} (the data "
            "summary and data drift presets); load the data into pandas for the rest."
        )
    columns: list[str] = []
    correlations: list[tuple[str, ...]] = []
    histograms: dict[str, int] = {}
    summary = False
    for metric in metrics:
        if isinstance(metric, DatasetSummary):
            summary = True
        elif isinstance(metric, Correlations):
            if metric.params["method"] != "pearson":
                raise ValueError(
                    f"Streamed data has Pearson correlations only, not {metric.params['method']}."
                )
            with contextlib.suppress(MetricError):  # the metric reports it
                correlations.append(tuple(metric.checked_columns(schema)))
        elif metric.column is not None and metric.column not in columns:
            columns.append(metric.column)
        column_type = schema.types.get(str(metric.column))
        if isinstance(metric, ColumnDistribution) and column_type in NUMBERS:
            histograms[str(metric.column)] = metric.params["bins"]
    if summary:
        for column in schema.types:
            if column not in columns:
                columns.append(column)
    return Plan(schema, columns, correlations, summary, histograms)


def _column_hash(series: pd.Series) -> np.ndarray:
    """A hash per value that is the same in every batch (by value, never by batch-local codes)."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcmM":
        return pd.util.hash_array(series.to_numpy())
    return pd.util.hash_array(series.to_numpy(dtype=object), categorize=True)


def _equal_cells(a: pd.Series, b: pd.Series) -> int:
    """Cells equal in both columns, two nulls counting as equal (as DatasetSummary counts)."""
    same = a.eq(b).fillna(False).to_numpy(dtype=bool) | (a.isna().to_numpy() & b.isna().to_numpy())
    return int(np.count_nonzero(same))


def _groups(plan: Plan, columns: list[str]) -> list[list[str]]:
    groups: dict[object, list[str]] = {}
    for column in columns:
        groups.setdefault(plan.schema.types.get(column, "role"), []).append(column)
    return [g for g in groups.values() if len(g) > 1]


def _merge_dicts(a: dict[Any, Any], b: dict[Any, Any], add: Any) -> dict[Any, Any]:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = value if key not in merged else add(merged[key], value)
    return merged


def merge_sides(a: SidePartials, b: SidePartials) -> SidePartials:
    """Two partitions' partials as one (in row order: a's rows first)."""

    def merge(x: Any, y: Any) -> Any:
        return x.merge(y)

    def plus(x: Any, y: Any) -> Any:
        return x + y

    return SidePartials(
        rows=a.rows + b.rows,
        numeric=_merge_dicts(a.numeric, b.numeric, merge),
        categorical=_merge_dicts(a.categorical, b.categorical, merge),
        text_lengths=_merge_dicts(a.text_lengths, b.text_lengths, plus),
        correlations=_merge_dicts(a.correlations, b.correlations, merge),
        histograms=_merge_dicts(a.histograms, b.histograms, plus),
        missing=_merge_dicts(a.missing, b.missing, plus),
        rows_with_missing=a.rows_with_missing + b.rows_with_missing,
        empty_rows=a.empty_rows + b.empty_rows,
        row_hashes=[*a.row_hashes, *b.row_hashes],
        equal_cells=_merge_dicts(a.equal_cells, b.equal_cells, plus),
    )


def merge_all(parts: list[SidePartials]) -> SidePartials:
    """Partitions' partials merged as a balanced tree, in order."""
    if not parts:
        return SidePartials()
    while len(parts) > 1:
        parts = [
            merge_sides(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


def frame_partials(frame: pd.DataFrame, plan: Plan, side: str = "current") -> SidePartials:
    """One batch's or partition's partials: what every engine computes per piece of data."""
    schema = plan.schema
    missing_here = [c for c in plan.columns if c not in frame.columns]
    if missing_here:
        raise ValueError(f"The {side} data has no column {missing_here[0]!r}.")
    out = SidePartials(rows=len(frame))
    for column in plan.columns:
        column_type = schema.types.get(column)
        if column_type in NUMBERS:
            values = ColumnData(frame[column], column_type).values
            out.numeric[column] = partials.NumericPartial.from_array(
                values, distinct_cap=DISTINCT_CAP
            )
        elif column_type is not None:
            out.categorical[column] = partials.CategoricalPartial.from_array(frame[column])
            if column_type == ColumnType.TEXT:
                lengths = frame[column].dropna().astype(str).str.len()
                out.text_lengths[column] = float(lengths.sum())
    for wanted in plan.correlations:
        block = np.column_stack(
            [frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in wanted]
        )
        out.correlations[wanted] = partials.CorrelationPartial.from_array(block, list(wanted))
    if plan.dataset_summary:
        summary_columns = [c for c in plan.columns if c in schema.types or c in schema.roles]
        nulls = frame[summary_columns].isna().to_numpy()
        out.missing = dict(zip(summary_columns, nulls.sum(axis=0).tolist(), strict=True))
        per_row = nulls.sum(axis=1)
        out.rows_with_missing = int(np.count_nonzero(per_row))
        out.empty_rows = int(np.count_nonzero(per_row == len(summary_columns)))
        combined = np.zeros(len(frame), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for column in summary_columns:
                combined = combined * _HASH_PRIME ^ _column_hash(frame[column])
        out.row_hashes = [combined]
        for group in _groups(plan, summary_columns):
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    out.equal_cells[(a, b)] = _equal_cells(frame[a], frame[b])
    return out


def frame_histograms(
    frame: pd.DataFrame, plan: Plan, edges: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Histogram counts on the given bin edges (bin i: edges[i] <= x < edges[i+1]; the last bin
    holds its right edge too), as `ColumnDistribution` counts them."""
    counts = {}
    for column, column_edges in edges.items():
        values = ColumnData(frame[column], plan.schema.types[column]).values
        finite = values[np.isfinite(values)]
        inner = column_edges[1:-1]
        counts[column] = np.bincount(
            np.searchsorted(inner, finite, side="right"), minlength=len(inner) + 1
        )
    return counts


def first_pass(source: ParquetSource, plan: Plan, bar: Progress, side: str) -> SidePartials:
    out = SidePartials()
    # The row hashes (8 bytes a row, the only part that grows with the rows) go into one array.
    hashes = np.empty(source.rows if plan.dataset_summary else 0, dtype=np.uint64)
    filled = 0
    for frame in source.frames():
        chunk = frame_partials(frame, plan, side)
        for block in chunk.row_hashes:
            hashes[filled : filled + len(block)] = block
            filled += len(block)
        chunk.row_hashes = []
        out = merge_sides(out, chunk)
        bar.advance(note=f"{side} batch")
    out.row_hashes = [hashes[:filled]] if plan.dataset_summary else []
    return out


def histogram_plan(ctx: StreamContext, plan: Plan) -> dict[str, np.ndarray]:
    """The bins of each drawn numerical column, over both sides' range (from the first pass)."""
    edges = {}
    for column, bins in plan.histograms.items():
        found = [s.numeric[column] for s in ctx.sides.values() if s.numeric[column].count]
        if found:
            low = min(p.min for p in found)
            high = max(p.max for p in found)
            edges[column] = histogram_edges(low, high, bins, ctx.schema.types[column])
    return edges


# ---- the metrics, from the partials -------------------------------------------------------------


class StreamContext(Context):
    """A run's context over streamed data: the schema, a sample of each side (for presets), and the
    merged partials the metrics read."""

    def __init__(
        self,
        sample_current: pd.DataFrame,
        sample_reference: pd.DataFrame | None,
        schema: Schema,
    ) -> None:
        super().__init__(sample_current, sample_reference, schema)
        self.sides: dict[str, SidePartials] = {}
        self.edges: dict[str, np.ndarray] = {}

    def _compute(self, metric: Metric) -> MetricResult:
        if metric.requires_reference and "reference" not in self.sides:
            return metric.result(
                {}, status="skipped", reason="Needs reference data; none was given."
            )
        try:
            return _HANDLERS[type(metric)](metric, self)
        except MetricError as exc:
            return metric.result({}, status="error", reason=str(exc))
        except Exception as exc:  # a bug or bad data: reported on this metric, the run goes on
            return metric.result({}, status="error", reason=f"{type(exc).__name__}: {exc}")


def _numeric_summary(p: partials.NumericPartial, column_type: ColumnType) -> dict[str, Any]:
    stats = p.summary()
    if column_type == ColumnType.DATETIME:
        keep = ("count", "missing", "missing_share", "unique", "unique_share", "most_common_share")
        stats = {k: stats[k] for k in keep}
        stats["min"] = p.min / 1e9 if p.count else float("nan")
        stats["max"] = p.max / 1e9 if p.count else float("nan")
    if not p.exact:
        stats["approximate"] = True
        stats["rank_error"] = p.rank_error
    return stats


def _column_summary(metric: Metric, ctx: StreamContext) -> MetricResult:
    column = str(metric.column)
    column_type = ctx.schema.types[column]
    values: dict[str, Any] = {}
    details: dict[str, Any] = {"column_type": str(column_type)}
    for side, found in ctx.sides.items():
        if column_type in NUMBERS:
            p = found.numeric[column]
            values[side] = _numeric_summary(p, column_type)
            common = p.most_common
            most: Any = float(common[0]) if common else None
            if column_type == ColumnType.DATETIME and p.count:
                most = pd.Timestamp(int(most), tz="UTC").isoformat() if most is not None else None
                details[f"{side}_min"] = pd.Timestamp(int(p.min), tz="UTC").isoformat()
                details[f"{side}_max"] = pd.Timestamp(int(p.max), tz="UTC").isoformat()
            details[f"{side}_most_common"] = most
        else:
            c = found.categorical[column]
            labels, counts = c.value_counts()
            stats: dict[str, Any] = {
                "count": c.count,
                "missing": c.missing,
                "missing_share": _share(c.missing, c.rows),
                "unique": c.unique,
                "unique_share": _share(c.unique, c.count),
                "most_common_share": _share(int(counts[0]), c.count) if len(counts) else np.nan,
            }
            if column_type == ColumnType.TEXT:
                stats["mean_length"] = (
                    found.text_lengths[column] / c.count if c.count else float("nan")
                )
            values[side] = stats
            details[f"{side}_most_common"] = label_text(labels[0]) if len(labels) else None
    return metric.result(values, details)


def _value_counts(metric: Metric, ctx: StreamContext) -> MetricResult:
    column = str(metric.column)
    values: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for side, found in ctx.sides.items():
        if column in found.numeric:
            p = found.numeric[column]
            if not p.exact:
                raise MetricError(
                    f"{column!r} has more than {DISTINCT_CAP} distinct values; its value counts "
                    "are not kept on streamed data."
                )
            labels, counts = p.values_counts
        else:
            labels, counts = found.categorical[column].value_counts()
        values[side], details[side] = value_counts_summary(labels, counts, metric.params["top"])
    return metric.result(values, details)


def _distribution(metric: Metric, ctx: StreamContext) -> MetricResult:
    column = str(metric.column)
    if column in ctx.edges:
        edges = ctx.edges[column]
        counts = {side: found.histograms[column].tolist() for side, found in ctx.sides.items()}
        scale = 1e9 if ctx.schema.types[column] == ColumnType.DATETIME else 1.0
        distribution = Distribution(
            kind="histogram",
            current=counts["current"],
            reference=counts.get("reference"),
            edges=[float(e) / scale for e in edges],
        )
    else:
        current = ctx.sides["current"].categorical[column]
        if "reference" in ctx.sides:
            labels, ref_counts, cur_counts = partials.shared_category_counts(
                ctx.sides["reference"].categorical[column], current
            )
            distribution = category_distribution(
                labels, cur_counts, ref_counts, metric.params["top"]
            )
        else:
            labels, cur_counts = current.value_counts()
            distribution = category_distribution(labels, cur_counts, None, metric.params["top"])
    values = {side: {"count": int(np.sum(getattr(distribution, side)))} for side in ctx.sides}
    return metric.result(values, distribution=distribution)


def _drift(metric: Metric, ctx: StreamContext) -> MetricResult:
    column = str(metric.column)
    column_type = ctx.schema.types[column]
    method_name = metric.params.get("method")
    threshold = metric.params.get("threshold")
    reference, current = ctx.sides["reference"], ctx.sides["current"]
    if column_type == ColumnType.DATETIME:
        raise MetricError(f"Column {column!r} is a datetime; datetimes are not checked for drift.")
    if column_type == ColumnType.TEXT:
        raise MetricError(f"Text drift (a domain classifier) needs the rows: {column!r} is text.")
    changes: dict[str, Any] = {}
    named: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if column_type == ColumnType.NUMERICAL:
        ref, cur = reference.numeric[column], current.numeric[column]
        for side, p in (("reference", ref), ("current", cur)):
            if p.count == 0:
                raise MetricError(f"Column {column!r} has no finite values in the {side} data.")
        exact = ref.exact and cur.exact
        distinct = (
            len(partials.shared_value_counts(ref, cur)[0]) if exact else ref.unique + cur.unique
        )
        if method_name is None:
            method_name = default_method(column_type, ref.count, distinct)
        method = drift_methods.METHODS[method_name]
        if method_name in SKETCHED_METHODS:
            if method_name == "wasserstein":
                estimate = partials.wasserstein(ref, cur)
                measure = drift_methods.Measure(estimate.value)
            else:
                estimate = partials.ks_statistic(ref, cur)
                measure = drift_methods.Measure(
                    partials.ks_p_value(estimate.value, ref.count, cur.count), estimate.value
                )
            if not estimate.exact:
                extra = {"approximate": True, "error_bound": estimate.bound}
        elif exact and distinct <= FEW_VALUES and method.input != "samples":
            _, ref_counts, cur_counts = partials.shared_value_counts(ref, cur)
            measure = method.func(ref_counts, cur_counts)
        else:
            raise MetricError(
                f"{method.title} needs the rows of {column!r}; on streamed data numerical columns "
                f"use {' or '.join(SKETCHED_METHODS)} (or any method with at most {FEW_VALUES} "
                "distinct values)."
            )
    else:
        categories, ref_counts, cur_counts = partials.shared_category_counts(
            reference.categorical[column], current.categorical[column]
        )
        method, measure, changes, named = categorical_drift(
            column, method_name, categories, ref_counts, cur_counts
        )
    return drift_result(metric, method, measure, threshold, column_type, changes, named, extra)


def _dataset_drift(metric: Metric, ctx: StreamContext) -> MetricResult:
    return metric.compute(ctx)  # it reads the column drift results through ctx.result


def _correlations(metric: Metric, ctx: StreamContext) -> MetricResult:
    assert isinstance(metric, Correlations)
    columns = metric.checked_columns(ctx.schema)
    matrices = {
        side: found.correlations[tuple(columns)].matrix() for side, found in ctx.sides.items()
    }
    values, details = correlation_summary(metric, columns, matrices)
    return metric.result(values, details)


def _dataset_summary(metric: Metric, ctx: StreamContext) -> MetricResult:
    schema = ctx.schema
    values: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for side, found in ctx.sides.items():
        columns = list(found.missing)
        unique, share = {}, {}
        for column in columns:
            if column in found.numeric:
                p = found.numeric[column]
                unique[column], share[column] = p.unique, p.most_common_share
            elif column in found.categorical:
                c = found.categorical[column]
                counts = c.value_counts()[1]
                unique[column] = c.unique
                share[column] = _share(int(counts[0]), c.count) if len(counts) else np.nan
        hashes = (
            found.row_hashes[0]
            if len(found.row_hashes) == 1
            else np.concatenate(found.row_hashes or [np.zeros(0, dtype=np.uint64)])
        )
        hashes.sort()  # in place: no copy of the one array that grows with the rows
        rows = found.rows
        duplicated_rows = int(np.count_nonzero(hashes[1:] == hashes[:-1])) if rows else 0
        equal = found.equal_cells
        duplicated_columns = [pair for pair, n in equal.items() if n == rows]
        # The first of a set of equal columns keeps its name; later ones pair with the first.
        first_of: dict[str, str] = {}
        exact_pairs = []
        for a, b in duplicated_columns:
            if b not in first_of:
                first_of[b] = first_of.get(a, a)
                exact_pairs.append((first_of[b], b))
        threshold = metric.params["almost_duplicated"]
        almost = [
            (a, b, n / rows)
            for (a, b), n in equal.items()
            if rows and n / rows >= threshold and n != rows
        ]
        values[side], details[side] = quality_values(
            metric,
            schema,
            columns=columns,
            rows=rows,
            per_column_missing=np.array([found.missing[c] for c in columns]),
            rows_with_missing=found.rows_with_missing,
            empty_rows=found.empty_rows,
            unique=unique,
            most_common_share=share,
            duplicated_rows=duplicated_rows,
            duplicated_columns=exact_pairs,
            almost_duplicated=almost,
        )
    return metric.result(values, details)


_HANDLERS: dict[type, Any] = {
    ColumnSummary: _column_summary,
    ColumnValueCounts: _value_counts,
    ColumnDistribution: _distribution,
    ColumnDrift: _drift,
    DatasetDrift: _dataset_drift,
    Correlations: _correlations,
    DatasetSummary: _dataset_summary,
}


class Source(Protocol):
    """Where a side's data comes from: Parquet files here, the engines in `metrics.engines`."""

    title: str

    @property
    def steps(self) -> int: ...  # units of progress per pass (batches, partitions)

    def sample(self, rows: int = SAMPLE_ROWS) -> pd.DataFrame: ...

    def partials(self, plan: Plan, bar: Progress, side: str) -> SidePartials: ...

    def histograms(
        self, plan: Plan, edges: dict[str, np.ndarray], bar: Progress, side: str
    ) -> dict[str, np.ndarray]: ...


def stream(
    ctx: StreamContext,
    metrics: list[Metric],
    sources: dict[str, Source],
    progress: bool | None,
) -> None:
    """Read each side once (twice when histograms are drawn) and keep its merged partials."""
    plan = plan_for(metrics, ctx.schema)
    steps = {side: source.steps for side, source in sources.items()}
    passes = 2 if plan.histograms else 1
    total = sum(steps.values()) * passes
    title = sources["current"].title
    with Progress(total, title, enabled=progress_enabled(progress)) as bar:
        for side, source in sources.items():
            ctx.sides[side] = source.partials(plan, bar, side)
        if plan.histograms:
            ctx.edges = histogram_plan(ctx, plan)
            for side, source in sources.items():
                ctx.sides[side].histograms = source.histograms(plan, ctx.edges, bar, side)


def data_summary(ctx: StreamContext, schema: Schema) -> dict[str, Any]:
    sides = {
        side: {"rows": found.rows, "columns": len(ctx.current.columns)}
        for side, found in ctx.sides.items()
    }
    return {
        "current": sides["current"],
        "reference": sides.get("reference"),
        "column_types": {c: str(t) for c, t in schema.types.items()},
        "roles": dict(schema.roles),
        "embeddings": {k: list(v) for k, v in schema.embeddings.items()},
        "streamed": True,
    }
