"""Dataset-level quality against pandas, and correlations against pandas and SciPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metrics import Correlations, DatasetSummary, Report

TOL = 1e-9


@pytest.fixture
def messy() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 500
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.integers(0, 3, n).astype(float),
            "c": rng.choice(["x", "y"], n),
            "const": 1.0,
            "nearly": np.where(rng.random(n) < 0.97, "same", "other"),
            "empty": np.nan,
        }
    )
    frame["a_copy"] = frame["a"]
    frame["b_almost"] = frame["b"].where(rng.random(n) > 0.02, 99.0)
    frame.loc[rng.choice(n, 30, replace=False), "a"] = np.nan
    frame.loc[rng.choice(n, 30, replace=False), "a_copy"] = np.nan
    frame.iloc[[5, 6]] = np.nan  # two empty rows
    frame = pd.concat([frame, frame.iloc[[10, 11, 12]]], ignore_index=True)  # three duplicated rows
    return frame


def test_dataset_summary_matches_pandas(messy):
    result = Report([DatasetSummary()]).run(messy).metric(DatasetSummary())
    values = result.values["current"]
    nulls = messy.isna()
    assert values["row_count"] == len(messy)
    assert values["column_count"] == messy.shape[1]
    assert values["missing_cells"] == int(nulls.to_numpy().sum())
    assert values["missing_cells_share"] == pytest.approx(nulls.to_numpy().mean(), abs=TOL)
    assert values["rows_with_missing"] == int(nulls.any(axis=1).sum())
    assert values["empty_rows"] == int(nulls.all(axis=1).sum()) == 2
    assert values["columns_with_missing"] == int(nulls.any(axis=0).sum())
    assert values["empty_columns"] == 1
    assert result.details["current"]["empty_columns"] == ["empty"]
    assert values["duplicated_rows"] == int(messy.duplicated().sum())
    assert values["duplicated_rows_share"] == pytest.approx(messy.duplicated().mean(), abs=TOL)
    # "empty" is constant too (no value at all), "const" has one value.
    assert set(result.details["current"]["constant_columns"]) == {"const", "empty"}
    assert result.details["current"]["almost_constant_columns"] == ["nearly"]
    equal_share = (
        (messy["b"] == messy["b_almost"]) | (messy["b"].isna() & messy["b_almost"].isna())
    ).mean()
    assert result.details["current"]["almost_duplicated_columns"] == [
        {"columns": ["b", "b_almost"], "equal_share": pytest.approx(equal_share, abs=TOL)}
    ]
    assert values["numerical_columns"] == 6  # a, b, const, empty (all NaN floats), a_copy, b_almost
    assert values["categorical_columns"] == 2


def test_exact_duplicate_columns_are_found():
    frame = pd.DataFrame({"a": [1, 2, 3, None], "b": [1, 2, 3, None], "c": [1, 2, 4, None]})
    result = Report([DatasetSummary()]).run(frame).metric(DatasetSummary())
    assert result.details["current"]["duplicated_columns"] == [["a", "b"]]
    assert result.values["current"]["duplicated_columns"] == 1


def test_summary_has_both_sides(reference, current):
    result = Report([DatasetSummary()]).run(current, reference).metric(DatasetSummary())
    assert result.values["reference"]["row_count"] == len(reference)
    assert result.values["current"]["row_count"] == len(current)


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_numeric_correlations_match_pandas(method):
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    frame = pd.DataFrame(
        {"x": x, "y": 2 * x + rng.normal(size=400), "z": rng.normal(size=400) * 100 + 1e4}
    )
    frame.loc[rng.choice(400, 40, replace=False), "y"] = np.nan
    frame.loc[rng.choice(400, 25, replace=False), "z"] = np.nan
    metric = Correlations(method=method, threshold=0.5)
    result = Report([metric]).run(frame).metric(metric)
    expected = frame.corr(method=method).to_numpy()
    np.testing.assert_allclose(result.details["current_matrix"], expected, rtol=1e-9, atol=1e-12)
    assert result.values["current"]["high_pairs"] == 1
    assert result.details["current_top_pairs"][0]["columns"] == ["x", "y"]


def test_cramers_v_matches_a_direct_computation():
    rng = np.random.default_rng(4)
    a = rng.choice(list("abc"), 600)
    b = np.where(rng.random(600) < 0.7, a, rng.choice(list("abcd"), 600))
    frame = pd.DataFrame({"a": a, "b": b})
    metric = Correlations(method="cramer_v")
    result = Report([metric]).run(frame).metric(metric)
    table = pd.crosstab(frame["a"], frame["b"]).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False).statistic
    expected = np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
    assert result.details["current_matrix"][0][1] == pytest.approx(expected, rel=TOL)


def test_correlations_need_two_columns():
    metric = Correlations()
    result = Report([metric]).run(pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})).metric(metric)
    assert result.status == "error"
    assert "at least two numerical columns" in (result.reason or "")


def test_three_equal_columns_are_duplicates_not_almost_duplicates():
    from metrics import Report
    from metrics.computations.quality import DatasetSummary

    values = pd.Series(np.arange(300) % 17, dtype=float)
    frame = pd.DataFrame({"a": values, "b": values, "c": values, "d": np.arange(300.0)})
    result = Report([DatasetSummary()], progress=False).run(frame).metric(DatasetSummary())
    assert result.details["current"]["duplicated_columns"] == [["a", "b"], ["a", "c"]]
    assert result.details["current"]["almost_duplicated_columns"] == []
