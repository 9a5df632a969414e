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
from metrics.drift import ColumnDrift, DatasetDrift, DriftOptions, EmbeddingsDrift
from metrics.presets import (
    DataDriftPreset,
    DataDriftTestPreset,
    DataQualityTestPreset,
    DataStabilityTestPreset,
    DataSummaryPreset,
)
from metrics.quality import Correlations, DatasetSummary
from metrics.report import Report, Run, TestSuite
from metrics.snapshot import Snapshot, SnapshotError
from metrics.workspace import LocalWorkspace, Workspace, WorkspaceError
