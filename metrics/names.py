"""The names other code reads from a snapshot's metric results: metric types, parameters and fields.

The platform's pre-built dashboard tabs pick series by these names; tests/metrics/test_names.py runs
each metric and checks every name here against its result, so renaming a field in the library fails
a test rather than silently emptying a panel.

One class per metric: `TYPE` is the metric's type (its class name, the `type` of its result),
`PARAM_*` are keys of its `params`, and every other upper-case attribute is the dotted path of a
numeric field in its `values` (the `field` of the platform's points). The parameters many metrics
share (`PARAM_COLUMN`, `PARAM_SEGMENT`) are module-level. Plain strings only: this module imports
nothing, so any layer can use it.
"""

from __future__ import annotations

PARAM_COLUMN = "column"
"""The parameter of a per-column metric naming its column."""
PARAM_SEGMENT = "segment"
"""The parameter a per-segment copy of any metric carries ({"column", "value"})."""


class DatasetSummary:
    """Counts over the whole frame: rows, columns, missing cells."""

    TYPE = "DatasetSummary"
    ROW_COUNT = "current.row_count"
    MISSING_CELLS_SHARE = "current.missing_cells_share"


class ColumnSummary:
    """One column's statistics."""

    TYPE = "ColumnSummary"
    MISSING_SHARE = "current.missing_share"
    MEAN = "current.mean"


class ColumnDistribution:
    """One column's histogram (or category counts), with its count per side."""

    TYPE = "ColumnDistribution"
    COUNT = "current.count"


class DatasetDrift:
    """Whether the dataset drifted: the share of drifted columns against `drift_share`."""

    TYPE = "DatasetDrift"
    PARAM_DRIFT_SHARE = "drift_share"
    DRIFTED_SHARE = "drifted_share"
    DRIFTED_COLUMNS = "drifted_columns"


class ColumnDrift:
    """One column's drift score against the reference."""

    TYPE = "ColumnDrift"
    SCORE = "score"
    THRESHOLD = "threshold"
    DRIFTED = "drifted"
    # Categorical columns only: distinct values seen only in current / only in the reference.
    NEW_CATEGORIES = "new_categories"
    VANISHED_CATEGORIES = "vanished_categories"


class ClassificationQuality:
    """Accuracy, precision, recall, F1 and (with probabilities) ROC AUC of the current data."""

    TYPE = "ClassificationQuality"
    ACCURACY = "current.accuracy"
    PRECISION = "current.precision"
    RECALL = "current.recall"
    F1 = "current.f1"
    ROC_AUC = "current.roc_auc"


class RegressionQuality:
    """Errors of a regression on the current data."""

    TYPE = "RegressionQuality"
    ROWS = "current.rows"
    MAE = "current.mae"
    RMSE = "current.rmse"
    MAPE = "current.mape"


NAMED = (
    DatasetSummary,
    ColumnSummary,
    ColumnDistribution,
    DatasetDrift,
    ColumnDrift,
    ClassificationQuality,
    RegressionQuality,
)
"""Every metric named here, for the test that checks them."""
