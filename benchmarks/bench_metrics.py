"""Benchmark of the metrics library against a tuned NumPy floor (not a test).

For 10k, 100k and 1M rows x 25 columns (20 numerical, 5 categorical; drift injected in a third of
them), it times the data drift preset and the data summary preset, measures their peak memory, and
times as the floor a tuned NumPy computation of the same statistics in the same process
(`tuned_floor_drift`, `tuned_floor_summary`: each numerical column sorted once per side, the
Wasserstein distance from one merge of the two sorted arrays, quantiles, distinct values and
histograms read off the sorted arrays, categories by one factorisation and `np.bincount`, the
correlations from one matrix product; tests/metrics/test_benchmark_floors.py checks them against
SciPy, pandas and the presets' own values):

    .venv/bin/python benchmarks/bench_metrics.py            # 10k, 100k, 1M rows
    .venv/bin/python benchmarks/bench_metrics.py --rows 100000 --repeat 1
    .venv/bin/python benchmarks/bench_metrics.py --presets regression   # only some presets

Targets: time within 2x of the floor; peak memory under 3x the size of the input frames.
It then times the classification and regression presets at 100k and 1M rows against scikit-learn
computing the same metrics (target: faster) and against a tuned NumPy floor of the same values
(target: within 2x; the same test checks both floors against scikit-learn).
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
from scipy import special, stats

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


# ---- the floor: the same statistics as the presets, written tight with NumPy ----------------
#
# Each floor computes what its preset reports on this data (the defaults at these sizes: the normed
# Wasserstein distance for numerical columns and Jensen-Shannon for categorical ones, with more than
# 1000 reference values), the way a careful NumPy programmer would: each numerical column sorted
# once per side, and everything else read off the sorted arrays or integer codes.

SMALL_REFERENCE, FEW_VALUES = 1000, 5  # below these the preset picks p-value tests instead
DRIFT_THRESHOLD, DRIFT_SHARE, WASSERSTEIN_MIN_STD = 0.1, 0.5, 0.001
BINS, TOP = 20, 20


def _sorted_finite(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float64 values, finite mask, the finite values sorted)."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    data = values[finite]
    data.sort()
    return values, finite, data


def _distinct(data: np.ndarray) -> int:
    return int(np.count_nonzero(data[1:] != data[:-1])) + 1 if len(data) else 0


def _counts(series: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """(distinct non-null values, their counts, nulls) by one factorisation and one bincount."""
    codes, uniques = pd.factorize(series.array)
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    return np.asarray(uniques, dtype=object), counts[1:], int(counts[0])


def _aligned(
    ref: tuple[np.ndarray, np.ndarray, int], cur: tuple[np.ndarray, np.ndarray, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both sides' counts on shared codes: the reference's categories, then current's new ones."""
    (ref_values, ref_counts, _), (cur_values, cur_counts, _) = ref, cur
    positions = pd.Index(ref_values).get_indexer(cur_values)
    new = positions < 0
    positions[new] = len(ref_values) + np.arange(int(new.sum()))
    categories = np.concatenate([ref_values, cur_values[new]])
    reference = np.zeros(len(categories), dtype=np.int64)
    reference[: len(ref_values)] = ref_counts
    current = np.zeros(len(categories), dtype=np.int64)
    current[positions] = cur_counts
    return categories, reference, current


def _ranked(labels: np.ndarray, counts: np.ndarray) -> list[int]:
    """Most frequent first, ties by the label's text."""
    return sorted(range(len(labels)), key=lambda i: (-counts[i], _text(labels[i])))


def _text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def wasserstein_sorted(reference: np.ndarray, current: np.ndarray) -> float:
    """The first Wasserstein distance of two sorted samples in one merge: a stable sort of the two
    concatenated runs is a merge, and the two empirical CDFs are running counts along it."""
    n, m = len(reference), len(current)
    merged = np.concatenate([reference, current])
    order = np.argsort(merged, kind="stable")
    from_current = np.cumsum(order[:-1] >= n)  # current values up to each merged point
    taken = np.arange(1, n + m, dtype=np.float64)
    gaps = np.diff(merged[order])
    return float(np.dot(np.abs((taken - from_current) / n - from_current / m), gaps))


def _jensen_shannon(reference: np.ndarray, current: np.ndarray) -> float:
    p, q = reference / reference.sum(), current / current.sum()
    mixture = (p + q) / 2
    divergence = (special.rel_entr(p, mixture).sum() + special.rel_entr(q, mixture).sum()) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def _histogram(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """`bins` equal-width bins over both sorted samples' range, counted by binary search."""
    low, high = min(reference[0], current[0]), max(reference[-1], current[-1])
    edges = np.array([low - 0.5, high + 0.5]) if low == high else np.linspace(low, high, bins + 1)
    counts = {
        side: np.diff(np.r_[0, np.searchsorted(data, edges[1:-1]), len(data)])
        for side, data in (("reference", reference), ("current", current))
    }
    return {"edges": edges, **counts}


def tuned_floor_drift(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """What DataDriftPreset computes: each column's drift score and verdict, its distribution on
    both sides (histogram or top categories), the new and vanished categories, and the share of
    drifted columns."""
    columns: dict[str, dict[str, Any]] = {}
    for column in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[column].dtype):
            r = _sorted_finite(reference[column])[2]
            c = _sorted_finite(current[column])[2]
            distinct = max(_distinct(r), _distinct(c))
            if len(r) <= SMALL_REFERENCE:
                raise NotImplementedError("the floor covers the large-sample defaults only")
            out: dict[str, Any] = {"histogram": _histogram(r, c)}
            if distinct <= FEW_VALUES:  # a handful of values: compared as categories
                values = np.union1d(r, c)
                out.update(
                    method="jensen_shannon",
                    score=_jensen_shannon(
                        np.diff(np.searchsorted(r, values, "right"), prepend=0),
                        np.diff(np.searchsorted(c, values, "right"), prepend=0),
                    ),
                )
            else:
                spread = max(float(np.std(r)) if r[0] != r[-1] else 0.0, WASSERSTEIN_MIN_STD)
                out.update(method="wasserstein", score=wasserstein_sorted(r, c) / spread)
        else:
            categories, ref_counts, cur_counts = _aligned(
                _counts(reference[column]), _counts(current[column])
            )
            if ref_counts.sum() <= SMALL_REFERENCE:
                raise NotImplementedError("the floor covers the large-sample defaults only")
            new, vanished = (
                (cur_counts > 0) & (ref_counts == 0),
                (ref_counts > 0) & (cur_counts == 0),
            )
            order = _ranked(categories, ref_counts + cur_counts)
            shown, rest = order[:TOP], order[TOP:]
            out = {
                "method": "jensen_shannon",
                "score": _jensen_shannon(ref_counts, cur_counts),
                "new_categories": int(new.sum()),
                "vanished_categories": int(vanished.sum()),
                "new_categories_share": cur_counts[new].sum() / cur_counts.sum(),
                "vanished_categories_share": ref_counts[vanished].sum() / ref_counts.sum(),
                "categories": {
                    "labels": [_text(categories[i]) for i in shown] + (["other"] if rest else []),
                    **{
                        side: [int(counts[i]) for i in shown]
                        + ([int(counts[rest].sum())] if rest else [])
                        for side, counts in (("reference", ref_counts), ("current", cur_counts))
                    },
                },
            }
        out["drifted"] = out["score"] >= DRIFT_THRESHOLD
        columns[column] = out
    drifted = sum(bool(out["drifted"]) for out in columns.values())
    share = drifted / len(columns)
    return {
        "columns": columns,
        "drifted_columns": drifted,
        "drifted_share": share,
        "dataset_drift": share >= DRIFT_SHARE,
    }


def _numeric_summary(values: np.ndarray, finite: np.ndarray, data: np.ndarray) -> dict[str, Any]:
    n, count = len(data), len(values) - int(np.count_nonzero(np.isnan(values)))
    distinct = _distinct(data)
    if distinct == n:  # every value once: the first (smallest) is the most common, as argmax says
        top_count, top_value = (1, data[0]) if n else (0, np.nan)
    else:
        starts = np.flatnonzero(np.r_[True, data[1:] != data[:-1]])
        runs = np.diff(np.r_[starts, n])
        top = int(np.argmax(runs))
        top_count, top_value = int(runs[top]), data[starts[top]]
    infinite = values[~finite & ~np.isnan(values)]
    unique = distinct + int((infinite > 0).any()) + int((infinite < 0).any())
    total = float(np.sum(data))

    def quantile(q: float) -> float:
        position = q * (n - 1)
        low = int(position)
        high = min(low + 1, n - 1)
        return float(data[low] + (data[high] - data[low]) * (position - low))

    mean = total / n
    centred = data - mean
    return {
        "count": count,
        "missing": len(values) - count,
        "missing_share": (len(values) - count) / len(values),
        "unique": unique,
        "unique_share": unique / count,
        "most_common_share": top_count / count,
        "most_common": float(top_value),
        "infinite": len(infinite),
        "min": float(data[0]),
        "max": float(data[-1]),
        "mean": mean,
        "std": float(np.sqrt(np.dot(centred, centred) / (n - 1))),
        "sum": total,
        "median": quantile(0.5),
        "p25": quantile(0.25),
        "p75": quantile(0.75),
    }


def _pearson(matrix: np.ndarray, missing: list[np.ndarray]) -> np.ndarray:
    """Pearson's r of every pair of columns over the rows where both are present, from one matrix
    product: `matrix` holds the centred values with 0 where missing, so the sums over a pair's rows
    are the column's sums less its values on the other column's (few) missing rows."""
    rows, k = matrix.shape
    products = matrix.T @ matrix
    sums, sums_sq = matrix.sum(axis=0), np.einsum("ij,ij->j", matrix, matrix)
    sum_x = np.repeat(sums[:, None], k, axis=1)  # [i, j]: column i over the rows j has
    sum_xx = np.repeat(sums_sq[:, None], k, axis=1)
    flags = np.zeros((rows, k), dtype=bool)
    for j, where in enumerate(missing):
        flags[where, j] = True
    sizes = np.array([len(where) for where in missing], dtype=np.float64)
    both = np.zeros((k, k))  # [i, j]: rows missing in both
    for j, where in enumerate(missing):
        if len(where):
            values = matrix[where]
            sum_x[:, j] -= values.sum(axis=0)
            sum_xx[:, j] -= np.einsum("ij,ij->j", values, values)
            both[:, j] = flags[where].sum(axis=0)
    n = rows - sizes[:, None] - sizes[None, :] + both
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i, mean_j = sum_x / n, sum_x.T / n
        cov = products / n - mean_i * mean_j
        var_i, var_j = sum_xx / n - mean_i**2, sum_xx.T / n - mean_j**2
        r = cov / np.sqrt(var_i * var_j)
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)


ALMOST_CONSTANT = ALMOST_DUPLICATED = 0.95
HIGH_CORRELATION = 0.9
_PRIME = np.uint64(1_000_003)


def _equal(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> np.ndarray:
    """Row by row, equal values or both null, of two columns read as (float64 values,) or
    (category codes, categories)."""
    if len(a) == len(b) == 1:
        return (a[0] == b[0]) | (np.isnan(a[0]) & np.isnan(b[0]))
    if len(a) == len(b) == 2:  # b's codes in a's categories (-2: none of a's, -1: null)
        positions = pd.Index(a[1]).get_indexer(b[1])
        positions[positions < 0] = -2
        return a[0] == np.append(positions, -1)[b[0]]
    nulls = [np.isnan(c[0]) if len(c) == 1 else c[0] < 0 for c in (a, b)]
    return nulls[0] & nulls[1]  # a number never equals a category


def _summary_side(frame: pd.DataFrame) -> dict[str, Any]:
    rows = len(frame)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype)]
    matrix = np.empty((rows, len(numeric)), order="F")  # centred values, 0 where not finite
    not_finite: list[np.ndarray] = []
    row_missing = np.zeros(rows, dtype=np.int32)
    hashes: dict[str, np.ndarray] = {}
    read: dict[str, tuple[np.ndarray, ...]] = {}
    columns: dict[str, dict[str, Any]] = {}
    value_counts: dict[str, dict[str, Any]] = {}
    nan_hash = pd.util.hash_array(np.array([np.nan]))
    nan_bits = np.array([np.nan]).view(np.uint64)[0]
    for column in frame.columns:
        series = frame[column]
        if column in numeric:
            values, finite, data = _sorted_finite(series)
            nan = np.isnan(values)
            row_missing += nan
            columns[column] = summary = _numeric_summary(values, finite, data)
            j = numeric.index(column)
            np.subtract(values, summary["mean"], out=matrix[:, j])
            where = np.flatnonzero(~finite)
            matrix[where, j] = 0.0
            not_finite.append(where)
            # The values' bits as their hash, with -0.0 read as 0.0 and every NaN as one.
            bits = (values + 0.0).view(np.uint64)
            bits[nan] = nan_bits
            hashes[column] = bits
            read[column] = (values,)
            continue
        codes, uniques = pd.factorize(series.array)
        labels = np.asarray(uniques, dtype=object)
        counts_all = np.bincount(codes + 1, minlength=len(labels) + 1)
        nulls, counts = int(counts_all[0]), counts_all[1:]
        row_missing += codes < 0
        count = rows - nulls
        order = _ranked(labels, counts)
        columns[column] = {
            "count": count,
            "missing": nulls,
            "missing_share": nulls / rows,
            "unique": len(labels),
            "unique_share": len(labels) / count,
            "most_common_share": counts[order[0]] / count,
            "most_common": _text(labels[order[0]]),
        }
        value_counts[column] = {
            "distinct": len(labels),
            "count": count,
            "top": [(_text(labels[i]), int(counts[i]), counts[i] / count) for i in order[:TOP]],
        }
        # The values' hashes (the categories' hashes taken by code; code -1, null, the last).
        hashes[column] = np.append(pd.util.hash_array(labels), nan_hash)[codes]
        read[column] = (codes, labels)

    # Rows equal to an earlier row: the rows sharing a combined hash, compared in full.
    combined = np.zeros(rows, dtype=np.uint64)
    for h in hashes.values():
        combined *= _PRIME
        combined ^= h
    candidates = pd.Series(combined).duplicated(keep=False).to_numpy()
    duplicated_rows = int(frame[candidates].duplicated().sum()) if candidates.any() else 0

    # Columns equal to an earlier column: the same hash sum, then compared in full.
    duplicated: list[tuple[str, str]] = []
    seen: dict[int, list[str]] = {}
    for column, h in hashes.items():
        key = int(h.sum(dtype=np.uint64))
        for earlier in seen.get(key, []):
            if _equal(read[earlier], read[column]).all():
                duplicated.append((earlier, column))
                break
        seen.setdefault(key, []).append(column)

    # Same-typed pairs equal in >= 95% of rows. A pair equal in that many rows is equal in at least
    # k - 5% of the first k rows (hashes of equal values are equal), so a prefix of 10% of the rows
    # rules out exactly every pair equal in fewer than half of them; candidates are compared in full.
    k = min(rows, int(np.ceil(2 * (1 - ALMOST_DUPLICATED) * rows)) + 1000)
    need = k - (1 - ALMOST_DUPLICATED) * rows
    almost: list[tuple[str, str, float]] = []
    exact = set(duplicated)
    groups = [numeric, [c for c in frame.columns if c not in numeric]]
    for group in groups:
        if len(group) < 2:
            continue
        prefix = np.column_stack([hashes[c][:k] for c in group])
        for i, a in enumerate(group[:-1]):
            matches = (prefix[:, i : i + 1] == prefix[:, i + 1 :]).sum(axis=0)
            for offset in np.flatnonzero(matches >= need):
                b = group[i + 1 + offset]
                if (a, b) in exact:
                    continue
                share = float(_equal(read[a], read[b]).mean())
                if share >= ALMOST_DUPLICATED:
                    almost.append((a, b, share))

    unique = {c: s["unique"] for c, s in columns.items()}
    common = {c: s["most_common_share"] for c, s in columns.items()}
    missing = np.array([s["missing"] for s in columns.values()])
    missing_cells = int(missing.sum())
    with_missing = int(np.count_nonzero(row_missing))
    dataset = {
        "row_count": rows,
        "column_count": len(columns),
        "numerical_columns": len(numeric),
        "categorical_columns": len(columns) - len(numeric),
        "text_columns": 0,
        "datetime_columns": 0,
        "missing_cells": missing_cells,
        "missing_cells_share": missing_cells / (rows * len(columns)),
        "rows_with_missing": with_missing,
        "rows_with_missing_share": with_missing / rows,
        "empty_rows": int(np.count_nonzero(row_missing == len(columns))),
        "columns_with_missing": int(np.count_nonzero(missing)),
        "empty_columns": int(np.count_nonzero(missing == rows)),
        "constant_columns": sum(u <= 1 for u in unique.values()),
        "almost_constant_columns": sum(
            bool(unique[c] > 1 and common[c] >= ALMOST_CONSTANT) for c in columns
        ),
        "duplicated_rows": duplicated_rows,
        "duplicated_rows_share": duplicated_rows / rows,
        "duplicated_columns": len(duplicated),
        "almost_duplicated_columns": len(almost),
    }

    r = _pearson(matrix, not_finite)
    upper = np.triu_indices(len(numeric), k=1)
    pairs = r[upper]
    strength = np.abs(np.nan_to_num(pairs, nan=0.0))
    top = np.argsort(-strength, kind="stable")[:TOP]
    correlations = {
        "matrix": r,
        "max_abs": float(strength.max()),
        "high_pairs": int(np.count_nonzero(strength >= HIGH_CORRELATION)),
        "top_pairs": [(numeric[upper[0][t]], numeric[upper[1][t]], float(pairs[t])) for t in top],
    }
    return {
        "dataset": dataset,
        "columns": columns,
        "value_counts": value_counts,
        "correlations": correlations,
        "duplicated_columns": duplicated,
        "almost_duplicated_columns": almost,
    }


def tuned_floor_summary(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """What DataSummaryPreset computes, per side: the dataset's sizes, missing values, constant and
    duplicated rows and columns; each column's statistics (quantiles and distinct values read off
    the one sorted array; categories by one factorisation and bincount); the categories' value
    counts; and Pearson's correlation matrix from one matrix product."""
    return {"reference": _summary_side(reference), "current": _summary_side(current)}


# ---- measuring --------------------------------------------------------------------------------


def best_times(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Each function's best time over `repeat` rounds, the functions taking turns within a round,
    so a machine slowing down or speeding up mid-run weighs on all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            started = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - started)
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
                partial(tuned_floor_drift, reference, current),
            ),
            "summary": (
                partial(Report([DataSummaryPreset()], progress=False).run, current, reference),
                partial(tuned_floor_summary, reference, current),
            ),
        }
        for name, (ours, floor) in cases.items():
            if name not in data_presets:
                continue
            ours_s, floor_s = best_times([ours, floor], args.repeat)
            peak = peak_memory(ours)
            print(
                f"{rows:>9,} {name:<8} {ours_s:>8.3f} {floor_s:>8.3f} {ours_s / floor_s:>6.2f} "
                f"{peak / 1e6:>8.1f} {input_bytes / 1e6:>9.1f} {peak / input_bytes:>10.2f}",
                flush=True,
            )
    from metrics import DataDefinition
    from metrics.presets import ClassificationPreset, RegressionPreset

    if model_presets:
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
            ours_s, theirs_s, floor_s = best_times([ours, theirs, tuned], args.repeat)
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
