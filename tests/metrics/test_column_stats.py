"""Column statistics against NumPy, pandas and SciPy computed independently, with edge cases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from metrics import (
    ColumnCategoryShare,
    ColumnDistribution,
    ColumnQuantile,
    ColumnRegexMatch,
    ColumnSummary,
    ColumnValueCounts,
    ColumnValueList,
    ColumnValueRange,
    Report,
)

TOL = 1e-9


def run_one(metric, current, reference=None):
    return Report([metric]).run(current, reference).metric(metric)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numerical_summary_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_t(3, 5000) * 7 + 3
    values[rng.choice(5000, 200, replace=False)] = np.nan
    values[:3] = [np.inf, -np.inf, np.inf]
    frame = pd.DataFrame({"x": values})
    stats = run_one(ColumnSummary(column="x"), frame).values["current"]
    finite = values[np.isfinite(values)]
    assert stats["count"] == int(np.count_nonzero(~np.isnan(values)))
    missing = int(np.isnan(values).sum())
    assert stats["missing"] == missing
    assert stats["missing_share"] == pytest.approx(missing / 5000, abs=TOL)
    assert stats["infinite"] == 3
    assert stats["min"] == finite.min()
    assert stats["max"] == finite.max()
    assert stats["mean"] == pytest.approx(np.mean(finite), rel=TOL)
    assert stats["std"] == pytest.approx(np.std(finite, ddof=1), rel=TOL)
    assert stats["sum"] == pytest.approx(np.sum(finite), rel=TOL)
    assert stats["median"] == pytest.approx(np.median(finite), rel=TOL)
    assert stats["p25"] == pytest.approx(np.quantile(finite, 0.25), rel=TOL)
    assert stats["p75"] == pytest.approx(np.quantile(finite, 0.75), rel=TOL)
    assert stats["unique"] == len(np.unique(values[~np.isnan(values)]))


def test_most_common_and_unique_match_pandas(reference):
    for column in ["score", "plan", "active"]:
        stats = run_one(ColumnSummary(column=column), reference)
        counts = reference[column].value_counts(dropna=True)
        assert stats.values["current"]["unique"] == reference[column].nunique(dropna=True)
        assert stats.values["current"]["most_common_share"] == pytest.approx(
            counts.iloc[0] / counts.sum(), abs=TOL
        )
        assert stats.details["current_most_common"] in (counts.index[0], str(counts.index[0]))


def test_text_summary_has_lengths():
    frame = pd.DataFrame(
        {
            "review": [
                "great product, would buy again",
                "terrible, broke in a day",
                None,
                "ok I guess it works",
            ]
        }
    )
    from metrics import DataDefinition

    run = Report(
        [ColumnSummary(column="review")], definition=DataDefinition(text_columns=["review"])
    ).run(frame)
    stats = run.metric(ColumnSummary(column="review")).values["current"]
    lengths = frame["review"].dropna().str.len()
    assert stats["mean_length"] == pytest.approx(lengths.mean(), rel=TOL)
    assert stats["missing"] == 1


def test_datetime_summary_reports_seconds_and_dates(reference):
    result = run_one(ColumnSummary(column="signup"), reference)
    assert result.values["current"]["min"] == reference["signup"].min().timestamp()
    assert result.details["current_max"].startswith(str(reference["signup"].max().date()))


@pytest.mark.parametrize("q", [0.0, 0.01, 0.5, 0.9, 0.999, 1.0])
def test_quantiles_match_numpy(reference, current, q):
    result = run_one(ColumnQuantile(column="income", q=q), current, reference)
    for side, frame in (("current", current), ("reference", reference)):
        assert result.values[side]["value"] == pytest.approx(
            np.nanquantile(frame["income"], q), rel=TOL
        )


def test_value_counts_match_pandas(reference):
    result = run_one(ColumnValueCounts(column="plan", top=2), reference)
    counts = reference["plan"].value_counts()
    assert [row["value"] for row in result.details["current"]] == list(counts.index[:2])
    assert [row["count"] for row in result.details["current"]] == list(counts.iloc[:2])
    assert result.values["current"]["distinct"] == 3


def test_value_range_with_explicit_bounds(current):
    result = run_one(ColumnValueRange(column="age", left=30, right=50), current)
    age = current["age"]
    inside = int(((age >= 30) & (age <= 50)).sum())
    assert result.values["current"]["in_range"] == inside
    assert result.values["current"]["out_range_share"] == pytest.approx(
        1 - inside / len(age), abs=TOL
    )


def test_value_range_defaults_to_the_reference_range(reference, current):
    result = run_one(ColumnValueRange(column="age"), current, reference)
    low, high = reference["age"].min(), reference["age"].max()
    outside = int(((current["age"] < low) | (current["age"] > high)).sum())
    assert result.values["current"]["out_range"] == outside
    assert result.details == {"left": low, "right": high}
    assert result.values["reference"]["out_range"] == 0


def test_value_range_counts_infinities_as_outside():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.inf, np.nan]})
    result = run_one(ColumnValueRange(column="x", left=0, right=10), frame)
    assert result.values["current"] == {
        "in_range": 2,
        "in_range_share": 2 / 3,
        "out_range": 1,
        "out_range_share": 1 / 3,
    }


def test_value_range_without_bounds_or_reference_is_skipped(current):
    assert run_one(ColumnValueRange(column="age"), current).status == "skipped"


def test_new_categories_against_the_reference(reference, current):
    current = current.copy()
    current.loc[:9, "plan"] = "enterprise"  # a category only in current
    result = run_one(ColumnValueList(column="plan"), current, reference)
    assert result.values["current"]["out_list"] == 10
    assert result.values["current"]["new_values"] == 1
    assert result.details["current_out_of_list_examples"] == ["enterprise"]
    non_null = current["plan"].notna().sum()
    assert result.values["current"]["out_list_share"] == pytest.approx(10 / non_null, abs=TOL)


def test_value_list_on_numbers(current):
    result = run_one(ColumnValueList(column="score", values=[0, 1]), current)
    expected = int(current["score"].isin([0, 1]).sum())
    assert result.values["current"]["in_list"] == expected


def test_category_share(reference):
    result = run_one(ColumnCategoryShare(column="plan", category="pro"), reference)
    plan = reference["plan"].dropna()
    assert result.values["current"]["share"] == pytest.approx((plan == "pro").mean(), abs=TOL)


def test_regex_match_counts_full_matches():
    frame = pd.DataFrame({"code": ["AB-12", "AB-123", "xAB-12", None, "CD-99"]})
    result = run_one(ColumnRegexMatch(column="code", pattern=r"[A-Z]{2}-\d{2}"), frame)
    expected = sum(1 for v in frame["code"].dropna() if re.fullmatch(r"[A-Z]{2}-\d{2}", v))
    assert result.values["current"]["match"] == expected == 2
    assert result.values["current"]["no_match_share"] == pytest.approx(2 / 4, abs=TOL)


def test_a_bad_regex_is_refused_when_declared():
    with pytest.raises(ValueError, match="not a valid regular expression"):
        ColumnRegexMatch(column="x", pattern="(")


def test_numeric_distribution_matches_numpy_histogram(reference, current):
    result = run_one(ColumnDistribution(column="income", bins=15), current, reference)
    dist = result.distribution
    edges = np.asarray(dist.edges)
    assert len(edges) == 16
    both = np.concatenate([reference["income"].dropna(), current["income"].dropna()])
    assert edges[0] == both.min()
    assert edges[-1] == both.max()
    assert dist.current == np.histogram(current["income"].dropna(), bins=edges)[0].tolist()
    assert dist.reference == np.histogram(reference["income"].dropna(), bins=edges)[0].tolist()


def test_categorical_distribution_keeps_the_top_and_sums_the_rest():
    frame = pd.DataFrame({"c": list("aaaabbbccd") * 10})
    result = run_one(ColumnDistribution(column="c", top=2), frame)
    assert result.distribution.labels == ["a", "b", "other"]
    assert result.distribution.current == [40, 30, 30]


def test_distributions_are_bounded():
    with pytest.raises(ValueError, match="bins"):
        ColumnDistribution(column="x", bins=5000)
    frame = pd.DataFrame({"c": [f"v{i}" for i in range(1000)]})
    result = run_one(ColumnDistribution(column="c"), frame)
    assert len(result.distribution.labels) == 21


@pytest.mark.parametrize(
    "values",
    [
        [5.0] * 10,  # constant
        [np.nan] * 10,  # all null
        [7.0],  # a single row
        [np.inf, -np.inf, 1.0],  # infinities
    ],
    ids=["constant", "all-null", "single-row", "infinities"],
)
def test_edge_cases_give_numbers_or_nan_not_crashes(values):
    frame = pd.DataFrame({"x": values})
    metrics = [
        ColumnSummary(column="x"),
        ColumnQuantile(column="x", q=0.5),
        ColumnDistribution(column="x"),
    ]
    run = Report(metrics).run(frame)
    summary = run.metric(metrics[0])
    assert summary.status == "ok"
    finite = np.asarray(values)[np.isfinite(values)]
    if len(finite):
        assert summary.values["current"]["min"] == finite.min()
        assert run.metric(metrics[1]).values["current"]["value"] == np.median(finite)
    else:
        assert np.isnan(summary.values["current"]["mean"])
        assert run.metric(metrics[2]).status == "error"
        assert "no finite values" in (run.metric(metrics[2]).reason or "")
    assert len(values) == summary.values["current"]["count"] + summary.values["current"]["missing"]


def test_a_numerical_metric_on_a_categorical_column_is_an_error(reference):
    result = run_one(ColumnQuantile(column="plan", q=0.5), reference)
    assert result.status == "error"
    assert "needs a numerical column" in result.reason
