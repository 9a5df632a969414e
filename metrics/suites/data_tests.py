"""Tests: a metric's value checked against a condition, with a status and a sentence.

Give a condition (`TestColumnMean(column="age", gte=30)`) or let it be derived from the reference
(`TestColumnMean(column="age")`: the mean within ±10% of the reference's). Without a reference, some
tests have a sensible default (row count > 0, no missing values); the others are SKIPPED, saying why.
A failed test is FAIL, or WARNING when `is_critical=False`; a test whose metric cannot be computed is
ERROR with the reason. Running a test never raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from metrics.base import Context, Metric, MetricResult, _jsonable_param, clean
from metrics.column_stats import (
    ColumnCategoryShare,
    ColumnQuantile,
    ColumnRegexMatch,
    ColumnSummary,
    ColumnValueList,
    ColumnValueRange,
)
from metrics.conditions import Condition, approx, fmt
from metrics.drift import ColumnDrift, DatasetDrift, DriftOptions, EmbeddingsDrift
from metrics.quality import Correlations, DatasetSummary

TEST_REGISTRY: dict[str, type[Test]] = {}


class TestStatus(StrEnum):
    __test__ = False  # not a pytest test class
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    WARNING = "WARNING"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class
    id: str
    type: str
    name: str
    status: TestStatus
    critical: bool
    metric_id: str
    field: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    reference_value: Any = None
    condition: dict[str, Any] | None = None
    condition_source: str | None = None  # "given", "reference", "default" or "dummy"

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "id": self.id,
                "type": self.type,
                "name": self.name,
                "status": str(self.status),
                "critical": self.critical,
                "params": self.params,
                "metric_id": self.metric_id,
                "field": self.field,
                "value": _as_number(self.value),
                "reference_value": _as_number(self.reference_value),
                "condition": self.condition,
                "condition_source": self.condition_source,
                "description": self.description,
            }
        )


def _as_number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# A rule derives a condition from the reference's value (None without a reference).
Rule = Callable[[Any], Condition | None]


def _usable(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def near_reference(relative: float, *, fallback: Condition | None = None) -> Rule:
    """Equal to the reference's value ± `relative`."""
    return lambda ref: Condition(eq=approx(ref, relative=relative)) if _usable(ref) else fallback


def at_most_reference(
    relative: float = 0.0, *, absolute: float = 1e-12, fallback: Condition | None = None
) -> Rule:
    """At most the reference's value, plus `relative` of it (or `absolute`, whichever is larger)."""
    return lambda ref: (
        Condition(lte=approx(ref, relative=relative, absolute=absolute))
        if _usable(ref)
        else fallback
    )


def at_least_reference(fallback: Condition | None = None) -> Rule:
    return lambda ref: Condition(gte=ref) if _usable(ref) else fallback


def equal_to_reference(fallback: Condition | None = None) -> Rule:
    return lambda ref: Condition(eq=ref) if _usable(ref) else fallback


ZERO = Condition(eq=0)


class Test:
    """Base class of all tests. Subclasses set `title` (with `{param}` placeholders), `field` (the
    metric value checked, under "current" and "reference") and `rule`, and implement `metric()`."""

    __test__ = False  # not a pytest test class
    title: ClassVar[str] = ""
    field: ClassVar[str] = ""
    group: ClassVar[str] = "data_quality"
    rule: ClassVar[Rule | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = False
        TEST_REGISTRY[cls.__name__] = cls

    def __init__(
        self,
        *,
        eq: Any = None,
        not_eq: Any = None,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        is_in: list[Any] | None = None,
        not_in: list[Any] | None = None,
        is_critical: bool = True,
        **params: Any,
    ) -> None:
        self.condition = Condition.from_kwargs(
            eq=eq, not_eq=not_eq, gt=gt, gte=gte, lt=lt, lte=lte, is_in=is_in, not_in=not_in
        )
        self.is_critical = is_critical
        self.params = {k: _jsonable_param(k, v) for k, v in params.items() if v is not None}

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def id(self) -> str:
        """Like a metric's id: the type and the parameters (and condition) that make the test."""
        key = dict(self.params)
        if self.condition is not None:
            key["condition"] = self.condition.to_dict()
        if not self.is_critical:
            key["critical"] = False
        args = ",".join(
            f"{k}={json.dumps(clean(v), sort_keys=True, separators=(',', ':'), ensure_ascii=False)}"
            for k, v in sorted(key.items())
        )
        return f"{self.type}({args})"

    @property
    def name(self) -> str:
        return self.title.format(
            **{k: repr(v) if isinstance(v, str) else fmt(v) for k, v in self.params.items()}
        )

    def metric(self) -> Metric:
        raise NotImplementedError

    def value(self, result: MetricResult, side: str = "current") -> Any:
        return result.get(f"{side}.{self.field}")

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        """The condition from the rule, the reference value it came from, and where it came
        from: "reference", or "default" for a rule that needs no reference."""
        reference = self.value(result, "reference") if "reference" in result.values else None
        rule = type(self).rule  # read from the class: a plain function, not a bound method
        condition = rule(reference) if rule else None
        return condition, reference, "reference" if _usable(reference) else "default"

    def run(self, ctx: Context) -> TestResult:
        metric = self.metric()
        base = {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "critical": self.is_critical,
            "metric_id": metric.id,
            "field": self.field,
            "params": self.params,
        }
        result = ctx.result(metric)
        if result.status == "skipped":
            return TestResult(
                status=TestStatus.SKIPPED,
                description=f"{self.name}: skipped. {result.reason}",
                **base,
            )
        if result.status == "error":
            return TestResult(
                status=TestStatus.ERROR,
                description=f"{self.name}: could not compute. {result.reason}",
                **base,
            )
        try:
            return self.evaluate(result, base)
        except Exception as exc:  # a test never crashes its suite
            return TestResult(
                status=TestStatus.ERROR,
                description=f"{self.name}: could not evaluate ({type(exc).__name__}: {exc}).",
                **base,
            )

    def evaluate(self, result: MetricResult, base: dict[str, Any]) -> TestResult:
        value = self.value(result)
        reference = None
        if self.condition is not None:
            condition, source = self.condition, "given"
            if "reference" in result.values:
                reference = self.value(result, "reference")
        else:
            condition, reference, source = self.derive_condition(result)
        if condition is None:
            return TestResult(
                status=TestStatus.SKIPPED,
                description=f"{self.name} is {fmt(value)}; no condition was given and there is no reference to derive one from.",
                value=value,
                **base,
            )
        passed = condition.check(value)
        status = (
            TestStatus.SUCCESS
            if passed
            else (TestStatus.FAIL if self.is_critical else TestStatus.WARNING)
        )
        origin = {
            "given": "",
            "reference": " (from the reference)",
            "default": " (default)",
            "dummy": " (no worse than the dummy baseline)",
        }[source]
        return TestResult(
            status=status,
            description=f"{self.name} is {fmt(value)}; expected {condition.describe()}{origin}.",
            value=value,
            reference_value=reference,
            condition=condition.to_dict(),
            condition_source=source,
            **base,
        )


# ---- dataset ------------------------------------------------------------------------------------


class DatasetTest(Test):
    def metric(self) -> Metric:
        return DatasetSummary()


class TestRowCount(DatasetTest):
    title = "Row count"
    field = "row_count"
    rule = near_reference(0.1, fallback=Condition(gt=0))


class TestColumnCount(DatasetTest):
    title = "Column count"
    field = "column_count"
    rule = equal_to_reference(fallback=Condition(gt=0))


class TestMissingCellsShare(DatasetTest):
    title = "Share of missing cells"
    field = "missing_cells_share"
    rule = at_most_reference(0.1, fallback=ZERO)


class TestRowsWithMissingShare(DatasetTest):
    title = "Share of rows with missing values"
    field = "rows_with_missing_share"
    rule = at_most_reference(0.1, fallback=ZERO)


class TestColumnsWithMissing(DatasetTest):
    title = "Columns with missing values"
    field = "columns_with_missing"
    rule = at_most_reference(fallback=ZERO)


class TestEmptyRows(DatasetTest):
    title = "Empty rows"
    field = "empty_rows"
    rule = at_most_reference(0.1, fallback=ZERO)


class TestEmptyColumns(DatasetTest):
    title = "Empty columns"
    field = "empty_columns"
    rule = at_most_reference(fallback=ZERO)


class TestConstantColumns(DatasetTest):
    title = "Constant columns"
    field = "constant_columns"
    rule = at_most_reference(fallback=ZERO)


class TestAlmostConstantColumns(DatasetTest):
    title = "Almost constant columns"
    field = "almost_constant_columns"
    rule = at_most_reference(fallback=ZERO)


class TestDuplicatedRowsShare(DatasetTest):
    title = "Share of duplicated rows"
    field = "duplicated_rows_share"
    rule = at_most_reference(0.1, fallback=ZERO)


class TestDuplicatedColumns(DatasetTest):
    title = "Duplicated columns"
    field = "duplicated_columns"
    rule = at_most_reference(fallback=ZERO)


class TestAlmostDuplicatedColumns(DatasetTest):
    title = "Almost duplicated columns"
    field = "almost_duplicated_columns"
    rule = at_most_reference(fallback=ZERO)


class TestHighlyCorrelatedPairs(Test):
    title = "Highly correlated column pairs ({method})"
    field = "high_pairs"
    rule = at_most_reference(fallback=ZERO)

    def __init__(
        self, *, method: str = "pearson", threshold: float = 0.9, **condition: Any
    ) -> None:
        super().__init__(method=method, threshold=threshold, **condition)

    def metric(self) -> Metric:
        return Correlations(method=self.params["method"], threshold=self.params["threshold"])


# ---- columns ------------------------------------------------------------------------------------


class ColumnTest(Test):
    def __init__(self, *, column: str, **kwargs: Any) -> None:
        super().__init__(column=column, **kwargs)

    def metric(self) -> Metric:
        return ColumnSummary(column=self.params["column"])


class TestColumnMissingShare(ColumnTest):
    title = "Share of missing values in {column}"
    field = "missing_share"
    rule = at_most_reference(0.1, fallback=ZERO)


class TestColumnMin(ColumnTest):
    title = "Minimum of {column}"
    field = "min"
    rule = at_least_reference()


class TestColumnMax(ColumnTest):
    title = "Maximum of {column}"
    field = "max"
    rule = at_most_reference()


class TestColumnMean(ColumnTest):
    title = "Mean of {column}"
    field = "mean"
    rule = near_reference(0.1)


class TestColumnMedian(ColumnTest):
    title = "Median of {column}"
    field = "median"
    rule = near_reference(0.1)


class TestColumnStd(ColumnTest):
    title = "Standard deviation of {column}"
    field = "std"
    rule = near_reference(0.1)


class TestColumnSum(ColumnTest):
    title = "Sum of {column}"
    field = "sum"
    rule = near_reference(0.1)


class TestColumnUniqueCount(ColumnTest):
    title = "Distinct values in {column}"
    field = "unique"
    rule = near_reference(0.1)


class TestColumnUniqueShare(ColumnTest):
    title = "Share of distinct values in {column}"
    field = "unique_share"
    rule = near_reference(0.1)


class TestColumnMostCommonShare(ColumnTest):
    title = "Share of the most common value in {column}"
    field = "most_common_share"
    rule = near_reference(0.1)


class TestColumnMeanInNSigmas(ColumnTest):
    """The current mean lies within the reference's mean ± n standard deviations."""

    title = "Mean of {column} within {n} reference standard deviations"
    field = "mean"

    def __init__(self, *, column: str, n: float = 2, **kwargs: Any) -> None:
        super().__init__(column=column, n=n, **kwargs)

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        if "reference" not in result.values:
            return None, None, "default"
        mean, std = result.get("reference.mean"), result.get("reference.std")
        if not (_usable(mean) and _usable(std)):
            return None, None, "default"
        spread = self.params["n"] * std
        return Condition(gte=mean - spread, lte=mean + spread), mean, "reference"


class TestColumnQuantile(ColumnTest):
    title = "Quantile {q} of {column}"
    field = "value"
    rule = near_reference(0.1)

    def __init__(self, *, column: str, q: float, **kwargs: Any) -> None:
        super().__init__(column=column, q=q, **kwargs)

    def metric(self) -> Metric:
        return ColumnQuantile(column=self.params["column"], q=self.params["q"])


class TestColumnOutOfRangeShare(ColumnTest):
    """Share of values outside [left, right], by default outside the reference's range; by default
    at most 1% more than the reference's own share."""

    title = "Share of values of {column} out of range"
    field = "out_range_share"
    rule = at_most_reference(absolute=0.01)

    def __init__(
        self, *, column: str, left: float | None = None, right: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(column=column, left=left, right=right, **kwargs)

    def metric(self) -> Metric:
        return ColumnValueRange(
            column=self.params["column"],
            left=self.params.get("left"),
            right=self.params.get("right"),
        )


class TestColumnOutOfListShare(ColumnTest):
    """Share of values not in a list, by default values the reference never had (new categories);
    by default at most 1% more than the reference's own share."""

    title = "Share of values of {column} out of the list"
    field = "out_list_share"
    rule = at_most_reference(absolute=0.01)

    def __init__(self, *, column: str, values: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(column=column, values=values, **kwargs)

    def metric(self) -> Metric:
        return ColumnValueList(column=self.params["column"], values=self.params.get("values"))


class TestColumnNewCategories(TestColumnOutOfListShare):
    title = "New values in {column}"
    field = "new_values"
    rule = at_most_reference(fallback=ZERO)


class TestColumnCategoryShare(ColumnTest):
    title = "Share of {category} in {column}"
    field = "share"
    rule = near_reference(0.1)

    def __init__(self, *, column: str, category: Any, **kwargs: Any) -> None:
        super().__init__(column=column, category=category, **kwargs)

    def metric(self) -> Metric:
        return ColumnCategoryShare(column=self.params["column"], category=self.params["category"])


class TestColumnRegexNoMatchShare(ColumnTest):
    title = "Share of values of {column} not matching {pattern}"
    field = "no_match_share"
    rule = at_most_reference(0.1, fallback=ZERO)

    def __init__(self, *, column: str, pattern: str, **kwargs: Any) -> None:
        super().__init__(column=column, pattern=pattern, **kwargs)

    def metric(self) -> Metric:
        return ColumnRegexMatch(column=self.params["column"], pattern=self.params["pattern"])


# ---- drift --------------------------------------------------------------------------------------


class TestColumnDrift(Test):
    """The column did not drift, by its drift method and threshold."""

    title = "Drift of {column}"
    field = "score"
    group = "data_drift"

    def __init__(
        self,
        *,
        column: str,
        method: str | None = None,
        threshold: float | None = None,
        is_critical: bool = True,
    ) -> None:
        super().__init__(column=column, method=method, threshold=threshold, is_critical=is_critical)

    def metric(self) -> Metric:
        return ColumnDrift(
            column=self.params["column"],
            method=self.params.get("method"),
            threshold=self.params.get("threshold"),
        )

    def evaluate(self, result: MetricResult, base: dict[str, Any]) -> TestResult:
        score, threshold = result.get("score"), result.get("threshold")
        p_value = result.details.get("kind") == "p_value"
        condition = Condition(gte=threshold) if p_value else Condition(lt=threshold)
        drifted = bool(result.get("drifted"))
        status = (
            TestStatus.SUCCESS
            if not drifted
            else (TestStatus.FAIL if self.is_critical else TestStatus.WARNING)
        )
        what = "p-value" if p_value else "distance"
        verdict = "drifted" if drifted else "did not drift"
        return TestResult(
            status=status,
            description=(
                f"{base['name']}: {verdict}. {result.details.get('method_title')} {what} is "
                f"{fmt(score)}; drift when {'below' if p_value else 'at or above'} {fmt(threshold)}."
            ),
            value=score,
            condition=condition.to_dict(),
            condition_source="default",
            **base,
        )

    def value(self, result: MetricResult, side: str = "current") -> Any:
        return result.get("score")


class TestShareOfDriftedColumns(Test):
    title = "Share of drifted columns"
    field = "drifted_share"
    group = "data_drift"

    def __init__(
        self,
        *,
        columns: list[str] | None = None,
        options: DriftOptions | None = None,
        drift_share: float = 0.5,
        **condition: Any,
    ) -> None:
        self.options = options or DriftOptions()
        super().__init__(
            columns=columns, drift_share=drift_share, **self.options.params(), **condition
        )

    def metric(self) -> Metric:
        return DatasetDrift(
            columns=self.params.get("columns"),
            drift_share=self.params["drift_share"],
            options=self.options,
        )

    def value(self, result: MetricResult, side: str = "current") -> Any:
        return result.get(self.field)

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        return Condition(lt=self.params["drift_share"]), None, "default"


class TestNumberOfDriftedColumns(TestShareOfDriftedColumns):
    title = "Number of drifted columns"
    field = "drifted_columns"

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        return Condition(lt=max(1.0, result.get("columns") / 3)), None, "default"


class TestEmbeddingsDrift(Test):
    title = "Drift of embeddings {embeddings}"
    field = "score"
    group = "data_drift"

    def __init__(
        self,
        *,
        embeddings: str,
        method: str = "distance",
        threshold: float | None = None,
        is_critical: bool = True,
    ) -> None:
        super().__init__(
            embeddings=embeddings, method=method, threshold=threshold, is_critical=is_critical
        )

    def metric(self) -> Metric:
        return EmbeddingsDrift(
            embeddings=self.params["embeddings"],
            method=self.params["method"],
            threshold=self.params.get("threshold"),
        )

    def value(self, result: MetricResult, side: str = "current") -> Any:
        return result.get("score")

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        return Condition(lt=result.get("threshold")), None, "default"
