"""The instrumentation library: reports, test suites and snapshots over pandas data.

Pure Python on NumPy, pandas and SciPy; it never imports Django, so it runs in users' batch jobs,
notebooks and CI pipelines. Raw rows never leave the process: a snapshot holds aggregates only.

    from metrics import Report, TestSuite, DataDriftPreset, DataStabilityTestPreset
    run = Report([DataDriftPreset()]).run(current, reference)
    run.save("drift.json")
"""

__version__ = "0.1.0"

from metrics.base import Metric, MetricError, MetricResult
from metrics.checks import *
from metrics.checks import Test, TestResult, TestStatus
from metrics.classification import (
    ClassBalance,
    ClassificationByLabel,
    ClassificationQuality,
    ConfusionMatrix,
    LiftTable,
    PrecisionRecallCurve,
    RocCurve,
)
from metrics.column_stats import (
    ColumnCategoryShare,
    ColumnDistribution,
    ColumnQuantile,
    ColumnRegexMatch,
    ColumnSummary,
    ColumnValueCounts,
    ColumnValueList,
    ColumnValueRange,
)
from metrics.conditions import Condition, approx
from metrics.definition import ColumnType, DataDefinition, DataDefinitionError, Schema
from metrics.descriptors import (
    BeginsWith,
    Contains,
    ContainsLink,
    CustomDescriptor,
    Descriptor,
    DoesNotContain,
    EndsWith,
    ExactMatch,
    IsValidJSON,
    IsValidPython,
    IsValidSQL,
    JSONSchemaMatch,
    NonLetterShare,
    OOVShare,
    RegexMatch,
    SentenceCount,
    TextLength,
    WordCount,
    add_descriptors,
)
from metrics.drift import ColumnDrift, DatasetDrift, DriftOptions, EmbeddingsDrift
from metrics.model_checks import *  # every model-quality Test* class
from metrics.presets import (
    BinaryClassificationTestPreset,
    BinaryClassificationTopKTestPreset,
    ClassificationPreset,
    DataDriftPreset,
    DataDriftTestPreset,
    DataQualityTestPreset,
    DataStabilityTestPreset,
    DataSummaryPreset,
    MulticlassClassificationTestPreset,
    NoTargetPerformanceTestPreset,
    RankingPreset,
    RankingTestPreset,
    RegressionPreset,
    RegressionTestPreset,
    Segmented,
    TextEvalsPreset,
    TextEvalsTestPreset,
)
from metrics.quality import Correlations, DatasetSummary
from metrics.ranking import (
    Diversity,
    Novelty,
    Personalization,
    Popularity,
    RankingBias,
    RankingQuality,
    ScoreDistribution,
    Serendipity,
)
from metrics.regression import (
    RegressionErrorBias,
    RegressionErrorDistribution,
    RegressionErrorNormality,
    RegressionQuality,
)
from metrics.report import Report, Run, TestSuite
from metrics.snapshot import Snapshot, SnapshotError
from metrics.workspace import LocalWorkspace, Workspace, WorkspaceError

from metrics.remote import RemoteWorkspace  # isort: skip (kept last)
from metrics.collector_client import CollectorClient  # isort: skip (uses RemoteWorkspace)
