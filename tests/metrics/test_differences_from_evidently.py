"""The examples of docs/differences-from-evidently.md, computed: our library's value, an
independent NumPy / pandas / SciPy / scikit-learn computation of the same definition, and
Evidently 0.7.23's formula (as its source writes it) rebuilt with NumPy, each against the number
the page states."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as sk

from metrics import (
    ColumnDrift,
    ColumnSummary,
    ColumnValueCounts,
    DataDefinition,
    DatasetSummary,
    RegressionQuality,
    Report,
)

EPS = np.finfo(np.float64).eps  # Evidently's default mape_epsilon


def run(metric, current, reference=None, definition=None):
    return Report([metric], definition=definition).run(current, reference).metric(metric)


def test_mape_evidently_divides_by_max_y_eps_so_a_negative_target_explodes():
    frame = pd.DataFrame({"y": [-2.0, 4.0, 10.0], "pred": [-1.0, 5.0, 8.0]})
    y, pred = frame["y"].to_numpy(), frame["pred"].to_numpy()
    ours = run(RegressionQuality(), frame, definition=DataDefinition(target="y", prediction="pred"))
    assert ours.values["current"]["mape"] == pytest.approx(31.67, abs=0.005)
    assert ours.values["current"]["mape"] == pytest.approx(
        100 * sk.mean_absolute_percentage_error(y, pred), rel=1e-12
    )
    evidently = 100 * np.mean(np.abs(pred - y) / np.maximum(y, EPS))
    assert evidently == pytest.approx(1.50e17, rel=0.005)
    assert evidently == pytest.approx(100 * (1 / EPS + 1 / 4 + 2 / 10) / 3, rel=1e-12)


def missing_frame() -> pd.DataFrame:
    """4 rows x 3 columns, 6 of the 12 cells missing."""
    return pd.DataFrame(
        {
            "a": [1.0, np.nan, np.nan, 4.0],
            "b": [np.nan, np.nan, 3.0, 4.0],
            "c": ["x", None, None, "y"],
        }
    )


def test_missing_cell_share_evidently_divides_by_rows_and_passes_one():
    frame = missing_frame()
    ours = run(DatasetSummary(), frame).values["current"]
    cells = frame.isna().to_numpy()
    assert ours["missing_cells"] == cells.sum() == 6
    assert ours["missing_cells_share"] == cells.mean() == 0.5
    evidently = cells.sum() / len(frame)
    assert evidently == 1.5  # a "share" above 1


def plan_frame() -> pd.DataFrame:
    return pd.DataFrame({"plan": ["a", "a", "b", None, "c"]})


def test_shares_of_a_column_with_missing_values_are_of_its_values_not_its_rows():
    frame = plan_frame()
    counts = run(ColumnValueCounts(column="plan"), frame)
    ours = {row["value"]: row["share"] for row in counts.details["current"]}
    assert ours == {"a": 0.5, "b": 0.25, "c": 0.25}
    assert ours == frame["plan"].value_counts(normalize=True).to_dict()
    assert sum(ours.values()) == 1.0
    summary = run(ColumnSummary(column="plan"), frame).values["current"]
    assert summary["missing_share"] == 0.2
    # Evidently's UniqueValueCount: value_counts(dropna=True) / len(frame), rows with nulls included.
    evidently = (frame["plan"].value_counts(dropna=True) / len(frame)).to_dict()
    assert evidently == {"a": 0.4, "b": 0.2, "c": 0.2}
    assert sum(evidently.values()) == pytest.approx(0.8)


def test_the_missing_value_is_no_category_of_ours():
    frame = plan_frame()
    counts = run(ColumnValueCounts(column="plan"), frame)
    labels = [row["value"] for row in counts.details["current"]]
    assert labels == ["a", "b", "c"]
    assert counts.values["current"]["distinct"] == frame["plan"].nunique(dropna=True) == 3
    assert run(ColumnSummary(column="plan"), frame).values["current"]["missing"] == 1
    # Evidently lists the null among its labels, from unique() (which keeps it), with the count
    # of value_counts(dropna=True), which has none: 0, though one value in five is missing.
    unique = set(frame["plan"].unique())
    assert any(pd.isna(v) for v in unique)
    assert frame["plan"].value_counts(dropna=True).get(np.nan, 0) == 0


def categorical(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"plan": [k for k, n in counts.items() for _ in range(n)]})


PLAN = DataDefinition(categorical_columns=["plan"])


def drift(method: str, current: pd.DataFrame, reference: pd.DataFrame):
    return run(ColumnDrift(column="plan", method=method), current, reference, PLAN)


def test_chi_square_a_new_category_gives_evidently_p_zero():
    reference = categorical({"a": 50, "b": 50})
    current = categorical({"a": 49, "b": 50, "c": 1})
    ours = drift("chi_square", current, reference)
    table = np.array([[50, 50, 0], [49, 50, 1]])
    assert ours.values["score"] == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue
    )
    assert ours.values["score"] == pytest.approx(0.603, abs=0.0005)
    assert not ours.values["drifted"]
    gof = drift("chisquare_gof", current, reference)
    assert gof.values["score"] == 0.0
    assert gof.values["drifted"]
    assert ours.values["new_categories"] == 1


def test_chi_square_evidently_takes_a_small_reference_for_the_truth():
    reference = categorical({"a": 10, "b": 10})
    current = categorical({"a": 300, "b": 200})
    ours = drift("chi_square", current, reference)
    assert ours.values["score"] == pytest.approx(0.371, abs=0.0005)
    assert ours.values["score"] == pytest.approx(
        stats.chi2_contingency(np.array([[10, 10], [300, 200]]), correction=False).pvalue
    )
    gof = drift("chisquare_gof", current, reference)
    # Evidently's recipe: expected = reference counts x current rows / reference rows.
    expected = stats.chisquare([300, 200], np.array([10, 10]) * 500 / 20)
    assert gof.values["score"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert gof.values["score"] == pytest.approx(7.7e-6, rel=0.01)
    assert gof.values["drifted"]
    assert not ours.values["drifted"]


def test_new_and_vanished_categories_are_reported():
    reference = categorical({"a": 50, "b": 45, "old": 5})
    current = categorical({"a": 50, "b": 49, "new": 1})
    ours = drift("chi_square", current, reference)
    assert ours.values["new_categories"] == 1
    assert ours.values["vanished_categories"] == 1
    assert ours.values["new_categories_share"] == 0.01
    assert ours.values["vanished_categories_share"] == 0.05
    assert ours.details["new_category_values"] == [{"value": "new", "count": 1}]
    assert ours.details["vanished_category_values"] == [{"value": "old", "count": 5}]
