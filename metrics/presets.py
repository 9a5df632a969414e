"""Presets: the metrics or tests a common question needs, expanded for the data at hand.

Metric presets go in a `Report`, test presets in a `TestSuite`; both expand against the data's
schema when the run starts, so "every column" means the columns this data has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metrics.base import Metric
from metrics.checks import (
    Test,
    TestAlmostConstantColumns,
    TestAlmostDuplicatedColumns,
    TestColumnCount,
    TestColumnDrift,
    TestColumnMeanInNSigmas,
    TestColumnMissingShare,
    TestColumnMostCommonShare,
    TestColumnNewCategories,
    TestColumnOutOfRangeShare,
    TestColumnsWithMissing,
    TestConstantColumns,
    TestDuplicatedColumns,
    TestDuplicatedRowsShare,
    TestEmbeddingsDrift,
    TestEmptyColumns,
    TestEmptyRows,
    TestRowCount,
    TestShareOfDriftedColumns,
)
from metrics.column_stats import ColumnDistribution, ColumnSummary, ColumnValueCounts
from metrics.definition import ColumnType, Schema
from metrics.drift import DatasetDrift, DriftOptions, EmbeddingsDrift, drift_columns
from metrics.quality import Correlations, DatasetSummary


def _selected(schema: Schema, columns: list[str] | None, *types: ColumnType) -> list[str]:
    chosen = schema.columns(*types)
    return [c for c in chosen if columns is None or c in columns]


@dataclass
class DataSummaryPreset:
    """Data summary and quality: the dataset's sizes, missing values, duplicates and constant
    columns, every column's statistics, value counts of categorical columns, and Pearson
    correlations between numerical columns."""

    columns: list[str] | None = None
    correlations: bool = True

    def metrics(self, schema: Schema) -> list[Metric]:
        metrics: list[Metric] = [DatasetSummary()]
        for column in _selected(schema, self.columns):
            metrics.append(ColumnSummary(column=column))
            if schema.types[column] == ColumnType.CATEGORICAL:
                metrics.append(ColumnValueCounts(column=column))
        if self.correlations and len(_selected(schema, self.columns, ColumnType.NUMERICAL)) >= 2:
            metrics.append(
                Correlations(
                    method="pearson", columns=_selected(schema, self.columns, ColumnType.NUMERICAL)
                )
            )
        return metrics


@dataclass
class DataDriftPreset:
    """Data drift: every column's drift (method chosen per column, see `metrics.drift`), whether
    the dataset drifted (share of drifted columns >= `drift_share`), each column's distribution
    against the reference for charts, and the drift of declared embeddings."""

    columns: list[str] | None = None
    drift_share: float = 0.5
    options: DriftOptions = field(default_factory=DriftOptions)
    bins: int = 20

    def metrics(self, schema: Schema) -> list[Metric]:
        dataset = DatasetDrift(
            columns=self.columns, drift_share=self.drift_share, options=self.options
        )
        metrics: list[Metric] = [*dataset.column_metrics(schema), dataset]
        for column in drift_columns(schema, self.columns):
            if schema.types[column] != ColumnType.TEXT:
                metrics.append(ColumnDistribution(column=column, bins=self.bins))
        metrics += [EmbeddingsDrift(embeddings=name) for name in schema.embeddings]
        return metrics


@dataclass
class DataStabilityTestPreset:
    """Is the new batch like the reference? Row and column counts, missing values per column,
    numerical values within the reference's range and near its mean, no new categories."""

    columns: list[str] | None = None

    def tests(self, schema: Schema) -> list[Test]:
        tests: list[Test] = [TestRowCount(), TestColumnCount()]
        for column in _selected(schema, self.columns):
            tests.append(TestColumnMissingShare(column=column))
            column_type = schema.types[column]
            if column_type == ColumnType.NUMERICAL:
                tests.append(TestColumnOutOfRangeShare(column=column))
                tests.append(TestColumnMeanInNSigmas(column=column, n=2))
            elif column_type == ColumnType.CATEGORICAL:
                tests.append(TestColumnNewCategories(column=column))
        return tests


@dataclass
class DataQualityTestPreset:
    """Is the data clean? Missing values, empty, constant and duplicated rows and columns, and
    each column's most common value not taking over."""

    columns: list[str] | None = None

    def tests(self, schema: Schema) -> list[Test]:
        tests: list[Test] = [
            TestColumnsWithMissing(),
            TestEmptyRows(),
            TestEmptyColumns(),
            TestConstantColumns(),
            TestAlmostConstantColumns(is_critical=False),
            TestDuplicatedRowsShare(),
            TestDuplicatedColumns(),
            TestAlmostDuplicatedColumns(is_critical=False),
        ]
        for column in _selected(schema, self.columns):
            tests.append(TestColumnMissingShare(column=column))
            tests.append(TestColumnMostCommonShare(column=column, is_critical=False))
        return tests


@dataclass
class DataDriftTestPreset:
    """Did the data drift? The share of drifted columns below `drift_share`, and each column's
    drift (non-critical: one drifted column is a warning, many fail the share test)."""

    columns: list[str] | None = None
    drift_share: float = 0.5
    options: DriftOptions = field(default_factory=DriftOptions)

    def tests(self, schema: Schema) -> list[Test]:
        columns = drift_columns(schema, self.columns)
        tests: list[Test] = [
            TestShareOfDriftedColumns(
                columns=self.columns, drift_share=self.drift_share, options=self.options
            )
        ]
        for column in columns:
            method, threshold = self.options.for_column(column, schema.types[column])
            tests.append(
                TestColumnDrift(
                    column=column, method=method, threshold=threshold, is_critical=False
                )
            )
        tests += [TestEmbeddingsDrift(embeddings=name) for name in schema.embeddings]
        return tests
