"""Benchmark of the metrics library against the plain NumPy/SciPy floor (not a test).

For 10k, 100k and 1M rows x 25 columns (20 numerical, 5 categorical; drift injected in a third of
them), it times the data drift preset and the data summary preset, measures their peak memory, and
runs a plain NumPy/SciPy/pandas computation of the same statistics in the same process as the floor:

    .venv/bin/python benchmarks/bench_metrics.py            # 10k, 100k, 1M rows
    .venv/bin/python benchmarks/bench_metrics.py --rows 100000 --repeat 1
    .venv/bin/python benchmarks/bench_metrics.py --presets regression   # only some presets

Targets: time within 2x of the floor; peak memory under 3x the size of the input frames.
It then times the classification and regression presets at 100k and 1M rows against scikit-learn
computing the same metrics (target: faster) and against a tuned NumPy floor of the same values
(target: within 2x; the regression floor is checked against scikit-learn's values first).
Time is the best of --repeat runs; memory is tracemalloc's peak in a separate run (NumPy and pandas
report their buffers to tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from metrics import DataDriftPreset, DataSummaryPreset, Report

NUMERIC, CATEGORICAL = 20, 5
PRESETS = ("drift", "summary", "classification", "regression")
LABELS = np.array([f"segment_{i:02d}" for i in range(12)])


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(shifted: bool) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for i in range(NUMERIC):
            drift = 0.5 if shifted and i % 3 == 0 else 0.0
            values = rng.normal(drift, 1 + i / 10, rows)
            values[rng.random(rows) < 0.01] = np.nan
            columns[f"num_{i:02d}"] = values
        for i in range(CATEGORICAL):
            p = np.ones(len(LABELS)) / len(LABELS)
            if shifted and i % 3 == 0:
                p = np.linspace(1, 3, len(LABELS))
                p /= p.sum()
            columns[f"cat_{i}"] = LABELS[rng.choice(len(LABELS), rows, p=p)]
        return pd.DataFrame(columns)

    return frame(False), frame(True)


# ---- the floor: the same statistics, written plainly with NumPy, SciPy and pandas ----------------


def floor_drift(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    drifted = 0
    for column in reference.columns:
        ref, cur = reference[column], current[column]
        if column.startswith("num"):
            r = ref.to_numpy()
            c = cur.to_numpy()
            r, c = r[np.isfinite(r)], c[np.isfinite(c)]
            score = stats.wasserstein_distance(r, c) / np.std(r)
            is_drifted = score >= 0.1
            edges = np.linspace(min(r.min(), c.min()), max(r.max(), c.max()), 21)
            out[column] = (score, np.histogram(r, edges)[0], np.histogram(c, edges)[0])
        else:
            counts = (
                pd.concat([ref.value_counts(), cur.value_counts()], axis=1).fillna(0).to_numpy()
            )
            score = distance.jensenshannon(
                counts[:, 0] / counts[:, 0].sum(), counts[:, 1] / counts[:, 1].sum()
            )
            is_drifted = score >= 0.1
            out[column] = (score, counts)
        drifted += int(is_drifted)
    out["share"] = drifted / len(reference.columns)
    return out


def floor_summary(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    out = {}
    for name, frame in (("reference", reference), ("current", current)):
        numeric = frame.select_dtypes("number")
        data = numeric.to_numpy()
        finite = np.where(np.isfinite(data), data, np.nan)
        out[name] = {
            "missing": frame.isna().sum().to_numpy(),
            "rows_with_missing": int(frame.isna().any(axis=1).sum()),
            "duplicated_rows": int(frame.duplicated().sum()),
            "mean": np.nanmean(finite, axis=0),
            "std": np.nanstd(finite, axis=0, ddof=1),
            "sum": np.nansum(finite, axis=0),
            "min": np.nanmin(finite, axis=0),
            "max": np.nanmax(finite, axis=0),
            "quantiles": np.nanquantile(finite, [0.25, 0.5, 0.75], axis=0),
            "unique": [len(np.unique(col[~np.isnan(col)])) for col in finite.T],
            "value_counts": [
                frame[c].value_counts() for c in frame.columns if not c.startswith("num")
            ],
            "corr": numeric.corr().to_numpy(),
        }
    return out


# ---- measuring --------------------------------------------------------------------------------


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def make_model_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Binary classification (labels and probabilities) and regression predictions, 4 features."""
    rng = np.random.default_rng(seed)
    features = {f"f{i}": rng.normal(size=rows) for i in range(3)}
    features["segment"] = LABELS[rng.integers(0, 5, rows)]
    y = (rng.random(rows) < 0.3).astype(int)
    proba = np.clip(0.35 * y + rng.random(rows) * 0.65, 0, 1)
    classification = pd.DataFrame(
        {**features, "y": y, "proba": proba, "pred": (proba >= 0.5).astype(int)}
    )
    target = 20 + 5 * features["f0"] + rng.normal(0, 2, rows)
    regression = pd.DataFrame(
        {**features, "y": target, "pred": target + rng.normal(0.2, 1.5, rows)}
    )
    return classification, regression


def sklearn_classification(frame: pd.DataFrame) -> dict[str, Any]:
    """What ClassificationPreset computes, with scikit-learn (and NumPy for the lift table)."""
    from sklearn import metrics as sk
    from sklearn.dummy import DummyClassifier

    y, pred, proba = frame["y"].to_numpy(), frame["pred"].to_numpy(), frame["proba"].to_numpy()
    out: dict[str, Any] = {}
    for name, (labels, scores) in {
        "model": (pred, proba),
        "dummy": (
            DummyClassifier(strategy="prior").fit(frame[["f0"]], y).predict(frame[["f0"]]),
            np.full(len(y), y.mean()),
        ),
    }.items():
        out[name] = {
            "accuracy": sk.accuracy_score(y, labels),
            "precision": sk.precision_score(y, labels, zero_division=0),
            "recall": sk.recall_score(y, labels, zero_division=0),
            "f1": sk.f1_score(y, labels, zero_division=0),
            "confusion": sk.confusion_matrix(y, labels),
            "roc_auc": sk.roc_auc_score(y, scores),
            "log_loss": sk.log_loss(y, scores),
        }
    out["per_label"] = sk.precision_recall_fscore_support(y, pred)
    out["per_label_auc"] = [
        sk.roc_auc_score(y == c, proba if c == 1 else 1 - proba) for c in (0, 1)
    ]
    out["roc"] = sk.roc_curve(y, proba)
    out["pr"] = sk.precision_recall_curve(y, proba)
    out["ap"] = sk.average_precision_score(y, proba)
    hits = y[np.argsort(-proba, kind="stable")]
    out["lift"] = [group.mean() / y.mean() for group in np.array_split(hits, 10)]
    out["balance"] = frame["y"].value_counts()
    return out


def floor_classification(frame: pd.DataFrame) -> dict[str, Any]:
    """What ClassificationPreset computes, written tight with NumPy: one confusion count, one sort
    of the scores serving the AUC, both curves and the lift table."""
    y, pred, proba = frame["y"].to_numpy(), frame["pred"].to_numpy(), frame["proba"].to_numpy()
    n = len(y)
    matrix = np.bincount(y * 2 + pred, minlength=4).reshape(2, 2)
    tn, fp, fn, tp = matrix.ravel()
    out: dict[str, Any] = {
        "accuracy": (tp + tn) / n,
        "precision": tp / (tp + fp),
        "recall": tp / (tp + fn),
        "f1": 2 * tp / (2 * tp + fp + fn),
        "per_label": (np.diag(matrix) / matrix.sum(0), np.diag(matrix) / matrix.sum(1)),
    }
    clipped = np.clip(np.where(y == 1, proba, 1 - proba), 1e-15, 1 - 1e-15)
    out["log_loss"] = -np.mean(np.log(clipped))
    share = y.mean()
    out["dummy"] = (
        max(share, 1 - share),
        -(share * np.log(share) + (1 - share) * np.log(1 - share)),
    )
    order = np.argsort(-proba, kind="stable")
    scores, hits = proba[order], y[order]
    ends = np.r_[np.flatnonzero(np.diff(scores)), n - 1]
    tps = np.cumsum(hits)[ends]
    fps = ends + 1 - tps
    n_pos, n_neg = tps[-1], n - tps[-1]
    positives, negatives = np.diff(tps, prepend=0), np.diff(fps, prepend=0)
    out["roc_auc"] = np.dot(negatives, tps - positives / 2) / (n_pos * n_neg)
    out["roc"] = (fps / n_neg, tps / n_pos)
    precision = tps / (ends + 1)
    out["pr"] = (precision, tps / n_pos)
    out["ap"] = np.sum(np.diff(tps / n_pos, prepend=0) * precision)
    out["lift"] = [group.mean() / share for group in np.array_split(hits, 10)]
    out["balance"] = np.bincount(y)
    return out


def sklearn_regression(frame: pd.DataFrame) -> dict[str, Any]:
    """What RegressionPreset computes, with scikit-learn, SciPy and pandas."""
    from sklearn import metrics as sk

    y, pred = frame["y"].to_numpy(), frame["pred"].to_numpy()
    error = pred - y
    out: dict[str, Any] = {}
    for name, guess in {
        "model": pred,
        "mean": np.full(len(y), y.mean()),
        "median": np.full(len(y), np.median(y)),
    }.items():
        out[name] = {
            "mean_error": np.mean(guess - y),
            "mae": sk.mean_absolute_error(y, guess),
            "mape": sk.mean_absolute_percentage_error(y, guess),
            "rmse": sk.root_mean_squared_error(y, guess),
            "r2": sk.r2_score(y, guess),
            "max_error": sk.max_error(y, guess),
        }
    out["histogram"] = np.histogram(error, 30)
    out["normality"] = (stats.normaltest(error), stats.skew(error), stats.kurtosis(error))
    low, high = np.quantile(error, [0.05, 0.95])
    groups = np.where(error <= low, "under", np.where(error >= high, "over", "majority"))
    for feature in ("f0", "f1", "f2", "segment"):
        if feature == "segment":
            out[feature] = pd.crosstab(groups, frame[feature], normalize="index")
        else:
            out[feature] = frame.groupby(groups)[feature].mean()
    return out


def _normaltest_pvalue(n: int, skewness: float, kurtosis: float) -> float:
    """D'Agostino-Pearson's p-value from the sample skewness and excess kurtosis (biased)."""
    y = skewness * np.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
    beta2 = (
        3.0 * (n**2 + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9))
    )
    w2 = np.sqrt(2 * (beta2 - 1)) - 1
    alpha = np.sqrt(2 / (w2 - 1))
    z_skew = np.arcsinh(y / alpha) / np.sqrt(0.5 * np.log(w2))
    variance = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5))
    x = (kurtosis + 3 - 3.0 * (n - 1) / (n + 1)) / np.sqrt(variance)
    root_beta1 = (
        6.0
        * (n * n - 5 * n + 2)
        / ((n + 7) * (n + 9))
        * np.sqrt(6.0 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3)))
    )
    a = 6 + 8 / root_beta1 * (2 / root_beta1 + np.sqrt(1 + 4 / root_beta1**2))
    denominator = 1 + x * np.sqrt(2 / (a - 4))
    z_kurtosis = (1 - 2 / (9 * a) - np.cbrt((1 - 2 / a) / denominator)) / np.sqrt(2 / (9 * a))
    return float(np.exp(-(z_skew**2 + z_kurtosis**2) / 2))  # chi-square, 2 degrees of freedom


def floor_regression(frame: pd.DataFrame) -> dict[str, Any]:
    """What RegressionPreset computes, written tight with NumPy: the error's moments once (the
    skewness, kurtosis and D'Agostino-Pearson's test all read them), one partition for both
    quantiles, and the groups' feature means and category shares by `np.bincount`."""
    y, pred = frame["y"].to_numpy(), frame["pred"].to_numpy()
    n = len(y)
    error = pred - y
    inverse = 1 / np.maximum(np.abs(y), np.finfo(np.float64).eps)
    mean_y = y.mean()
    centred = y - mean_y
    total = np.dot(centred, centred)
    out: dict[str, Any] = {}
    for name, e in (("model", error), ("mean", -centred), ("median", np.median(y) - y)):
        absolute = np.abs(e)
        squares = np.dot(e, e)
        out[name] = {
            "mean_error": e.mean(),
            "mae": absolute.mean(),
            "mape": np.dot(absolute, inverse) / n,
            "rmse": np.sqrt(squares / n),
            "r2": 1 - squares / total,
            "max_error": absolute.max(),
        }
    out["histogram"] = np.histogram(error, 30)
    deviation = error - out["model"]["mean_error"]
    square = deviation * deviation
    m2 = square.mean()
    skewness = np.dot(square, deviation) / n / m2**1.5
    kurtosis = np.dot(square, square) / n / m2**2 - 3
    out["normality"] = (_normaltest_pvalue(n, skewness, kurtosis), skewness, kurtosis)
    low, high = np.quantile(error, [0.05, 0.95])
    groups = ((error <= low) + 2 * (error >= high).view(np.int8)).astype(np.intp)  # under 1, over 2
    sizes = np.bincount(groups, minlength=3)
    for feature in ("f0", "f1", "f2"):
        out[feature] = np.bincount(groups, weights=frame[feature].to_numpy(), minlength=3) / sizes
    codes, labels = pd.factorize(frame["segment"], sort=True)
    table = np.bincount(groups * len(labels) + codes, minlength=3 * len(labels))
    out["segment"] = table.reshape(3, -1) / sizes[:, None]
    return out


def check_regression_floor(rows: int = 20_000) -> None:
    """The tuned floor gives scikit-learn's, SciPy's and pandas' values."""
    frame = make_model_frames(rows)[1]
    theirs, ours = sklearn_regression(frame), floor_regression(frame)
    for name in ("model", "mean", "median"):
        for key, value in theirs[name].items():
            assert np.isclose(ours[name][key], value, rtol=1e-9, atol=1e-12), (name, key)
    assert (ours["histogram"][0] == theirs["histogram"][0]).all()
    assert np.allclose(ours["histogram"][1], theirs["histogram"][1], rtol=1e-12)
    test, skewness, kurtosis = theirs["normality"]
    assert np.allclose(ours["normality"], (test.pvalue, skewness, kurtosis), rtol=1e-9, atol=1e-15)
    order = ["majority", "under", "over"]
    for feature in ("f0", "f1", "f2"):
        assert np.allclose(ours[feature], theirs[feature][order].to_numpy(), rtol=1e-9)
    crosstab = theirs["segment"].loc[order]
    assert np.allclose(ours["segment"], crosstab.to_numpy(), rtol=1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--presets",
        nargs="*",
        choices=PRESETS,
        default=list(PRESETS),
        help="the presets to time (default: all four)",
    )
    args = parser.parse_args()

    data_presets = [p for p in ("drift", "summary") if p in args.presets]
    model_presets = [p for p in ("classification", "regression") if p in args.presets]
    if data_presets:
        print(
            f"{'rows':>9} {'preset':<8} {'ours s':>8} {'floor s':>8} {'ratio':>6} {'peak MB':>8}"
            f" {'input MB':>9} {'peak/input':>10}"
        )
    for rows in args.rows if data_presets else []:
        reference, current = make_frames(rows)
        input_bytes = int(
            reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
        )
        cases = {
            "drift": (
                partial(Report([DataDriftPreset()], progress=False).run, current, reference),
                partial(floor_drift, reference, current),
            ),
            "summary": (
                partial(Report([DataSummaryPreset()], progress=False).run, current, reference),
                partial(floor_summary, reference, current),
            ),
        }
        for name, (ours, floor) in cases.items():
            if name not in data_presets:
                continue
            ours_s = best_time(ours, args.repeat)
            floor_s = best_time(floor, args.repeat)
            peak = peak_memory(ours)
            print(
                f"{rows:>9,} {name:<8} {ours_s:>8.3f} {floor_s:>8.3f} {ours_s / floor_s:>6.2f} "
                f"{peak / 1e6:>8.1f} {input_bytes / 1e6:>9.1f} {peak / input_bytes:>10.2f}",
                flush=True,
            )
    from metrics import DataDefinition
    from metrics.presets import ClassificationPreset, RegressionPreset

    print(
        f"\n{'rows':>9} {'preset':<15} {'ours s':>8} {'sklearn s':>9} {'ratio':>6}"
        f" {'floor s':>8} {'ours/floor':>10}"
    )
    if "regression" in model_presets:
        check_regression_floor()
    for rows in ([r for r in args.rows if r >= 100_000] or args.rows) if model_presets else []:
        classification, regression = make_model_frames(rows)
        model_cases = {
            "classification": (
                partial(
                    Report(
                        [ClassificationPreset()],
                        definition=DataDefinition(
                            target="y", prediction="pred", prediction_probas="proba"
                        ),
                        progress=False,
                    ).run,
                    classification,
                ),
                partial(sklearn_classification, classification),
                partial(floor_classification, classification),
            ),
            "regression": (
                partial(
                    Report(
                        [RegressionPreset()],
                        definition=DataDefinition(target="y", prediction="pred"),
                        progress=False,
                    ).run,
                    regression,
                ),
                partial(sklearn_regression, regression),
                partial(floor_regression, regression),
            ),
        }
        for name, (ours, theirs, tuned) in model_cases.items():
            if name not in model_presets:
                continue
            ours_s = best_time(ours, args.repeat)
            theirs_s = best_time(theirs, args.repeat)
            floor_text = ""
            if tuned is not None:
                floor_s = best_time(tuned, args.repeat)
                floor_text = f" {floor_s:>8.3f} {ours_s / floor_s:>10.2f}"
            print(
                f"{rows:>9,} {name:<15} {ours_s:>8.3f} {theirs_s:>9.3f} {ours_s / theirs_s:>6.2f}"
                + floor_text,
                flush=True,
            )

    if "drift" not in data_presets:
        return
    check = Report([DataDriftPreset()], progress=False).run(*reversed(make_frames(10_000)))
    drifted = check.metric("DatasetDrift(drift_share=0.5)").details["drifted"]
    print(f"drift detected at 10k rows in: {', '.join(drifted)}")


if __name__ == "__main__":
    main()
