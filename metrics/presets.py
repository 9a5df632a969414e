"""Presets: the metrics or tests a common question needs, expanded for the data at hand.

Metric presets go in a `Report`, test presets in a `TestSuite`. A preset is anything with
`metrics(ctx)` (or `tests(ctx)`): it expands when the run starts, against the data's schema and
values, so "every column" means the columns this data has and "every label" the labels it has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from metrics.computations import descriptors as d
from metrics.computations import ranking
from metrics.computations.classification import (
    ClassBalance,
    ClassificationByLabel,
    ClassificationQuality,
    ConfusionMatrix,
    LiftTable,
    PrecisionRecallCurve,
    RocCurve,
    labels_of,
)
from metrics.computations.column_stats import ColumnDistribution, ColumnSummary, ColumnValueCounts
from metrics.computations.drift import (
    ColumnDrift,
    DatasetDrift,
    DriftOptions,
    EmbeddingsDrift,
    drift_columns,
)
from metrics.computations.quality import Correlations, DatasetSummary
from metrics.computations.regression import (
    RegressionErrorBias,
    RegressionErrorDistribution,
    RegressionErrorNormality,
    RegressionQuality,
    features_for_bias,
)
from metrics.core.base import Context, Metric, MetricResult, expand
from metrics.core.definition import ColumnType, Schema
from metrics.suites import model_tests as mc
from metrics.suites.base import Test
from metrics.suites.data_tests import (
    TestAlmostConstantColumns,
    TestAlmostDuplicatedColumns,
    TestColumnCount,
    TestColumnDrift,
    TestColumnMean,
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

    def metrics(self, ctx: Context) -> list[Metric]:
        schema = ctx.schema
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

    def metrics(self, ctx: Context) -> list[Metric]:
        schema = ctx.schema
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

    def tests(self, ctx: Context) -> list[Test]:
        schema = ctx.schema
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

    def tests(self, ctx: Context) -> list[Test]:
        schema = ctx.schema
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

    def tests(self, ctx: Context) -> list[Test]:
        schema = ctx.schema
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


# ---- model quality ------------------------------------------------------------------------------


@dataclass
class ClassificationPreset:
    """Classification quality: overall quality with its dummy baseline, class balance, the
    confusion matrix, each label's quality, and with probabilities the ROC and precision-recall
    curves and (binary) the lift table. `threshold` and `k` give the threshold and top-k variants."""

    pos_label: str | int | bool | None = None
    threshold: float | None = None
    k: int | None = None
    curves: bool = True

    def metrics(self, ctx: Context) -> list[Metric]:
        metrics: list[Metric] = [
            ClassificationQuality(pos_label=self.pos_label, threshold=self.threshold, k=self.k),
            ClassBalance(),
            ConfusionMatrix(),
        ]
        labels = labels_of(ctx)
        metrics += [ClassificationByLabel(label=label) for label in labels]
        has_probas = any(r == "prediction_probas" for r in ctx.schema.roles.values())
        if self.curves and has_probas:
            if len(labels) <= 2:
                metrics += [RocCurve(), PrecisionRecallCurve(), LiftTable()]
            else:
                metrics += [RocCurve(label=label) for label in labels]
                metrics += [PrecisionRecallCurve(label=label) for label in labels]
        return metrics


@dataclass
class RegressionPreset:
    """Regression quality with its dummy baseline, the error distribution and its normality, and
    the error bias by each feature (up to `max_features`)."""

    max_features: int = 20

    def metrics(self, ctx: Context) -> list[Metric]:
        metrics: list[Metric] = [
            RegressionQuality(),
            RegressionErrorDistribution(),
            RegressionErrorNormality(),
        ]
        metrics += [
            RegressionErrorBias(column=c) for c in features_for_bias(ctx, self.max_features)
        ]
        return metrics


@dataclass
class RankingPreset:
    """Ranking and recommendation quality @k, the score distribution, personalization, and with a
    reference (the training interactions) popularity bias and novelty; diversity and serendipity
    when `item_features` are given."""

    k: int = 10
    prediction_type: str = "score"
    item_features: list[str] | None = None

    def metrics(self, ctx: Context) -> list[Metric]:
        metrics: list[Metric] = [
            ranking.RankingQuality(k=self.k, prediction_type=self.prediction_type),
            ranking.Personalization(k=self.k),
        ]
        if self.prediction_type == "score":
            metrics.append(ranking.ScoreDistribution(k=self.k))
        if ctx.reference is not None:
            metrics += [ranking.Popularity(k=self.k), ranking.Novelty(k=self.k)]
        if self.item_features:
            metrics.append(ranking.Diversity(k=self.k, item_features=self.item_features))
            if ctx.reference is not None:
                metrics.append(ranking.Serendipity(k=self.k, item_features=self.item_features))
        return metrics


@dataclass
class BinaryClassificationTestPreset:
    """Accuracy, precision, recall, F1, and with probabilities ROC AUC and log loss; ±20% of the
    reference, or better than the dummy baseline."""

    pos_label: str | int | bool | None = None
    threshold: float | None = None

    def tests(self, ctx: Context) -> list[Test]:
        options: dict[str, Any] = {"pos_label": self.pos_label, "threshold": self.threshold}
        tests: list[Test] = [
            mc.TestAccuracy(**options),
            mc.TestPrecision(**options),
            mc.TestRecall(**options),
            mc.TestF1(**options),
        ]
        if any(r == "prediction_probas" for r in ctx.schema.roles.values()):
            tests += [mc.TestRocAuc(**options), mc.TestLogLoss(**options)]
        return tests


@dataclass
class BinaryClassificationTopKTestPreset:
    """The binary tests with the k most probable rows predicted positive."""

    k: int = 10
    pos_label: str | int | bool | None = None

    def tests(self, ctx: Context) -> list[Test]:
        options: dict[str, Any] = {"pos_label": self.pos_label, "k": self.k}
        return [
            mc.TestAccuracy(**options),
            mc.TestPrecision(**options),
            mc.TestRecall(**options),
            mc.TestF1(**options),
        ]


@dataclass
class MulticlassClassificationTestPreset:
    """Accuracy and macro F1, each label's precision and recall, and with probabilities ROC AUC
    and log loss."""

    def tests(self, ctx: Context) -> list[Test]:
        tests: list[Test] = [mc.TestAccuracy(), mc.TestF1()]
        for label in labels_of(ctx):
            tests += [mc.TestPrecisionByLabel(label=label), mc.TestRecallByLabel(label=label)]
        if any(r == "prediction_probas" for r in ctx.schema.roles.values()):
            tests += [mc.TestRocAuc(), mc.TestLogLoss()]
        return tests


@dataclass
class RegressionTestPreset:
    """Mean error about zero, and MAE, RMSE, MAPE and R² within 10% of the reference or better
    than the dummy baseline."""

    def tests(self, ctx: Context) -> list[Test]:
        return [mc.TestMeanError(), mc.TestMAE(), mc.TestRMSE(), mc.TestMAPE(), mc.TestR2()]


@dataclass
class RankingTestPreset:
    """Precision, recall, NDCG, MAP, MRR and hit rate @k within 20% of the reference."""

    k: int = 10
    prediction_type: str = "score"

    def tests(self, ctx: Context) -> list[Test]:
        options: dict[str, Any] = {"k": self.k, "prediction_type": self.prediction_type}
        return [
            mc.TestPrecisionAtK(**options),
            mc.TestRecallAtK(**options),
            mc.TestNDCGAtK(**options),
            mc.TestMAPAtK(**options),
            mc.TestMRRAtK(**options),
            mc.TestHitRateAtK(**options),
        ]


@dataclass
class NoTargetPerformanceTestPreset:
    """For models whose labels have not arrived: the prediction's drift, the share of drifted
    features, missing values, and the stability of the prediction's distribution."""

    columns: list[str] | None = None
    drift_share: float = 0.5

    def tests(self, ctx: Context) -> list[Test]:
        schema = ctx.schema
        tests: list[Test] = [
            TestShareOfDriftedColumns(columns=self.columns, drift_share=self.drift_share)
        ]
        prediction = schema.role("prediction")
        if prediction is not None and prediction in schema.types:
            tests.append(TestColumnDrift(column=prediction))
            if schema.types[prediction] == ColumnType.NUMERICAL:
                tests.append(TestColumnMeanInNSigmas(column=prediction, n=2))
        for column, role in schema.roles.items():
            if role == "prediction_probas" and column in schema.types:
                tests.append(TestColumnDrift(column=column))
        for column in _selected(schema, self.columns):
            tests.append(TestColumnMissingShare(column=column))
        return tests


# ---- text ---------------------------------------------------------------------------------------


def default_descriptors(column: str) -> list[Any]:
    return [
        d.TextLength(column=column),
        d.WordCount(column=column),
        d.SentenceCount(column=column),
        d.OOVShare(column=column),
        d.NonLetterShare(column=column),
        d.ContainsLink(column=column),
    ]


@dataclass
class TextEvalsPreset:
    """Text evaluations: descriptors of each text column (length, words, sentences, share of words
    out of the vocabulary, share of non-letters, links; or the ones given) summarised, drawn, and
    with a reference checked for drift, with the text's own drift."""

    columns: list[str]
    descriptors: list[Any] | None = None

    def descriptor_list(self) -> list[Any]:
        if self.descriptors is not None:
            return list(self.descriptors)
        return [d for column in self.columns for d in default_descriptors(column)]

    def metrics(self, ctx: Context) -> list[Metric]:
        metrics: list[Metric] = []
        for descriptor in self.descriptor_list():
            metrics += [
                ColumnSummary(column=descriptor.alias),
                ColumnDistribution(column=descriptor.alias),
            ]
            if ctx.reference is not None:
                metrics.append(ColumnDrift(column=descriptor.alias))
        if ctx.reference is not None:
            metrics += [ColumnDrift(column=c) for c in self.columns]
        return metrics


@dataclass
class TextEvalsTestPreset:
    """Text tests: each descriptor's drift (non-critical) and mean within ±10% of the reference,
    and the text's own drift."""

    columns: list[str]
    descriptors: list[Any] | None = None

    def descriptor_list(self) -> list[Any]:
        return TextEvalsPreset(self.columns, self.descriptors).descriptor_list()

    def tests(self, ctx: Context) -> list[Test]:
        tests: list[Test] = [TestColumnDrift(column=c) for c in self.columns]
        for descriptor in self.descriptor_list():
            tests.append(TestColumnDrift(column=descriptor.alias, is_critical=False))
            if ctx.schema.types.get(descriptor.alias) == ColumnType.NUMERICAL:
                tests.append(TestColumnMean(column=descriptor.alias, is_critical=False))
        return tests


# ---- segments -----------------------------------------------------------------------------------


@dataclass
class Segmented:
    """Metrics or tests computed per value of a segment column: each segment is a separate result
    (its parameters carry `segment={"column", "value"}`). Segments are the `values` given, or the
    `top` most frequent values of the column in the current data.

        Report([Segmented([ClassificationPreset()], by="country")])
    """

    items: list[Any]
    by: str
    values: list[Any] | None = None
    top: int = 20

    def segment_values(self, ctx: Context) -> list[Any]:
        if self.by not in ctx.current.columns:
            raise ValueError(f"Segment column {self.by!r} is not in the current data.")
        if self.values is not None:
            return list(self.values)
        counts = ctx.current[self.by].value_counts(dropna=True)
        return [v.item() if hasattr(v, "item") else v for v in counts.index[: self.top]]

    def metrics(self, ctx: Context) -> list[Metric]:
        inner = expand([i for i in self.items if not _is_test_item(i)], ctx)
        return [m.for_segment(self.by, v) for v in self.segment_values(ctx) for m in inner]

    def tests(self, ctx: Context) -> list[Test]:
        inner: list[Test] = []
        for item in self.items:
            if isinstance(item, Test):
                inner.append(item)
            elif hasattr(item, "tests"):
                inner += item.tests(ctx)
        return [SegmentTest(test, self.by, v) for v in self.segment_values(ctx) for test in inner]


def _is_test_item(item: Any) -> bool:
    return isinstance(item, Test) or hasattr(item, "tests")


class SegmentTest(Test):
    """A test run on one segment's rows (see `Segmented`)."""

    def __init__(self, inner: Test, column: str, value: Any) -> None:
        self.inner = inner
        self.condition = inner.condition
        self.is_critical = inner.is_critical
        self.params = {**inner.params, "segment": {"column": column, "value": value}}
        self.segment = (column, value)

    @property
    def type(self) -> str:
        return self.inner.type

    @property
    def name(self) -> str:
        column, value = self.segment
        return f"{self.inner.name} [{column} = {value}]"

    @property
    def field(self) -> str:  # type: ignore[override]
        return self.inner.field

    def metric(self) -> Metric:
        return self.inner.metric().for_segment(*self.segment)

    def value(self, result: MetricResult, side: str = "current") -> Any:
        return self.inner.value(result, side)

    def derive_condition(self, result: MetricResult) -> tuple[Any, Any, str]:
        return self.inner.derive_condition(result)

    def evaluate(self, result: MetricResult, base: dict[str, Any]) -> Any:
        # The inner test's own evaluation (drift tests have theirs), reading this test's segment.
        return type(self.inner).evaluate(self, result, base)


@dataclass(frozen=True)
class PresetOptions:
    """The command-line options that presets take."""

    drift_share: float | None = None
    pos_label: str | int | bool | None = None


def _drift_share(options: PresetOptions) -> dict[str, Any]:
    return {} if options.drift_share is None else {"drift_share": options.drift_share}


# Each preset by the name the command line and the collector use: (what it is for, how to make it
# from the options).
PRESETS: dict[str, tuple[str, Callable[[PresetOptions], Any]]] = {
    "data_summary": ("report: dataset and column statistics", lambda o: DataSummaryPreset()),
    "data_drift": (
        "report: drift of every column (needs --reference)",
        lambda o: DataDriftPreset(**_drift_share(o)),
    ),
    "classification": (
        "report: classification quality (needs --target and --prediction/--prediction-probas)",
        lambda o: ClassificationPreset(pos_label=o.pos_label),
    ),
    "regression": (
        "report: regression quality (needs --target and --prediction)",
        lambda o: RegressionPreset(),
    ),
    "data_stability_tests": (
        "tests: the batch is like the reference (needs --reference)",
        lambda o: DataStabilityTestPreset(),
    ),
    "data_quality_tests": (
        "tests: missing values, empty, constant and duplicated rows and columns",
        lambda o: DataQualityTestPreset(),
    ),
    "data_drift_tests": (
        "tests: share of drifted columns, each column's drift (needs --reference)",
        lambda o: DataDriftTestPreset(**_drift_share(o)),
    ),
    "binary_classification_tests": (
        "tests: accuracy, precision, recall, F1 (and ROC AUC, log loss with probabilities)",
        lambda o: BinaryClassificationTestPreset(pos_label=o.pos_label),
    ),
    "multiclass_classification_tests": (
        "tests: accuracy, F1, each label's precision and recall",
        lambda o: MulticlassClassificationTestPreset(),
    ),
    "regression_tests": (
        "tests: mean error, MAE, RMSE, MAPE, R2",
        lambda o: RegressionTestPreset(),
    ),
    "no_target_tests": (
        "tests: prediction drift, drifted features, missing values, without labels",
        lambda o: NoTargetPerformanceTestPreset(**_drift_share(o)),
    ),
}
