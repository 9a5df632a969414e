"""The metric abstraction: parameters and a stable id, a named result, and the run context that
computes each metric once.

A metric is a class with keyword-only parameters and a `compute(ctx)` method returning a
`MetricResult`: named numeric values (nested dicts of numbers, the fields a dashboard plots or a test
checks) and details (strings, lists, small tables for people). Its id is derived from its type and
parameters, `ColumnSummary(column="age")`, so the same metric asked for twice, by two tests or a
preset and a test, is computed once per run.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from metrics.core.columns import ColumnData, ColumnPair, MissingReference
from metrics.core.definition import ColumnType, Schema

REGISTRY: dict[str, type[Metric]] = {}


class MetricError(Exception):
    """A metric cannot be computed on this data; the message says why (the result is an error)."""


class MissingLabels(Exception):
    """A model-quality metric has no labels to compare with (no target column, or every target
    value is null: labels that arrive later). The metric is skipped, not failed."""


class Metric:
    """Base class of all metrics.

    Subclasses take their parameters as keyword-only `__init__` arguments and pass them to
    `super().__init__(**params)`; parameters must be JSON values (str, numbers, bools, lists,
    dicts) so that the id and the snapshot can carry them.
    """

    #: Set on a subclass whose values are per column: the scheduler groups metrics by column.
    column_param: ClassVar[str | None] = None
    #: Skipped (not failed) when there is no reference.
    requires_reference: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every public metric class registers itself by name (bases named _Something do not).
        Users register their own metrics the same way: by subclassing."""
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):
            return
        registered = REGISTRY.get(cls.__name__)
        where = (cls.__module__, cls.__qualname__)
        if registered is not None and (registered.__module__, registered.__qualname__) != where:
            raise TypeError(f"A metric called {cls.__name__} is already registered.")
        REGISTRY[cls.__name__] = cls  # a redefinition (a re-run notebook cell) replaces it

    def __init__(self, **params: Any) -> None:
        self._params = {k: jsonable_param(k, v) for k, v in params.items() if v is not None}
        self._segment: dict[str, Any] | None = None

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def params(self) -> dict[str, Any]:
        """The parameters, and `segment` ({"column", "value"}) for a per-segment copy."""
        if self._segment is None:
            return dict(self._params)
        return {**self._params, "segment": dict(self._segment)}

    @property
    def id(self) -> str:
        args = ",".join(
            f"{k}={json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)}"
            for k, v in sorted(self.params.items())
        )
        return f"{self.type}({args})"

    @property
    def segment(self) -> dict[str, Any] | None:
        return self._segment

    def for_segment(self, column: str, value: Any) -> Metric:
        """This metric computed on the rows where `column` equals `value` (a separate result)."""
        clone = copy.copy(self)
        clone._segment = {"column": column, "value": jsonable_param("segment", value)}
        return clone

    def unsegmented(self) -> Metric:
        clone = copy.copy(self)
        clone._segment = None
        return clone

    @property
    def column(self) -> str | None:
        return self._params.get(self.column_param) if self.column_param else None

    def dependencies(self, schema: Schema) -> list[Metric]:
        """Metrics this one reads through `ctx.result`, so the run schedules them first."""
        return []

    def compute(self, ctx: Context) -> MetricResult:
        raise NotImplementedError

    def result(
        self, values: Mapping[str, Any], details: Mapping[str, Any] | None = None, **extra: Any
    ) -> MetricResult:
        return MetricResult(
            metric_id=self.id,
            type=self.type,
            params=self.params,
            values=dict(values),
            details=dict(details or {}),
            **extra,
        )

    def __repr__(self) -> str:
        return self.id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Metric) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def jsonable_param(name: str, value: Any) -> Any:
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Parameter {name!r} must be a finite number, not {value}.")
        return value
    if isinstance(value, np.generic):
        return jsonable_param(name, value.item())
    if isinstance(value, (list, tuple)):
        return [jsonable_param(name, v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable_param(name, v) for k, v in value.items()}
    raise TypeError(f"Parameter {name!r} must be a JSON value, not {type(value).__name__}.")


@dataclass
class Distribution:
    """Histogram data for a chart: bin edges (numeric) or category labels, and counts per side."""

    kind: str  # "histogram" or "categories"
    current: list[int]
    reference: list[int] | None = None
    edges: list[float] | None = None
    labels: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "current": self.current}
        if self.reference is not None:
            data["reference"] = self.reference
        if self.edges is not None:
            data["edges"] = self.edges
        if self.labels is not None:
            data["labels"] = self.labels
        return data


@dataclass
class MetricResult:
    """What a metric computed: numeric `values` (nested), `details` for people, an optional
    distribution, or the reason it was skipped or failed."""

    metric_id: str
    type: str
    params: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    distribution: Distribution | None = None
    status: str = "ok"  # ok, skipped, error
    reason: str | None = None

    def get(self, path: str) -> Any:
        """A value by its dotted path, e.g. "current.mean"; KeyError if absent."""
        node: Any = self.values
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"{self.metric_id} has no value {path!r}")
            node = node[part]
        return node

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.metric_id,
            "type": self.type,
            "params": self.params,
            "status": self.status,
            "values": clean(self.values),
        }
        if self.details:
            data["details"] = clean(self.details)
        if self.distribution is not None:
            data["distribution"] = clean(self.distribution.to_dict())
        if self.reason:
            data["reason"] = self.reason
        return data


def clean(value: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if value is None or isinstance(value, str):
        return value
    return str(value)


class Context:
    """One run over a current (and optional reference) frame: prepared columns and computed
    results, each made once."""

    def __init__(
        self,
        current: pd.DataFrame,
        reference: pd.DataFrame | None,
        schema: Schema,
    ) -> None:
        self.current = current
        self.reference = reference
        self.schema = schema
        self._pairs: dict[str, ColumnPair] = {}
        self._results: dict[str, MetricResult] = {}
        self._segments: dict[tuple[str, str], Context] = {}
        self._memo: dict[Any, Any] = {}

    @property
    def has_reference(self) -> bool:
        return self.reference is not None

    def pair(self, column: str) -> ColumnPair:
        pair = self._pairs.get(column)
        if pair is None:
            column_type = self.schema.type_of(column)
            reference = (
                ColumnData(self.reference[column], column_type)
                if self.reference is not None
                else None
            )
            pair = ColumnPair(ColumnData(self.current[column], column_type), reference)
            self._pairs[column] = pair
        return pair

    def release(self, column: str) -> None:
        """Forget a column's working arrays (its results stay)."""
        self._pairs.pop(column, None)

    def result(self, metric: Metric) -> MetricResult:
        """The metric's result, computed on first request; failures become error results."""
        found = self._results.get(metric.id)
        if found is None:
            found = self._compute(metric)
            self._results[metric.id] = found
        return found

    def _compute(self, metric: Metric) -> MetricResult:
        if metric.segment is not None:
            return self._compute_segment(metric)
        if metric.requires_reference and not self.has_reference:
            return metric.result(
                {}, status="skipped", reason="Needs reference data; none was given."
            )
        try:
            return metric.compute(self)
        except (MissingReference, MissingLabels) as exc:
            return metric.result({}, status="skipped", reason=str(exc))
        except MetricError as exc:
            return metric.result({}, status="error", reason=str(exc))
        except Exception as exc:  # a bug or bad data: reported on this metric, the run goes on
            return metric.result({}, status="error", reason=f"{type(exc).__name__}: {exc}")

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value prepared once per run and shared by the metrics that need it (labels and
        predictions, for instance). Failures are not kept: the next caller raises again."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def segment_context(self, column: str, value: Any) -> Context:
        """A context over the rows where `column` equals `value`, in current and reference."""
        key = (column, json.dumps(value))
        found = self._segments.get(key)
        if found is None:
            if column not in self.current.columns:
                raise MetricError(f"No segment column {column!r} in the data.")
            current = self.current[self.current[column] == value]
            reference = None
            if self.reference is not None and column in self.reference.columns:
                reference = self.reference[self.reference[column] == value]
                if len(reference) == 0:
                    reference = None
            found = Context(current, reference, self.schema)
            self._segments[key] = found
        return found

    def release_segment(self, column: str, value: Any) -> None:
        self._segments.pop((column, json.dumps(value)), None)

    def _compute_segment(self, metric: Metric) -> MetricResult:
        segment = metric.segment
        assert segment is not None
        try:
            sub = self.segment_context(segment["column"], segment["value"])
        except MetricError as exc:
            return metric.result({}, status="error", reason=str(exc))
        if len(sub.current) == 0:
            return metric.result(
                {},
                status="skipped",
                reason=f"No rows where {segment['column']!r} is {segment['value']!r}.",
            )
        inner = sub.result(metric.unsegmented())
        # The same result, under the segmented metric's id and parameters.
        return MetricResult(
            metric_id=metric.id,
            type=inner.type,
            params=metric.params,
            values=inner.values,
            details=inner.details,
            distribution=inner.distribution,
            status=inner.status,
            reason=inner.reason,
        )

    def store(self, result: MetricResult) -> None:
        self._results[result.metric_id] = result

    @property
    def results(self) -> dict[str, MetricResult]:
        return self._results


def numeric_column(ctx: Context, column: str) -> ColumnPair:
    pair = ctx.pair(column)
    if pair.type not in (ColumnType.NUMERICAL, ColumnType.DATETIME):
        raise MetricError(
            f"Column {column!r} is {pair.type}; this metric needs a numerical column."
        )
    return pair


def expand(items: Iterable[Any], ctx: Context) -> list[Metric]:
    """Metrics from a list of metrics and presets (anything with `metrics(ctx)`, which may look at
    the schema and the data), deduplicated by id, dependencies first."""
    schema = ctx.schema
    ordered: dict[str, Metric] = {}

    def add(metric: Metric) -> None:
        if metric.id in ordered:
            return
        for dependency in metric.dependencies(schema):
            segment = metric.segment
            add(
                dependency.for_segment(segment["column"], segment["value"])
                if segment
                else dependency
            )
        ordered[metric.id] = metric

    for item in items:
        if isinstance(item, Metric):
            add(item)
        elif hasattr(item, "metrics"):
            for metric in item.metrics(ctx):
                add(metric)
        else:
            raise TypeError(f"{item!r} is neither a metric nor a preset.")
    return list(ordered.values())
