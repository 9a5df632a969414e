"""What the regression metrics of a run share (the per-side errors, their moments, order
statistics and groups) against SciPy, NumPy and pandas computing each value on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metrics import DataDefinition, Report
from metrics.computations.regression import (
    Moments,
    OrderStatistics,
    RegressionErrorBias,
    linear_quantiles,
)
from metrics.presets import RegressionPreset

TOL = 1e-9
RNG = np.random.default_rng(7)
SAMPLES = {
    "normal": RNG.normal(3, 2, 5000),
    "skewed": RNG.exponential(1.0, 2000),
    "heavy tails": RNG.standard_t(2, 3000),
    "ties": np.round(RNG.normal(0, 1, 4000), 1),
    "far from zero": 1e6 + RNG.normal(0, 1, 1000),
    "twenty": RNG.normal(0, 1, 20),
    "eight": RNG.normal(0, 1, 8),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_the_moments_give_scipys_shape_statistics_and_tests(name):
    values = SAMPLES[name]
    moments = Moments.of(values)
    assert moments.mean == pytest.approx(values.mean(), rel=1e-15)
    assert moments.std == np.std(values, ddof=1)
    assert moments.skewness == pytest.approx(stats.skew(values), rel=TOL)
    assert moments.kurtosis == pytest.approx(stats.kurtosis(values), rel=TOL)
    assert moments.skewtest_z == pytest.approx(stats.skewtest(values).statistic, rel=TOL)
    kurtosistest = stats.kurtosistest(values).statistic
    assert moments.kurtosistest_z == pytest.approx(kurtosistest, rel=TOL)
    normaltest = stats.normaltest(values)
    assert moments.normaltest_statistic == pytest.approx(normaltest.statistic, rel=TOL)
    assert moments.normaltest_pvalue == pytest.approx(normaltest.pvalue, rel=TOL, abs=1e-300)


def test_constant_or_too_few_values_have_no_shape():
    constant = Moments.of(np.full(50, 2.5))
    assert np.isnan(constant.skewness)
    assert np.isnan(constant.kurtosis)
    assert np.isnan(constant.normaltest_pvalue)
    with pytest.warns(RuntimeWarning, match="Precision loss"):
        assert np.isnan(stats.skew(np.full(50, 2.5)))  # as SciPy says
    few = Moments.of(np.array([1.0, 2.0, 4.0]))
    assert few.skewness == pytest.approx(stats.skew([1.0, 2.0, 4.0]), rel=TOL)
    assert np.isnan(few.kurtosis)
    assert np.isnan(few.skewtest_z)
    assert np.isnan(few.kurtosistest_z)


PROBABILITIES = np.r_[0, (np.arange(50) + 0.5) / 50, 0.05, 0.95, 0.123, 1]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_quantiles_are_numpys_to_the_bit(name):
    values = SAMPLES[name]
    assert (
        linear_quantiles(OrderStatistics(values), PROBABILITIES)
        == np.quantile(values, PROBABILITIES)
    ).all()


@pytest.mark.parametrize(
    "values",
    [
        np.array([4.0]),
        np.array([2.0, -1.0]),
        np.full(1000, 7.0),
        np.r_[RNG.normal(0, 1, 10_000), 1e12],  # one outlier: nearly all in one bin
        np.r_[np.zeros(5000), np.ones(5000)],
    ],
)
def test_order_statistics_in_both_ways_and_the_edge_cases(values):
    order = OrderStatistics(values)
    ranks = np.unique(np.r_[0, len(values) - 1, RNG.integers(0, len(values), 50)])
    assert (order.take(ranks) == np.sort(values)[ranks]).all()
    assert (linear_quantiles(order, PROBABILITIES) == np.quantile(values, PROBABILITIES)).all()


def bias_by_masks(frame, column, quantile=0.05):
    """The error bias with boolean masks and pandas, one group at a time."""
    kept = frame.dropna(subset=["y", "pred"])
    error = kept["pred"] - kept["y"]
    low, high = np.quantile(error, [quantile, 1 - quantile])
    masks = {"under": error <= low, "over": error >= high}
    masks["majority"] = ~(masks["under"] | masks["over"])
    feature = kept[column]
    if pd.api.types.is_numeric_dtype(feature):
        means = {g: feature[m].mean() if m.any() else np.nan for g, m in masks.items()}
        return means, None
    shares = {g: feature[m].value_counts(normalize=True) for g, m in masks.items()}
    tvd = {
        g: shares[g].sub(shares["majority"], fill_value=0).abs().sum() / 2
        if len(shares[g]) and len(shares["majority"])
        else np.nan
        for g in ("under", "over")
    }
    top = {
        g: [{"value": str(v), "share": float(s)} for v, s in list(share.items())[:10]]
        for g, share in shares.items()
    }
    return tvd, top


def bias_frame(n=3000, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.05] = np.nan
    # Few segments of equal size: ties in the counts, ordered by first appearance.
    segment = pd.Series(np.array(list("pqrstu"))[rng.integers(0, 6, n)], dtype="str")
    segment[rng.random(n) < 0.03] = None
    y = 10 + 3 * np.nan_to_num(x) + rng.normal(0, 1, n)
    pred = y + rng.normal(0, 1, n) + np.where(np.nan_to_num(x) > 1, 3, 0)
    frame = pd.DataFrame({"x": x, "segment": segment, "y": y, "pred": pred})
    frame.loc[::17, "y"] = np.nan  # rows left out
    return frame


def run_bias(frame, column, reference=None):
    report = Report(
        [RegressionErrorBias(column=column)],
        definition=DataDefinition(
            target="y", prediction="pred", numerical_columns=["x"], categorical_columns=["segment"]
        ),
    )
    return report.run(frame, reference).metric(RegressionErrorBias(column=column))


@pytest.mark.parametrize("seed", [3, 4])
def test_error_bias_by_shared_groups_matches_masks_with_missing_values(seed):
    frame, reference = bias_frame(seed=seed), bias_frame(seed=seed + 10)
    numeric = run_bias(frame, "x", reference)
    for side, data in (("current", frame), ("reference", reference)):
        means, _ = bias_by_masks(data, "x")
        for g in ("majority", "under", "over"):
            assert numeric.values[side][f"{g}_mean"] == pytest.approx(means[g], rel=TOL)
    categorical = run_bias(frame, "segment", reference)
    for side, data in (("current", frame), ("reference", reference)):
        tvd, top = bias_by_masks(data, "segment")
        for g in ("under", "over"):
            assert categorical.values[side][f"{g}_tvd"] == pytest.approx(tvd[g], rel=TOL)
        assert [row["value"] for rows in categorical.details[side].values() for row in rows] == [
            row["value"] for g in categorical.details[side] for row in top[g]
        ]
        for g, rows in categorical.details[side].items():
            assert [r["share"] for r in rows] == pytest.approx([r["share"] for r in top[g]])


def test_ties_in_the_category_counts_keep_pandas_order():
    # Under- and overestimated groups of equal-count categories, seen in different orders.
    n = 400
    error = np.r_[np.full(20, -5.0), np.zeros(n - 40), np.full(20, 5.0)]
    # "y" is seen before "z" in the whole column, "z" first among the overestimated rows.
    majority = list("yz") + list("cdcd" * 89) + list("dc")
    segment = np.r_[list("baba" * 5), majority, list("zyzy" * 5)]
    frame = pd.DataFrame({"y": np.zeros(n), "pred": error, "x": 0.0, "segment": segment})
    _, top = bias_by_masks(frame, "segment")
    details = run_bias(frame, "segment").details["current"]
    assert details == top
    assert [row["value"] for row in details["over"]] == ["z", "y"]


def test_groups_that_overlap_when_both_quantiles_are_equal():
    # Nearly every error is the same: both quantiles equal it, a row can be under and over.
    n = 200
    error = np.r_[np.zeros(n - 4), [-1.0, -2.0, 3.0, 4.0]]
    x = np.arange(n, dtype=float)
    frame = pd.DataFrame({"y": np.zeros(n), "pred": error, "x": x, "segment": "a"})
    means, _ = bias_by_masks(frame, "x")
    values = run_bias(frame, "x").values["current"]
    assert np.isnan(means["majority"])
    assert np.isnan(values["majority_mean"])
    assert values["under_mean"] == pytest.approx(means["under"], rel=TOL)
    assert values["over_mean"] == pytest.approx(means["over"], rel=TOL)


def test_the_preset_computes_each_side_once_and_gives_the_metrics_values():
    frame, reference = bias_frame(seed=5), bias_frame(seed=6)
    definition = DataDefinition(
        target="y", prediction="pred", numerical_columns=["x"], categorical_columns=["segment"]
    )
    run = Report([RegressionPreset()], definition=definition).run(frame, reference)
    kept = frame.dropna(subset=["y", "pred"])
    error = (kept["pred"] - kept["y"]).to_numpy()
    normality = run.metric("RegressionErrorNormality()")
    assert normality.values["current"]["p_value"] == pytest.approx(
        stats.normaltest(error).pvalue, rel=TOL
    )
    standardised = (error - error.mean()) / error.std(ddof=1)
    observed = np.quantile(standardised, (np.arange(50) + 0.5) / 50)
    assert normality.details["current"]["observed"] == pytest.approx(observed, rel=TOL, abs=1e-12)
    distribution = run.metric("RegressionErrorDistribution(bins=30)")
    assert distribution.values["current"]["kurtosis"] == pytest.approx(
        stats.kurtosis(error), rel=TOL
    )
    histogram = distribution.distribution
    assert histogram is not None
    assert histogram.current == np.histogram(error, np.asarray(histogram.edges))[0].tolist()
