"""The instrumentation library: reports, test suites and snapshots over pandas data.

Pure Python on NumPy, pandas and SciPy; it never imports Django, so it runs in users' batch jobs,
notebooks and CI pipelines. Raw rows never leave the process: a snapshot holds aggregates only.

    from metrics import Report, TestSuite, DataDriftPreset, DataStabilityTestPreset
    run = Report([DataDriftPreset()]).run(current, reference)
    run.save("drift.json")

The layers, each a sub-package: `core` (data definition, the Metric base, Report/TestSuite runs,
snapshots), `computations` (the metrics: column statistics, quality, drift, classification,
regression, ranking, text descriptors), `suites` (tests: conditions, data tests, model tests),
`workspaces` (the interface and the local folder) and `client` (the platform's REST API as a
workspace, the collector client, the `mlp` command line). Presets are in `metrics.presets`.
"""

from metrics.client.collector_client import CollectorClient
from metrics.client.remote import RemoteError, RemoteWorkspace
from metrics.computations.classification import (
    ClassBalance,
    ClassificationByLabel,
    ClassificationQuality,
    ConfusionMatrix,
    LiftTable,
    PrecisionRecallCurve,
    RocCurve,
)
from metrics.computations.column_stats import (
    ColumnCategoryShare,
    ColumnDistribution,
    ColumnQuantile,
    ColumnRegexMatch,
    ColumnSummary,
    ColumnValueCounts,
    ColumnValueList,
    ColumnValueRange,
)
from metrics.computations.descriptors import (
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
from metrics.computations.drift import ColumnDrift, DatasetDrift, DriftOptions, EmbeddingsDrift
from metrics.computations.quality import Correlations, DatasetSummary
from metrics.computations.ranking import (
    Diversity,
    Novelty,
    Personalization,
    Popularity,
    RankingBias,
    RankingQuality,
    ScoreDistribution,
    Serendipity,
)
from metrics.computations.regression import (
    RegressionErrorBias,
    RegressionErrorDistribution,
    RegressionErrorNormality,
    RegressionQuality,
)
from metrics.core.base import Context, Metric, MetricError, MetricResult, MissingLabels, clean
from metrics.core.definition import ColumnType, DataDefinition, DataDefinitionError, Schema
from metrics.core.report import ColumnDriftResult, LabelQuality, Report, Run, TestSuite
from metrics.core.snapshot import Snapshot, SnapshotError, snapshot_schema
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
from metrics.suites.base import TEST_REGISTRY, Test, TestResult, TestStatus
from metrics.suites.conditions import (
    ZERO,
    Condition,
    Rule,
    approx,
    at_least_reference,
    at_most_reference,
    equal_to_reference,
    near_reference,
)
from metrics.suites.data_tests import *  # every data Test* class
from metrics.suites.model_tests import *  # every model-quality Test* class
from metrics.version import __version__
from metrics.workspaces.base import (
    AuthenticationFailed,
    Conflict,
    InvalidSnapshot,
    NotFound,
    PermissionDenied,
    Workspace,
    WorkspaceError,
)
from metrics.workspaces.local import LocalWorkspace
