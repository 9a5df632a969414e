"""Regression quality: errors of predicted values against true ones.

The error of a row is `prediction - target`: positive when the model overestimates. Rows with a
null target (labels not arrived yet) or a null prediction are left out; with no labels at all the
metrics are skipped, saying so.

Every quality metric also reports a `dummy` baseline under each side: a constant prediction, the
target's mean for the squared-error metrics (mean error, RMSE, R², which is then 0) and its median
for the absolute ones (MAE, MAPE, max absolute error), the best constants for each; a model should
beat it.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from scipy import stats

from metrics.core.base import (
    Context,
    Distribution,
    Metric,
    MetricError,
    MetricResult,
    MissingLabels,
)
from metrics.core.definition import ColumnType


def pairs(ctx: Context, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target, prediction, mask of the frame's rows kept) for rows with both values finite."""
    schema = ctx.schema
    target, prediction = schema.role("target"), schema.role("prediction")
    if prediction is None:
        raise MetricError(
            "Regression needs predictions: declare `prediction=` in the data definition."
        )
    if target is None:
        raise MissingLabels(
            "No labels: the data definition has no `target`. Quality metrics are skipped until "
            "the true values are declared."
        )
    frame = ctx.current if side == "current" else ctx.reference
    assert frame is not None
    for column in (target, prediction):
        if not pd.api.types.is_numeric_dtype(frame[column].dtype):
            raise MetricError(f"Regression needs numbers; {column!r} holds {frame[column].dtype}.")
    y = frame[target].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(y).all():
        raise MissingLabels(f"No labels yet: every value of the target column {target!r} is empty.")
    p = frame[prediction].to_numpy(dtype=np.float64, na_value=np.nan)
    keep = np.isfinite(y) & np.isfinite(p)
    if not keep.any():
        raise MetricError("No row has both a finite target and a finite prediction.")
    return y[keep], p[keep], keep


def _sides(ctx: Context) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    def prepared(side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return ctx.memo(("regression", side), lambda: pairs(ctx, side))

    sides = {"current": prepared("current")}
    if ctx.reference is not None:
        with contextlib.suppress(MissingLabels):
            sides["reference"] = prepared("reference")
    return sides


def quality(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    error = p - y
    absolute = np.abs(error)
    nonzero = y != 0
    percentage = 100 * absolute[nonzero] / np.abs(y[nonzero])
    total = np.sum((y - y.mean()) ** 2)
    return {
        "rows": len(y),
        "mean_error": float(error.mean()),
        "mean_error_std": float(error.std(ddof=1)) if len(y) > 1 else float("nan"),
        "mae": float(absolute.mean()),
        "mae_std": float(absolute.std(ddof=1)) if len(y) > 1 else float("nan"),
        "mape": float(percentage.mean()) if len(percentage) else float("nan"),
        "mape_std": float(percentage.std(ddof=1)) if len(percentage) > 1 else float("nan"),
        "mape_excluded_rows": int((~nonzero).sum()),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "r2": float(1 - np.sum(error**2) / total) if total > 0 else float("nan"),
        "max_abs_error": float(absolute.max()),
    }


def dummy_quality(y: np.ndarray) -> dict[str, float]:
    by_mean = quality(y, np.full_like(y, y.mean()))
    by_median = quality(y, np.full_like(y, np.median(y)))
    values = {k: by_mean[k] for k in ("rows", "mean_error", "mean_error_std", "rmse", "r2")}
    for key in ("mae", "mae_std", "mape", "mape_std", "mape_excluded_rows", "max_abs_error"):
        values[key] = by_median[key]
    return values


class RegressionQuality(Metric):
    """Mean error (and its std), MAE (and std), MAPE in percent (and std; rows with a zero target
    left out and counted), RMSE, R² and the maximum absolute error, with the `dummy` baseline.
    Lower is better, except R² (higher) and mean error (closer to 0)."""

    def compute(self, ctx: Context) -> MetricResult:
        values = {}
        for side, (y, p, _) in _sides(ctx).items():
            values[side] = {**quality(y, p), "dummy": dummy_quality(y)}
        return self.result(values)


class RegressionErrorDistribution(Metric):
    """Histogram of the errors (prediction - target), current against reference on the same
    bins, with their mean, std, skewness and excess kurtosis."""

    def __init__(self, *, bins: int = 30) -> None:
        if not 2 <= bins <= 100:
            raise ValueError(f"bins must be between 2 and 100, not {bins}.")
        super().__init__(bins=bins)

    def compute(self, ctx: Context) -> MetricResult:
        errors = {side: p - y for side, (y, p, _) in _sides(ctx).items()}
        low = min(e.min() for e in errors.values())
        high = max(e.max() for e in errors.values())
        edges = (
            np.linspace(low, high, self.params["bins"] + 1)
            if high > low
            else np.array([low - 0.5, high + 0.5])
        )
        counts = {side: np.histogram(e, edges)[0].tolist() for side, e in errors.items()}
        values = {
            side: {
                "mean": float(e.mean()),
                "std": float(e.std(ddof=1)) if len(e) > 1 else float("nan"),
                "skewness": float(stats.skew(e)) if len(e) > 2 else float("nan"),
                "kurtosis": float(stats.kurtosis(e)) if len(e) > 3 else float("nan"),
            }
            for side, e in errors.items()
        }
        return self.result(
            values,
            distribution=Distribution(
                kind="histogram",
                current=counts["current"],
                reference=counts.get("reference"),
                edges=edges.tolist(),
            ),
        )


class RegressionErrorNormality(Metric):
    """Are the errors normally distributed? D'Agostino-Pearson's test (`p_value`: low means not
    normal; needs 20 errors), and a Q-Q plot in details: 50 quantiles of the standardised errors
    against the normal distribution's."""

    QUANTILES = 50

    def compute(self, ctx: Context) -> MetricResult:
        values, details = {}, {}
        probabilities = (np.arange(self.QUANTILES) + 0.5) / self.QUANTILES
        for side, (y, p, _) in _sides(ctx).items():
            error = p - y
            spread = error.std(ddof=1) if len(error) > 1 else 0.0
            values[side] = {
                "p_value": float(stats.normaltest(error).pvalue)
                if len(error) >= 20 and spread > 0
                else float("nan"),
                "skewness": float(stats.skew(error)) if len(error) > 2 else float("nan"),
                "kurtosis": float(stats.kurtosis(error)) if len(error) > 3 else float("nan"),
            }
            standardised = (error - error.mean()) / spread if spread > 0 else error * 0
            details[side] = {
                "theoretical": stats.norm.ppf(probabilities).tolist(),
                "observed": np.quantile(standardised, probabilities).tolist(),
            }
        return self.result(values, details)


class RegressionErrorBias(Metric):
    """How errors relate to one feature: rows are split into underestimated (error at or below
    its 5th percentile), overestimated (at or above the 95th) and the majority between, and the
    feature is compared across the groups.

    Numerical feature: `majority_mean`, `under_mean`, `over_mean`, and `under_delta`/`over_delta`,
    the group mean's distance from the majority's in the feature's standard deviations (large: the
    model errs on one range of the feature). Categorical feature: `under_tvd`/`over_tvd`, the total
    variation distance between the group's category shares and the majority's (0 = same mix), with
    the top categories per group in details.
    """

    column_param = "column"

    def __init__(self, *, column: str, quantile: float = 0.05) -> None:
        if not 0 < quantile < 0.5:
            raise ValueError(f"quantile must be between 0 and 0.5, not {quantile}.")
        super().__init__(column=column, quantile=quantile)

    def compute(self, ctx: Context) -> MetricResult:
        column = self.params["column"]
        column_type = ctx.schema.type_of(column)
        if column_type not in (ColumnType.NUMERICAL, ColumnType.CATEGORICAL):
            raise MetricError(
                f"Error bias compares numerical or categorical features; {column!r} is {column_type}."
            )
        values, details = {}, {}
        q = self.params["quantile"]
        for side, (y, p, keep) in _sides(ctx).items():
            frame = ctx.current if side == "current" else ctx.reference
            assert frame is not None
            feature = frame[column].to_numpy()[keep]
            error = p - y
            low, high = np.quantile(error, [q, 1 - q])
            groups = {"under": error <= low, "over": error >= high}
            groups["majority"] = ~(groups["under"] | groups["over"])
            if column_type == ColumnType.NUMERICAL:
                numbers = feature.astype(np.float64)
                spread = np.nanstd(numbers)
                means = {
                    g: float(np.nanmean(numbers[m])) if m.any() else float("nan")
                    for g, m in groups.items()
                }
                values[side] = {
                    "majority_mean": means["majority"],
                    "under_mean": means["under"],
                    "over_mean": means["over"],
                    "under_delta": (means["under"] - means["majority"]) / spread
                    if spread > 0
                    else float("nan"),
                    "over_delta": (means["over"] - means["majority"]) / spread
                    if spread > 0
                    else float("nan"),
                }
            else:
                shares = {
                    g: pd.Series(feature[m]).value_counts(normalize=True) for g, m in groups.items()
                }
                majority = shares["majority"]
                values[side] = {
                    f"{g}_tvd": float(shares[g].sub(majority, fill_value=0).abs().sum() / 2)
                    if len(shares[g]) and len(majority)
                    else float("nan")
                    for g in ("under", "over")
                }
                details[side] = {
                    g: [{"value": str(v), "share": float(s)} for v, s in list(share.items())[:10]]
                    for g, share in shares.items()
                }
        return self.result(values, details)


def features_for_bias(ctx: Context, limit: int = 20) -> list[str]:
    """Numerical and categorical features (not the target or prediction), for the preset."""
    roles = ctx.schema.roles
    return [
        c
        for c in ctx.schema.columns(ColumnType.NUMERICAL, ColumnType.CATEGORICAL)
        if roles.get(c) not in ("target", "prediction", "prediction_probas")
    ][:limit]
