"""Regression quality against scikit-learn and SciPy, with its baselines and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as sk
from sklearn.dummy import DummyRegressor

from metrics import DataDefinition, Report
from metrics.computations.regression import (
    RegressionErrorBias,
    RegressionErrorDistribution,
    RegressionErrorNormality,
    RegressionQuality,
)

TOL = 1e-9
DEFINITION = DataDefinition(target="y", prediction="pred")


def run(metric, frame, definition=DEFINITION, reference=None):
    return Report([metric], definition=definition).run(frame, reference).metric(metric)


def frame_for(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    segment = rng.choice(["a", "b", "c"], n)
    y = 50 + 10 * x + rng.normal(0, 3, n)
    pred = y + rng.normal(0.5, 2, n) + np.where(x > 1.5, 8, 0)  # overestimates the high range of x
    return pd.DataFrame({"x": x, "segment": segment, "y": y, "pred": pred})


@pytest.mark.parametrize("seed", [0, 1])
def test_quality_matches_scikit_learn(seed):
    frame = frame_for(seed=seed)
    values = run(RegressionQuality(), frame).values["current"]
    y, pred = frame["y"], frame["pred"]
    error = pred - y
    assert values["mean_error"] == pytest.approx(error.mean(), rel=TOL)
    assert values["mean_error_std"] == pytest.approx(error.std(ddof=1), rel=TOL)
    assert values["mae"] == pytest.approx(sk.mean_absolute_error(y, pred), rel=TOL)
    assert values["mae_std"] == pytest.approx(error.abs().std(ddof=1), rel=TOL)
    assert values["mape"] == pytest.approx(
        100 * sk.mean_absolute_percentage_error(y, pred), rel=TOL
    )
    assert values["rmse"] == pytest.approx(sk.root_mean_squared_error(y, pred), rel=TOL)
    assert values["r2"] == pytest.approx(sk.r2_score(y, pred), rel=TOL)
    assert values["max_abs_error"] == pytest.approx(sk.max_error(y, pred), rel=TOL)


def test_the_dummy_baselines_match_scikit_learns_dummy_regressors():
    frame = frame_for()
    dummy = run(RegressionQuality(), frame).values["current"]["dummy"]
    y = frame["y"]
    by_mean = DummyRegressor(strategy="mean").fit(frame[["x"]], y).predict(frame[["x"]])
    by_median = DummyRegressor(strategy="median").fit(frame[["x"]], y).predict(frame[["x"]])
    assert dummy["rmse"] == pytest.approx(sk.root_mean_squared_error(y, by_mean), rel=TOL)
    assert dummy["r2"] == pytest.approx(sk.r2_score(y, by_mean), abs=1e-12)
    assert dummy["mae"] == pytest.approx(sk.mean_absolute_error(y, by_median), rel=TOL)
    assert dummy["mape"] == pytest.approx(
        100 * sk.mean_absolute_percentage_error(y, by_median), rel=TOL
    )


def test_mape_leaves_out_zero_targets_and_says_how_many():
    frame = pd.DataFrame({"y": [0.0, 2.0, 4.0, 0.0], "pred": [1.0, 3.0, 2.0, 0.5]})
    values = run(RegressionQuality(), frame).values["current"]
    assert values["mape"] == pytest.approx(100 * np.mean([1 / 2, 2 / 4]), rel=TOL)
    assert values["mape_excluded_rows"] == 2


@pytest.mark.parametrize("seed", [0, 1])
def test_mape_with_eps_is_scikit_learns_with_its_zero_targets(seed):
    frame = frame_for(n=500, seed=seed)
    frame.loc[::50, "y"] = 0.0  # ten zero targets, each with a nonzero error
    y, pred = frame["y"], frame["pred"]
    values = run(RegressionQuality(zero_handling="eps"), frame).values["current"]
    expected = 100 * sk.mean_absolute_percentage_error(y, pred)
    assert expected > 1e15  # a zero target over eps: the point of "eps"
    assert values["mape"] == pytest.approx(expected, rel=TOL)
    assert values["mape_excluded_rows"] == 0
    assert values["dummy"]["mape"] == pytest.approx(
        100 * sk.mean_absolute_percentage_error(y, np.full(len(y), np.median(y))), rel=TOL
    )
    # The default leaves those ten rows out, and matches scikit-learn on the rest.
    skipped = run(RegressionQuality(), frame).values["current"]
    kept = y != 0
    assert skipped["mape_excluded_rows"] == 10
    assert skipped["mape"] == pytest.approx(
        100 * sk.mean_absolute_percentage_error(y[kept], pred[kept]), rel=TOL
    )


def test_mape_with_error_names_the_target_column_when_one_is_zero():
    frame = pd.DataFrame({"y": [0.0, 2.0, 4.0, 0.0], "pred": [1.0, 3.0, 2.0, 0.5]})
    result = run(RegressionQuality(zero_handling="error"), frame)
    assert result.status == "error"
    assert "'y' is 0 in 2 current rows" in result.reason
    fine = run(RegressionQuality(zero_handling="error"), frame[frame["y"] != 0])
    assert fine.status == "ok"
    assert fine.values["current"]["mape"] == pytest.approx(100 * np.mean([1 / 2, 2 / 4]), rel=TOL)


def test_zero_handling_is_checked_and_the_default_keeps_the_metric_id():
    with pytest.raises(ValueError, match="zero_handling must be one of"):
        RegressionQuality(zero_handling="ignore")
    assert RegressionQuality(zero_handling="skip").id == RegressionQuality().id
    assert RegressionQuality(zero_handling="eps").id != RegressionQuality().id


def test_error_distribution_and_normality():
    frame = frame_for()
    error = frame["pred"] - frame["y"]
    distribution = run(RegressionErrorDistribution(bins=20), frame)
    assert (
        distribution.distribution.current
        == np.histogram(error, np.asarray(distribution.distribution.edges))[0].tolist()
    )
    assert distribution.values["current"]["skewness"] == pytest.approx(stats.skew(error), rel=TOL)
    normality = run(RegressionErrorNormality(), frame)
    assert normality.values["current"]["p_value"] == pytest.approx(
        stats.normaltest(error).pvalue, rel=TOL
    )
    assert len(normality.details["current"]["observed"]) == 50


def test_error_bias_finds_the_range_of_the_feature_where_the_model_errs():
    frame = frame_for()
    numeric = run(RegressionErrorBias(column="x"), frame).values["current"]
    error = frame["pred"] - frame["y"]
    over = error >= error.quantile(0.95)
    under = error <= error.quantile(0.05)
    majority = ~(over | under)
    assert numeric["over_mean"] == pytest.approx(frame.loc[over, "x"].mean(), rel=TOL)
    assert numeric["majority_mean"] == pytest.approx(frame.loc[majority, "x"].mean(), rel=TOL)
    assert numeric["over_delta"] > 1  # the overestimated rows have much larger x
    categorical = run(RegressionErrorBias(column="segment"), frame).values["current"]
    shares = {
        g: frame.loc[m, "segment"].value_counts(normalize=True)
        for g, m in (("over", over), ("majority", majority))
    }
    expected = shares["over"].sub(shares["majority"], fill_value=0).abs().sum() / 2
    assert categorical["over_tvd"] == pytest.approx(expected, rel=TOL)


def test_rows_without_target_or_prediction_are_left_out():
    frame = frame_for(n=200)
    frame.loc[::5, "y"] = np.nan
    frame.loc[1::7, "pred"] = np.nan
    values = run(RegressionQuality(), frame).values["current"]
    kept = frame.dropna()
    assert values["rows"] == len(kept)
    assert values["mae"] == pytest.approx(sk.mean_absolute_error(kept["y"], kept["pred"]), rel=TOL)


def test_no_labels_is_a_skip():
    frame = frame_for(n=100)
    frame["y"] = np.nan
    assert "No labels yet" in run(RegressionQuality(), frame).reason
    skipped = run(RegressionQuality(), frame.drop(columns="y"), DataDefinition(prediction="pred"))
    assert skipped.status == "skipped"


def test_a_constant_target_has_no_r2_not_a_crash():
    frame = pd.DataFrame({"y": [3.0] * 10, "pred": np.linspace(2, 4, 10)})
    result = run(RegressionQuality(), frame)
    assert result.status == "ok"
    assert np.isnan(result.values["current"]["r2"])
