"""Reports and test suites: run metrics (and tests) over a current and an optional reference frame.

    report = Report([DataSummaryPreset(), DataDriftPreset()], tests=[DataStabilityTestPreset()])
    run = report.run(current, reference)
    run.metric(ColumnSummary(column="age")).get("current.mean")
    run.passed                         # the tests' outcome
    run.drift_by_column()["age"].drifted       # per-column drift, without rebuilding metric ids
    run.classification_by_label()[1].f1        # per-label quality, keyed by the label itself
    run.save("report.json")            # one snapshot document: metric results and test results
    workspace.add_snapshot(project_id, run.snapshot())

Each metric is computed once per run, however many presets and tests ask for it: a report given
tests computes the metrics the tests read once, for both. A batch that is still pushed as two
snapshots (a report's and a suite's) links them with `batch_id`, so the platform counts the batch
once. Column metrics are
computed column by column, each column's working arrays released once its metrics are done, so a
wide frame costs little more memory than a narrow one; with `n_jobs > 1` the columns are spread over
worker processes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import pandas as pd

from metrics.computations.descriptors.frames import with_descriptors
from metrics.computations.drift import resolve_method
from metrics.core.base import Context, Metric, MetricResult, expand
from metrics.core.definition import DataDefinition, Schema
from metrics.core.progress import Progress, progress_enabled
from metrics.core.snapshot import (
    BATCH_ID_KEY,
    Snapshot,
    check_batch_id,
    parse_timestamp,
    with_batch_id,
)
from metrics.suites.base import Test, TestResult, TestStatus
from metrics.version import __version__


@dataclass(frozen=True)
class ColumnDriftResult:
    """One column's drift in a run (a `ColumnDrift` result, read for people). `status` is "ok", or
    "error" / "skipped" with `reason` and the values None."""

    column: str
    method: str | None
    kind: str | None  # "p_value" or "distance"
    score: float | None
    threshold: float | None
    drifted: bool | None
    statistic: float | None
    rule: str | None  # how the score meets the threshold to drift: "at or below", ...
    column_type: str | None
    status: str
    reason: str | None
    metric_id: str


@dataclass(frozen=True)
class LabelQuality:
    """One label's quality on one side of a run (a `ClassificationByLabel` result). The rates
    are None when the label has no rows on that side."""

    label: Any
    precision: float | None
    recall: float | None
    f1: float | None
    support: int
    predicted: int
    roc_auc: float | None
    metric_id: str


class Run:
    """The outcome of a report or test suite run: metric results, test results, and the snapshot."""

    def __init__(
        self,
        *,
        schema: Schema,
        results: list[MetricResult],
        tests: list[TestResult],
        data: dict[str, Any],
        timestamp: datetime,
        name: str | None,
        tags: Sequence[str],
        metadata: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.results = results
        self.tests = tests
        self.data = data
        self.timestamp = timestamp
        self.name = name
        self.tags = list(tags)
        self.metadata = metadata
        self.id = Snapshot.new_id()
        self._by_id = {r.metric_id: r for r in results}

    def metric(self, metric: Metric | str) -> MetricResult:
        key = metric if isinstance(metric, str) else metric.id
        try:
            return self._by_id[key]
        except KeyError:
            raise KeyError(f"{key} was not part of this run.") from None

    def drift_by_column(self, method: str | None = None) -> dict[str, ColumnDriftResult]:
        """Each column's drift result in this run, by column (in run order). When a column was
        checked more than once (different methods), the first result wins; `method=` (ours or
        Evidently's name) keeps only the results of that method. Per-segment results are left out.
        """
        wanted = None if method is None else resolve_method(method, "method")
        found: dict[str, ColumnDriftResult] = {}
        for result in self.results:
            if result.type != "ColumnDrift" or "segment" in result.params:
                continue
            column = str(result.params["column"])
            if column in found:
                continue
            used = result.details.get("method") or result.params.get("method")
            if wanted is not None and used != wanted:
                continue
            values = result.values
            found[column] = ColumnDriftResult(
                column=column,
                method=used,
                kind=result.details.get("kind"),
                score=values.get("score"),
                threshold=values.get("threshold"),
                drifted=values.get("drifted"),
                statistic=values.get("statistic"),
                rule=result.details.get("rule"),
                column_type=result.details.get("column_type"),
                status=result.status,
                reason=result.reason,
                metric_id=result.metric_id,
            )
        return found

    def classification_by_label(self, side: str = "current") -> dict[Any, LabelQuality]:
        """Each label's precision, recall, F1, support, predicted count and (with probabilities)
        ROC AUC on `side` ("current" or "reference"), keyed by the label as it is in the data
        (an int stays an int, a bool a bool). Only the run's `ClassificationByLabel` results that
        computed; per-segment results are left out."""
        if side not in ("current", "reference"):
            raise ValueError(f"side must be 'current' or 'reference', not {side!r}.")
        found: dict[Any, LabelQuality] = {}
        for result in self.results:
            if result.type != "ClassificationByLabel" or "segment" in result.params:
                continue
            if result.status != "ok" or side not in result.values:
                continue
            label = result.params["label"]
            values = result.values[side]
            found[label] = LabelQuality(
                label=label,
                precision=values.get("precision"),
                recall=values.get("recall"),
                f1=values.get("f1"),
                support=int(values.get("support", 0)),
                predicted=int(values.get("predicted", 0)),
                roc_auc=values.get("roc_auc"),
                metric_id=result.metric_id,
            )
        return found

    @property
    def test_counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in TestStatus}
        for test in self.tests:
            counts[str(test.status)] += 1
        return counts

    @property
    def passed(self) -> bool:
        """No test failed or errored (warnings and skips do not fail a run)."""
        return not any(t.status in (TestStatus.FAIL, TestStatus.ERROR) for t in self.tests)

    def snapshot(self) -> Snapshot:
        return Snapshot(
            id=self.id,
            timestamp=self.timestamp,
            name=self.name,
            tags=self.tags,
            metadata=self.metadata,
            data=self.data,
            metrics=[r.to_dict() for r in self.results],
            tests=[t.to_dict() for t in self.tests],
            library={"name": "metrics", "version": __version__},
        )

    def dict(self) -> dict[str, Any]:
        return self.snapshot().to_dict()

    def json(self, indent: int | None = None) -> str:
        return self.snapshot().json(indent=indent)

    def save(self, path: str | Path) -> Path:
        return self.snapshot().save(path)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.test_counts.items() if v)
        return f"<Run {len(self.results)} metrics" + (f", tests: {counts}" if counts else "") + ">"


class _Runner:
    def __init__(
        self,
        items: Sequence[Any],
        tests: Sequence[Any],
        definition: DataDefinition | None,
        n_jobs: int,
        progress: bool | None,
    ) -> None:
        if n_jobs == -1:
            n_jobs = os.cpu_count() or 1
        if n_jobs < 1:
            raise ValueError(f"n_jobs must be at least 1 (or -1 for every CPU), not {n_jobs}.")
        # Reports and suites run the same engine: tests and test presets (anything with `tests`)
        # given to a report run as tests, metrics given to a suite as metrics.
        everything = [*items, *tests]
        self.test_items = [i for i in everything if _is_test_item(i)]
        # (Segmented has both metrics and tests: it goes in both lists.)
        self.items = [i for i in everything if not _is_test_item(i) or hasattr(i, "metrics")]
        self.definition = definition or DataDefinition()
        self.n_jobs = n_jobs
        self.progress = progress

    def run(
        self,
        current: pd.DataFrame,
        reference: pd.DataFrame | None,
        *,
        name: str | None,
        tags: Iterable[str],
        metadata: dict[str, Any] | None,
        timestamp: datetime | str | None,
        batch_id: str | None = None,
    ) -> Run:
        # Checked before any computing: a bad batch id should not cost a whole run.
        checked = _check_metadata(metadata or {})
        if batch_id is not None:
            checked = with_batch_id(checked, batch_id)
        elif BATCH_ID_KEY in checked:
            check_batch_id(checked[BATCH_ID_KEY], f"metadata[{BATCH_ID_KEY!r}]")
        if is_streamed_source(current):
            return self._run_streamed(
                current,
                reference,
                name=name,
                tags=tags,
                metadata=checked,
                timestamp=timestamp,
            )
        definition, current, reference = with_descriptors(
            self.definition,
            current,
            reference,
            extra=_preset_descriptors([*self.items, *self.test_items]),
        )
        schema = definition.resolve(current, reference)
        ctx = Context(current, reference, schema)
        tests = _expand_tests(self.test_items, ctx)
        metrics = expand([*self.items, *(t.metric() for t in tests)], ctx)
        self._compute(ctx, metrics)
        test_results = [t.run(ctx) for t in tests]
        ordered = [ctx.results[m.id] for m in metrics]
        when = datetime.now(UTC) if timestamp is None else parse_timestamp(timestamp, "timestamp")
        return Run(
            schema=schema,
            results=ordered,
            tests=test_results,
            data=_data_summary(current, reference, schema),
            timestamp=when,
            name=name,
            tags=_check_tags(tags),
            metadata=checked,
        )

    def _run_streamed(
        self,
        current: Any,
        reference: Any,
        *,
        name: str | None,
        tags: Iterable[str],
        metadata: dict[str, Any],
        timestamp: datetime | str | None,
    ) -> Run:
        """The run over Parquet files, streamed in batches (see `metrics.streaming`)."""
        from metrics import engines, streaming

        sources = {"current": engines.source_of(current, "current")}
        if reference is not None:
            sources["reference"] = engines.source_of(reference, "reference", like=current)
        samples = {side: source.sample() for side, source in sources.items()}
        schema = self.definition.resolve(samples["current"], samples.get("reference"))
        ctx = streaming.StreamContext(samples["current"], samples.get("reference"), schema)
        tests = _expand_tests(self.test_items, ctx)
        metrics = expand([*self.items, *(t.metric() for t in tests)], ctx)
        streaming.stream(ctx, metrics, sources, self.progress)
        for metric in metrics:
            ctx.result(metric)
        test_results = [t.run(ctx) for t in tests]
        when = datetime.now(UTC) if timestamp is None else parse_timestamp(timestamp, "timestamp")
        return Run(
            schema=schema,
            results=[ctx.results[m.id] for m in metrics],
            tests=test_results,
            data=streaming.data_summary(ctx, schema),
            timestamp=when,
            name=name,
            tags=_check_tags(tags),
            metadata=metadata,
        )

    def _compute(self, ctx: Context, metrics: list[Metric]) -> None:
        by_column: dict[str, list[Metric]] = {}
        dataset: list[Metric] = []
        by_segment: dict[str, list[Metric]] = {}
        for metric in metrics:
            if metric.segment is not None:
                by_segment.setdefault(json.dumps(metric.segment, sort_keys=True), []).append(metric)
            elif metric.column is not None and metric.column in ctx.schema.types:
                by_column.setdefault(metric.column, []).append(metric)
            else:
                dataset.append(metric)
        enabled = progress_enabled(self.progress) and len(metrics) > 1
        steps = len(by_column) + len(dataset) + len(by_segment)
        with Progress(steps, "Computing metrics", enabled=enabled) as bar:
            if self.n_jobs > 1 and len(by_column) > 1:
                for column, results in _parallel_columns(ctx, by_column, self.n_jobs):
                    for result in results:
                        ctx.store(result)
                    bar.advance(note=column)
            else:
                for column, column_metrics in by_column.items():
                    for metric in column_metrics:
                        ctx.result(metric)
                    ctx.release(column)
                    bar.advance(note=column)
            for metric in dataset:
                ctx.result(metric)
                bar.advance(note=metric.type)
            for segment_metrics in by_segment.values():
                segment = segment_metrics[0].segment
                assert segment is not None
                for metric in segment_metrics:
                    ctx.result(metric)
                # One segment's rows and working arrays at a time.
                ctx.release_segment(segment["column"], segment["value"])
                bar.advance(note=f"{segment['column']}={segment['value']}")


def is_streamed_source(data: Any) -> bool:
    """Data the run streams instead of reading into pandas: Parquet files (a path, a directory or
    a list of them), a Spark DataFrame or a Dask DataFrame."""
    if isinstance(data, (str, os.PathLike)):
        return True
    if isinstance(data, (list, tuple)):
        return bool(data) and all(isinstance(p, (str, os.PathLike)) for p in data)
    module = type(data).__module__
    return module.startswith(("pyspark.", "dask.", "dask_expr."))


def _is_test_item(item: Any) -> bool:
    return isinstance(item, Test) or hasattr(item, "tests")


def _preset_descriptors(items: Iterable[Any]) -> list[Any]:
    """Descriptors that presets ask for (text evals), including presets inside segments."""
    found: list[Any] = []
    for item in items:
        if hasattr(item, "descriptor_list"):
            found += item.descriptor_list()
        if hasattr(item, "items") and isinstance(item.items, list):
            found += _preset_descriptors(item.items)
    return found


def _expand_tests(items: Iterable[Any], ctx: Context) -> list[Test]:
    tests: dict[str, Test] = {}
    for item in items:
        found = [item] if isinstance(item, Test) else getattr(item, "tests", None)
        if found is None:
            raise TypeError(f"{item!r} is neither a test nor a test preset.")
        for test in found if isinstance(found, list) else found(ctx):
            tests.setdefault(test.id, test)
    return list(tests.values())


def _columns_worker(
    current: pd.DataFrame,
    reference: pd.DataFrame | None,
    schema: Schema,
    groups: dict[str, list[Metric]],
) -> list[tuple[str, list[MetricResult]]]:
    ctx = Context(current, reference, schema)
    done = []
    for column, metrics in groups.items():
        done.append((column, [ctx.result(m) for m in metrics]))
        ctx.release(column)
    return done


def _parallel_columns(
    ctx: Context, by_column: dict[str, list[Metric]], n_jobs: int
) -> Iterable[tuple[str, list[MetricResult]]]:
    columns = list(by_column)
    chunks = [columns[i :: n_jobs * 2] for i in range(min(len(columns), n_jobs * 2))]
    # forkserver, not fork: forking a process that runs threads (as notebooks and servers do) can
    # deadlock the child. The server imports the library once for all workers.
    if "forkserver" in get_all_start_methods():
        context = get_context("forkserver")
        context.set_forkserver_preload(["metrics"])
    else:
        context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
        futures = []
        for chunk in chunks:
            futures.append(
                pool.submit(
                    _columns_worker,
                    ctx.current[chunk],
                    ctx.reference[chunk] if ctx.reference is not None else None,
                    ctx.schema,
                    {c: by_column[c] for c in chunk},
                )
            )
        for future in futures:
            yield from future.result()


def _data_summary(
    current: pd.DataFrame, reference: pd.DataFrame | None, schema: Schema
) -> dict[str, Any]:
    columns = {c: str(t) for c, t in schema.types.items()}
    return {
        "current": {"rows": len(current), "columns": len(current.columns)},
        "reference": {"rows": len(reference), "columns": len(reference.columns)}
        if reference is not None
        else None,
        "column_types": columns,
        "roles": dict(schema.roles),
        "embeddings": {k: list(v) for k, v in schema.embeddings.items()},
    }


def _check_tags(tags: Iterable[str]) -> list[str]:
    found = list(tags)
    for tag in found:
        if not isinstance(tag, str) or not tag or len(tag) > 100:
            raise ValueError(f"Tags are non-empty strings of at most 100 characters; got {tag!r}.")
    return found


def _check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise ValueError(f"Metadata keys are strings; got {key!r}.")
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise ValueError(
                f"Metadata {key!r}: values are strings, numbers or booleans, not {type(value).__name__}."
            )
    return dict(metadata)


class _Runnable:
    # What Report and TestSuite share: one run over the data, through their _Runner.
    _runner: _Runner

    def run(
        self,
        current: pd.DataFrame,
        reference: pd.DataFrame | None = None,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        metadata: dict[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        batch_id: str | None = None,
    ) -> Run:
        """Compute the metrics and run the tests. `timestamp` (default: now) is when the data is from.

        `batch_id` (stored as ``metadata["batch_id"]``) names the batch of data the run is about:
        snapshots pushed separately for one batch (a report's and a test suite's) with the same
        batch id are counted once by the platform's sums and counts."""
        return self._runner.run(
            current,
            reference,
            name=name,
            tags=tags,
            metadata=metadata,
            timestamp=timestamp,
            batch_id=batch_id,
        )


class Report(_Runnable):
    """Metrics (and presets of metrics) to compute over a dataset, and optionally tests on them.

    Parameters
    ----------
    metrics
        Metrics and metric presets, e.g. ``[DataSummaryPreset(), ColumnQuantile(column="age", q=0.9)]``.
    tests
        Tests and test presets to run in the same pass, e.g. ``[DataStabilityTestPreset()]``: one
        run, one snapshot holding both the metric results and the test outcomes. A metric that a
        test reads and the report also lists is computed once.
    definition
        Column types and roles; inferred from the data when not given.
    n_jobs
        Worker processes for column metrics (-1: one per CPU). Worth it for wide frames.
    progress
        Show a progress bar on stderr; by default only when stderr is a terminal.
    """

    def __init__(
        self,
        metrics: Sequence[Any],
        *,
        tests: Sequence[Any] = (),
        definition: DataDefinition | None = None,
        n_jobs: int = 1,
        progress: bool | None = None,
    ) -> None:
        self._runner = _Runner(metrics, tests, definition, n_jobs, progress)


class TestSuite(_Runnable):
    """Tests (and presets of tests) to run over a dataset; same parameters as `Report`.

    ``run.passed`` is False when a test failed or could not be computed.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        tests: Sequence[Any],
        *,
        definition: DataDefinition | None = None,
        n_jobs: int = 1,
        progress: bool | None = None,
    ) -> None:
        self._runner = _Runner((), tests, definition, n_jobs, progress)
