"""The data tests: dataset and column statistics, and drift, checked against a condition.

Each is a `Test` (metrics.suites.base) over a metric of metrics.computations; see that module for
how a condition is given or derived from the reference.
"""

from __future__ import annotations

from typing import Any

from metrics.computations.column_stats import (
    ColumnCategoryShare,
    ColumnQuantile,
    ColumnRegexMatch,
    ColumnSummary,
    ColumnValueList,
    ColumnValueRange,
)
from metrics.computations.drift import (
    ColumnDrift,
    DatasetDrift,
    DriftOptions,
    EmbeddingsDrift,
    resolve_method,
)
from metrics.computations.quality import Correlations, DatasetSummary
from metrics.core.base import Metric, MetricResult
from metrics.suites.base import Test, TestResult, TestStatus
from metrics.suites.conditions import (
    ZERO,
    Condition,
    at_least_reference,
    at_most_reference,
    equal_to_reference,
    fmt,
    is_usable,
    near_reference,
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
        if not (is_usable(mean) and is_usable(std)):
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
    """Distinct values the reference (or the list) never had; by default none (give `lte=` to
    allow a few)."""

    title = "New values in {column}"
    field = "new_values"
    rule = at_most_reference(fallback=ZERO)


class TestColumnVanishedCategories(TestColumnOutOfListShare):
    """Values of the reference (or the list) that current has lost entirely; by default none
    (give `lte=` to allow a few)."""

    title = "Vanished values in {column}"
    field = "vanished_values"
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
        method = resolve_method(method, "method")  # Evidently's names become ours
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
        drifted = bool(result.get("drifted"))
        status = (
            TestStatus.SUCCESS
            if not drifted
            else (TestStatus.FAIL if self.is_critical else TestStatus.WARNING)
        )
        what = "p-value" if p_value else "distance"
        verdict = "drifted" if drifted else "did not drift"
        # The method's own comparison (Evidently's convention); older snapshots lack it.
        rule = result.details.get("rule") or ("below" if p_value else "at or above")
        # The passing condition is the rule's complement.
        condition = {
            "at or below": Condition(gt=threshold),
            "below": Condition(gte=threshold),
            "above": Condition(lte=threshold),
        }.get(rule, Condition(lt=threshold))
        return TestResult(
            status=status,
            description=(
                # A distance's title names what it is ("Energy distance", "Population stability
                # index"): only a p-value says so.
                f"{base['name']}: {verdict}. {result.details.get('method_title')}"
                f"{' p-value' if p_value else ''} is {fmt(score)}; drift when {what} {rule} "
                f"{fmt(threshold)}."
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
