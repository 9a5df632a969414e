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
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial

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


@dataclass
class Errors:
    """One side's rows with both values, and what the regression metrics of a run share of them:
    the errors (prediction - target), their moments and their order statistics, each computed
    once, on first use."""

    y: np.ndarray
    p: np.ndarray
    keep: np.ndarray  # mask of the frame's rows kept
    _groups: dict[float, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def rows(self) -> int:
        return len(self.y)

    @cached_property
    def all_kept(self) -> bool:
        return bool(self.keep.all())

    def feature(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        """The column's values on the kept rows."""
        values = frame[column].to_numpy()
        return values if self.all_kept else values[self.keep]

    @cached_property
    def error(self) -> np.ndarray:
        return self.p - self.y

    @cached_property
    def moments(self) -> Moments:
        return Moments.of(self.error)

    @cached_property
    def order(self) -> OrderStatistics:
        return OrderStatistics(self.error)

    def quantiles(self, probabilities: np.ndarray) -> np.ndarray:
        """The errors' quantiles, as `np.quantile` (its default, linear method) gives them."""
        return linear_quantiles(self.order, probabilities)

    def groups(self, q: float) -> np.ndarray:
        """Per row, 1 if its error is at or below the q quantile (underestimated), 2 if at or
        above the 1 - q quantile (overestimated), 3 if both (only when the two are equal), 0 for
        the majority between."""
        if q not in self._groups:
            low, high = self.quantiles(np.array([q, 1 - q]))
            # As np.intp, the type np.bincount counts in: no conversion per feature.
            codes = (self.error <= low).astype(np.intp)
            codes += 2 * (self.error >= high).view(np.int8)
            self._groups[q] = codes
        return self._groups[q]


@dataclass(frozen=True)
class Moments:
    """Mean, standard deviation (ddof=1) and the central moments m2, m3, m4 (biased, as SciPy's
    `skew` and `kurtosis` use them) of one array, from one pass over its deviations."""

    n: int
    mean: float
    std: float
    m2: float
    m3: float
    m4: float

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        n = len(values)
        mean = values.mean()
        deviation = values - mean
        square = deviation * deviation
        total = square.sum()
        return cls(
            n=n,
            mean=float(mean),
            std=float(np.sqrt(total / (n - 1))) if n > 1 else float("nan"),
            m2=float(total / n),
            m3=float(np.mean(square * deviation)),
            m4=float(np.mean(square * square)),
        )

    @property
    def _constant(self) -> bool:
        # SciPy's test for data too close to constant to have a shape.
        return bool(self.m2 <= (np.finfo(np.float64).eps * self.mean) ** 2)

    @property
    def skewness(self) -> float:
        """As `scipy.stats.skew` (biased)."""
        if self.n < 3 or self._constant:
            return float("nan")
        return self.m3 / self.m2**1.5

    @property
    def kurtosis(self) -> float:
        """Excess kurtosis, as `scipy.stats.kurtosis` (Fisher, biased)."""
        if self.n < 4 or self._constant:
            return float("nan")
        return self.m4 / self.m2**2.0 - 3

    @property
    def skewtest_z(self) -> float:
        """D'Agostino's skewness test's z-score, as `scipy.stats.skewtest` (needs 8 values): the
        skewness transformed to be about standard normal under normality."""
        n = float(self.n)
        if n < 8 or self._constant:
            return float("nan")
        y = self.skewness * math.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
        beta2 = (
            3.0
            * (n**2 + 27 * n - 70)
            * (n + 1)
            * (n + 3)
            / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9))
        )
        w2 = -1 + math.sqrt(2 * (beta2 - 1))
        delta = 1 / math.sqrt(0.5 * math.log(w2))
        alpha = math.sqrt(2.0 / (w2 - 1))
        y = 1.0 if y == 0 else y
        return delta * math.log(y / alpha + math.sqrt((y / alpha) ** 2 + 1))

    @property
    def kurtosistest_z(self) -> float:
        """Anscombe and Glynn's kurtosis test's z-score, as `scipy.stats.kurtosistest` (needs 5
        values), from the Pearson kurtosis."""
        n = float(self.n)
        if n < 5 or self._constant:
            return float("nan")
        b2 = self.m4 / self.m2**2.0
        expected = 3.0 * (n - 1) / (n + 1)
        variance = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) * (n + 1.0) * (n + 3) * (n + 5))
        x = (b2 - expected) / variance**0.5
        root_beta1 = (
            6.0
            * (n * n - 5 * n + 2)
            / ((n + 7) * (n + 9))
            * ((6.0 * (n + 3) * (n + 5)) / (n * (n - 2) * (n - 3))) ** 0.5
        )
        a = 6.0 + 8.0 / root_beta1 * (2.0 / root_beta1 + (1 + 4.0 / root_beta1**2) ** 0.5)
        denominator = 1 + x * (2 / (a - 4.0)) ** 0.5
        if denominator == 0:
            return float("nan")
        term = math.copysign(((1 - 2.0 / a) / abs(denominator)) ** (1 / 3), denominator)
        return (1 - 2 / (9.0 * a) - term) / (2 / (9.0 * a)) ** 0.5

    @property
    def normaltest_statistic(self) -> float:
        """D'Agostino and Pearson's statistic, as `scipy.stats.normaltest`: the squares of the
        two tests' z-scores summed, from the moments already known instead of new passes."""
        return self.skewtest_z**2 + self.kurtosistest_z**2

    @property
    def normaltest_pvalue(self) -> float:
        """Its p-value against a chi-square with 2 degrees of freedom (low: not normal)."""
        return float(stats.chi2.sf(self.normaltest_statistic, 2))


class OrderStatistics:
    """The k-th smallest values of an array, for any k, without sorting it: the values are
    counted into fine bins of their range once; a request sorts only the bins holding the ranks
    asked for (a partition of the whole array when those hold more than a quarter of it)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        n = len(values)
        self.bins = min(4096, max(1, n // 256))
        low, high = values.min(), values.max()
        with np.errstate(all="ignore"):
            scale = self.bins / (high - low)
        if high > low and np.isfinite(scale) and scale > 0:
            # Rounding keeps this monotonic: a larger value never lands in a lower bin.
            index = ((values - low) * scale).astype(np.intp)
            np.minimum(index, self.bins - 1, out=index)
        else:
            self.bins = 1
            index = np.zeros(n, dtype=np.intp)
        self.index = index
        self.counts = np.bincount(index, minlength=self.bins)
        self.ends = np.cumsum(self.counts)

    def take(self, ranks: np.ndarray) -> np.ndarray:
        """The values at these 0-based ranks of the sorted array."""
        ranks = np.asarray(ranks, dtype=np.intp)
        where = np.searchsorted(self.ends, ranks, side="right")
        needed = np.unique(where)
        if self.counts[needed].sum() > len(self.values) // 4:
            return np.partition(self.values, np.unique(ranks))[ranks]
        wanted = np.zeros(self.bins, dtype=bool)
        wanted[needed] = True
        chosen = np.sort(self.values[wanted[self.index]])
        offsets = np.zeros(self.bins, dtype=np.intp)
        offsets[needed] = np.cumsum(self.counts[needed]) - self.counts[needed]
        starts = self.ends - self.counts
        return chosen[ranks - starts[where] + offsets[where]]


def linear_quantiles(order: OrderStatistics, probabilities: np.ndarray) -> np.ndarray:
    """Quantiles by linear interpolation between order statistics, with `np.quantile`'s own
    arithmetic (its default method), so the values are the same to the bit."""
    n = len(order.values)
    virtual = (n - 1) * np.asarray(probabilities, dtype=np.float64)
    previous = np.clip(np.floor(virtual), 0, n - 1)
    following = np.minimum(previous + 1, n - 1)
    gamma = virtual - previous
    ranks = np.concatenate([previous, following]).astype(np.intp)
    values = order.take(ranks)
    a, b = values[: len(virtual)], values[len(virtual) :]
    difference = b - a
    result = a + difference * gamma
    np.subtract(b, difference * (1 - gamma), out=result, where=gamma >= 0.5)
    return result


def _sides(ctx: Context) -> dict[str, Errors]:
    def prepared(side: str) -> Errors:
        return ctx.memo(("regression", side), lambda: Errors(*pairs(ctx, side)))

    sides = {"current": prepared("current")}
    if ctx.reference is not None:
        with contextlib.suppress(MissingLabels):
            sides["reference"] = prepared("reference")
    return sides


ZERO_HANDLING = ("skip", "eps", "error")
"""How MAPE treats a row whose target is 0, where |error| / |y| has no value: "skip" leaves the
row out (counted in `mape_excluded_rows`), "eps" divides by max(|y|, MAPE_EPS) as scikit-learn's
`mean_absolute_percentage_error` does, "error" refuses to compute."""
MAPE_EPS = float(np.finfo(np.float64).eps)
"""The divisor's floor with zero_handling="eps": float64's machine epsilon, 2.220446049250313e-16,
scikit-learn's choice. A zero target with any error then gives a huge percentage, as it should."""


def quality(y: np.ndarray, p: np.ndarray, zero_handling: str = "skip") -> dict[str, float]:
    error = p - y
    absolute = np.abs(error)
    if zero_handling == "eps":
        nonzero = np.ones(len(y), dtype=bool)
        percentage = 100 * absolute / np.maximum(np.abs(y), MAPE_EPS)
    else:
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


def dummy_quality(y: np.ndarray, zero_handling: str = "skip") -> dict[str, float]:
    # The mean's squared-error metrics are the ones `quality` gives for a constant prediction,
    # written out so that its other metrics are not computed for nothing. Their R² is 0: the
    # squared errors are the squared deviations from the mean, the very sum R² divides by.
    error = y.mean() - y
    squares = error * error
    values: dict[str, float] = {
        "rows": len(y),
        "mean_error": float(error.mean()),
        "mean_error_std": float(error.std(ddof=1)) if len(y) > 1 else float("nan"),
        "rmse": float(np.sqrt(np.mean(squares))),
        "r2": 0.0 if np.sum(squares) > 0 else float("nan"),
    }
    by_median = quality(y, np.full_like(y, np.median(y)), zero_handling)
    for key in ("mae", "mae_std", "mape", "mape_std", "mape_excluded_rows", "max_abs_error"):
        values[key] = by_median[key]
    return values


class RegressionQuality(Metric):
    """Mean error (and its std), MAE (and std), MAPE in percent (and std), RMSE, R² and the
    maximum absolute error, with the `dummy` baseline. Lower is better, except R² (higher) and
    mean error (closer to 0).

    `zero_handling` says what MAPE does with a zero target (see `ZERO_HANDLING`): "skip" (the
    default) leaves those rows out and counts them in `mape_excluded_rows`; "eps" divides by
    max(|y|, MAPE_EPS), as scikit-learn does; "error" makes the metric an error naming the target
    column when one exists.
    """

    def __init__(self, *, zero_handling: str = "skip") -> None:
        if zero_handling not in ZERO_HANDLING:
            raise ValueError(
                f"zero_handling must be one of {', '.join(map(repr, ZERO_HANDLING))}, "
                f"not {zero_handling!r}."
            )
        # The default stays out of the parameters: the metric's id is the one it always had.
        super().__init__(zero_handling=None if zero_handling == "skip" else zero_handling)

    def compute(self, ctx: Context) -> MetricResult:
        zero_handling = self.params.get("zero_handling", "skip")
        values = {}
        for side, data in _sides(ctx).items():
            if zero_handling == "error":
                zeros = int(np.count_nonzero(data.y == 0))
                if zeros:
                    raise MetricError(
                        f"MAPE divides by the target; {ctx.schema.role('target')!r} is 0 in "
                        f"{zeros} {side} row{'s' if zeros != 1 else ''}. Choose "
                        'zero_handling="skip" (leave them out) or "eps".'
                    )
            values[side] = {
                **quality(data.y, data.p, zero_handling),
                "dummy": dummy_quality(data.y, zero_handling),
            }
        return self.result(values)


class RegressionErrorDistribution(Metric):
    """Histogram of the errors (prediction - target), current against reference on the same
    bins, with their mean, std, skewness and excess kurtosis."""

    def __init__(self, *, bins: int = 30) -> None:
        if not 2 <= bins <= 100:
            raise ValueError(f"bins must be between 2 and 100, not {bins}.")
        super().__init__(bins=bins)

    def compute(self, ctx: Context) -> MetricResult:
        sides = _sides(ctx)
        low = min(data.error.min() for data in sides.values())
        high = max(data.error.max() for data in sides.values())
        edges = (
            np.linspace(low, high, self.params["bins"] + 1)
            if high > low
            else np.array([low - 0.5, high + 0.5])
        )
        # Equal bins given as a count and a range: NumPy computes each value's bin instead of
        # sorting the values, with the same edges (this linspace) and the same counts.
        counts = {
            side: np.histogram(data.error, len(edges) - 1, (edges[0], edges[-1]))[0].tolist()
            for side, data in sides.items()
        }
        values = {
            side: {
                "mean": data.moments.mean,
                "std": data.moments.std,
                "skewness": data.moments.skewness,
                "kurtosis": data.moments.kurtosis,
            }
            for side, data in sides.items()
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
        for side, data in _sides(ctx).items():
            moments = data.moments
            spread = moments.std if data.rows > 1 else 0.0
            values[side] = {
                "p_value": moments.normaltest_pvalue
                if data.rows >= 20 and spread > 0
                else float("nan"),
                "skewness": moments.skewness,
                "kurtosis": moments.kurtosis,
            }
            # Standardising is monotonic: the quantiles of the standardised errors are the
            # standardised quantiles of the errors.
            observed = (
                (data.quantiles(probabilities) - moments.mean) / spread
                if spread > 0
                else np.zeros(self.QUANTILES)
            )
            details[side] = {
                "theoretical": stats.norm.ppf(probabilities).tolist(),
                "observed": observed.tolist(),
            }
        return self.result(values, details)


GROUPS = ("majority", "under", "over")


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
        for side, data in _sides(ctx).items():
            frame = ctx.current if side == "current" else ctx.reference
            assert frame is not None
            # The groups are the same for every feature: computed once per side and quantile.
            codes = data.groups(self.params["quantile"])
            if column_type == ColumnType.NUMERICAL:
                values[side] = _numerical_bias(data.feature(frame, column), codes)
            else:
                values[side], details[side] = _categorical_bias(data, frame[column], codes)
        return self.result(values, details)


def _by_group(table: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of a per-code table (0 majority, 1 under, 2 over, 3 both) summed into the groups."""
    return {"majority": table[0], "under": table[1] + table[3], "over": table[2] + table[3]}


def _numerical_bias(feature: np.ndarray, codes: np.ndarray) -> dict[str, float]:
    numbers = np.asarray(feature, dtype=np.float64)
    missing = np.isnan(numbers)
    if missing.any():
        present = ~missing
        spread = numbers[present].std() if present.any() else float("nan")
        sums = np.bincount(codes, weights=np.where(missing, 0.0, numbers), minlength=4)
        counts = np.bincount(codes, weights=present, minlength=4)
    else:
        spread = numbers.std()
        sums = np.bincount(codes, weights=numbers, minlength=4)
        counts = np.bincount(codes, minlength=4)
    total, count = _by_group(sums), _by_group(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {g: float(total[g] / count[g]) for g in GROUPS}
    return {
        "majority_mean": means["majority"],
        "under_mean": means["under"],
        "over_mean": means["over"],
        "under_delta": (means["under"] - means["majority"]) / spread
        if spread > 0
        else float("nan"),
        "over_delta": (means["over"] - means["majority"]) / spread if spread > 0 else float("nan"),
    }


def _categorical_bias(
    data: Errors, column: pd.Series, codes: np.ndarray
) -> tuple[dict[str, float], dict[str, list[dict[str, object]]]]:
    categories, uniques = pd.factorize(column)  # -1 for a missing value
    if not data.all_kept:
        categories = categories[data.keep]
    k = max(len(uniques), 1)
    joint = codes * k + categories
    present = categories >= 0
    if not present.all():
        joint = joint[present]
    counts = _by_group(np.bincount(joint, minlength=4 * k).reshape(4, k))
    sizes = {g: counts[g].sum() for g in GROUPS}
    shares = {g: counts[g] / sizes[g] if sizes[g] else counts[g] * 0.0 for g in GROUPS}
    values = {
        f"{g}_tvd": float(np.abs(shares[g] - shares["majority"]).sum() / 2)
        if sizes[g] and sizes["majority"]
        else float("nan")
        for g in ("under", "over")
    }
    details = {}
    for g in GROUPS:
        top = _most_common(counts[g], partial(_first_seen, categories, codes, g, k))[:10]
        details[g] = [{"value": str(uniques[i]), "share": float(shares[g][i])} for i in top]
    return values, details


def _most_common(counts: np.ndarray, first_seen: Callable[[], np.ndarray]) -> np.ndarray:
    """Indices of the categories present, most common first; ties in the order the categories
    first appear in the group, as pandas' `value_counts` orders them."""
    seen = np.flatnonzero(counts)
    if len(np.unique(counts[seen])) == len(seen):
        return seen[np.argsort(-counts[seen])]
    first = first_seen()[seen]
    return seen[np.lexsort((first, -counts[seen]))]


def _first_seen(categories: np.ndarray, codes: np.ndarray, group: str, k: int) -> np.ndarray:
    """Per category, the position of its first row in the group (len(rows) if none)."""
    member = {"majority": codes == 0, "under": codes % 2 == 1, "over": codes >= 2}[group]
    member &= categories >= 0
    first = np.full(k, len(categories), dtype=np.intp)
    np.minimum.at(first, categories[member], np.flatnonzero(member))
    return first


def features_for_bias(ctx: Context, limit: int = 20) -> list[str]:
    """Numerical and categorical features (not the target or prediction), for the preset."""
    roles = ctx.schema.roles
    return [
        c
        for c in ctx.schema.columns(ColumnType.NUMERICAL, ColumnType.CATEGORICAL)
        if roles.get(c) not in ("target", "prediction", "prediction_probas")
    ][:limit]
