"""Classification quality, binary and multiclass, from predicted labels and/or probabilities.

The data definition names the `target` (true labels), and the `prediction` (predicted labels)
and/or `prediction_probas`: one column per class, named after the class, or for binary
classification one column with the positive class's probability. Rows whose target is null (labels
not arrived yet) are left out; with no labels at all the metrics are skipped, saying so.

Predicted labels come from the prediction column, or else from the probabilities: the most probable
class, or for binary classification "positive when p >= threshold" (0.5). Passing `threshold`
explicitly derives the labels from the probabilities even when a prediction column exists. `k`
gives the top-k variants: for binary classification the k rows with the highest probability are
predicted positive (precision at k); for multiclass a row counts as correct when its true label is
among its k most probable classes (top-k accuracy).

Averages over classes follow scikit-learn: macro over the labels present in the true or predicted
labels, weighted by support, micro (equal to accuracy for single-label data). Precision or recall
with nothing to count (no predicted positives) is 0. TPR, TNR, FPR and FNR are the positive class's
for binary data and macro averages of one-vs-rest rates for multiclass. ROC AUC is one-vs-rest,
macro-averaged over the classes present in the true labels; it is undefined (null) with a single
class. Log loss clips probabilities to [eps, 1 - eps].

Every quality metric also reports a `dummy` baseline under each side: the majority class predicted
for every row, with the class shares as probabilities (scikit-learn's DummyClassifier, "prior"),
computed on the same labels: a model should beat it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from metrics.computations.column_stats import label_text, ranked
from metrics.core.base import Context, Metric, MetricError, MetricResult, MissingLabels

MAX_LABELS = 50
EPS = np.finfo(np.float64).eps


@dataclass
class Labelled:
    """One side's labelled rows, as integer codes over `classes`."""

    classes: list[Any]
    true: np.ndarray  # codes
    pred: np.ndarray  # codes
    probas: np.ndarray | None  # (n, len(classes)), or None
    binary: bool
    positive: int | None  # code of the positive class (binary)
    rows: int
    # One sort per score column serves every AUC, curve and lift table of a run.
    _rankings: dict[int, Ranking] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def matrix(self) -> np.ndarray:
        """The confusion matrix of the model's predictions (rows: true class), counted once."""
        return confusion(self.true, self.pred, len(self.classes))

    def ranking(self, code: int) -> Ranking:
        """Class `code`'s probability column ranked from the highest, against "true == code"."""
        assert self.probas is not None
        if code not in self._rankings:
            if self.binary and self.positive is not None and code != self.positive:
                # The other class's probability falls as the positive one rises: its ranking is
                # the positive ranking read backwards (equal scores stay together), no new sort.
                self._rankings[code] = _reversed(
                    self.ranking(self.positive), self.probas[:, code], self.true == code
                )
            else:
                self._rankings[code] = rank_scores(self.probas[:, code], self.true == code)
        return self._rankings[code]


@dataclass(frozen=True)
class Ranking:
    """Scores sorted from the highest (a stable sort), cut into groups of equal score: what the
    ROC AUC, the ROC and precision-recall curves and the lift table of one score column share."""

    order: np.ndarray  # row indices, highest score first
    sorted_scores: np.ndarray
    hits: np.ndarray  # positive flags in that order
    ends: np.ndarray  # index (in that order) of the last row of each group of equal scores
    tps: np.ndarray  # positives up to and including each group
    n_pos: int
    n_neg: int

    @cached_property
    def auc(self) -> float:
        """The Mann-Whitney count over the groups of equal score: each negative of a group beats
        no positive of a lower group, loses to every positive above it and ties with its own
        group's."""
        if self.n_pos == 0 or self.n_neg == 0:
            return float("nan")
        fps = (self.ends + 1) - self.tps
        positives = np.diff(self.tps, prepend=0)
        negatives = np.diff(fps, prepend=0)
        above = self.tps - positives
        return float(np.dot(negatives, above + positives / 2) / (self.n_pos * self.n_neg))


def rank_scores(scores: np.ndarray, positive: np.ndarray) -> Ranking:
    order = np.argsort(-scores, kind="stable")
    return _grouped(order, scores[order], positive[order])


def _reversed(other: Ranking, scores: np.ndarray, positive: np.ndarray) -> Ranking:
    """The ranking of a binary task's other class, whose `scores` fall as `other`'s rise."""
    order = other.order[::-1]
    sorted_scores = scores[order]
    if np.any(sorted_scores[1:] > sorted_scores[:-1]):
        return rank_scores(scores, positive)  # the two columns do not mirror each other
    return _grouped(order, sorted_scores, positive[order])


def _grouped(order: np.ndarray, sorted_scores: np.ndarray, hits: np.ndarray) -> Ranking:
    if not len(hits):
        nothing = np.zeros(0, dtype=np.int64)
        return Ranking(order, sorted_scores, hits, nothing, nothing, 0, 0)
    ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    tps = np.cumsum(hits)[ends]
    n_pos = int(tps[-1])
    return Ranking(order, sorted_scores, hits, ends, tps, n_pos, len(hits) - n_pos)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (bool, np.bool_)):
        return (0, int(value))
    if isinstance(value, (int, float, np.number)):
        return (0, float(value))
    return (1, str(value))


def _clean_labels(values: pd.Series) -> pd.Series:
    """Labels with one type per class: a float column of whole numbers (integer labels that
    pandas made floats to hold nulls) becomes integers, so 1.0 and 1 are the same class."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isnan(numbers) | (numbers == np.round(numbers))
        if whole.all():
            return values.astype("Int64")
    return values


def _distinct(values: pd.Series) -> set[Any]:
    return set(pd.unique(values.dropna()).tolist())


def _codes(values: pd.Series, classes: list[Any]) -> np.ndarray:
    """Each value's position in `classes` (-1 if absent), vectorised."""
    if (
        values.dtype.kind in "iub"
        and classes
        and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in classes)
    ):
        # Integer labels (the usual 0/1): a binary search over the sorted classes, no objects.
        numbers = values.to_numpy()
        known = np.array(classes, dtype=np.int64)
        order = np.argsort(known, kind="stable")
        where = np.searchsorted(known[order], numbers).clip(0, len(known) - 1)
        codes = order[where]
        return np.where(known[codes] == numbers, codes, -1)
    return pd.Index(classes, dtype=object).get_indexer(pd.Index(values.astype(object)))


def prepare(
    ctx: Context,
    side: str,
    *,
    pos_label: Any = None,
    threshold: float | None = None,
    k: int | None = None,
) -> Labelled:
    """Labels, predictions and probabilities of one side, validated."""
    schema = ctx.schema
    target = schema.role("target")
    prediction = schema.role("prediction")
    proba_columns = [c for c, r in schema.roles.items() if r == "prediction_probas"]
    if prediction is None and not proba_columns:
        raise MetricError(
            "Classification needs predictions: declare `prediction=` (labels) and/or "
            "`prediction_probas=` (probabilities) in the data definition."
        )
    if target is None:
        raise MissingLabels(
            "No labels: the data definition has no `target`. Quality metrics are skipped until "
            "the true labels are declared."
        )
    frame = ctx.current if side == "current" else ctx.reference
    assert frame is not None
    labelled = frame[target].notna().to_numpy()
    if not labelled.any():
        raise MissingLabels(f"No labels yet: every value of the target column {target!r} is empty.")
    frame = frame.loc[labelled]
    true = _clean_labels(frame[target])
    probas = None
    if proba_columns:
        probas = frame[proba_columns].to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(probas).any():
            raise MetricError(
                "Predicted probabilities have missing values in labelled rows; fill or drop them."
            )
        if (probas < 0).any() or (probas > 1).any():
            raise MetricError("Predicted probabilities must lie between 0 and 1.")
    predicted = _clean_labels(frame[prediction]) if prediction is not None else None
    if predicted is not None and predicted.isna().any():
        raise MetricError(
            f"The prediction column {prediction!r} has missing values in labelled rows."
        )

    # The classes: those of the probability columns (for multiclass), the labels, the predictions.
    seen = _distinct(true) | (_distinct(predicted) if predicted is not None else set())
    if len(proba_columns) > 1:
        by_name = {str(v): v for v in seen}
        proba_classes = [by_name.get(c, c) for c in proba_columns]
        unknown = [str(v) for v in seen if str(v) not in set(proba_columns)]
        if unknown:
            raise MetricError(
                f"Labels {', '.join(sorted(unknown)[:5])} have no probability column; "
                "prediction_probas needs one column per class, named after it."
            )
        classes = proba_classes
        assert probas is not None  # read above from the probability columns
        sums = probas.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1) > 1e-6)
        if len(off):
            examples = ", ".join(f"row {i} sums to {sums[i]:.3g}" for i in off[:3])
            raise MetricError(
                f"Predicted probabilities must sum to 1 on each row ({len(off)} rows do not: "
                f"{examples}). Normalise them, or check that every class has its column."
            )
    else:
        classes = sorted(seen, key=_sort_key)
    binary = len(classes) <= 2 and len(proba_columns) <= 2
    positive = None
    if binary:
        positive_label = _positive(classes, pos_label, proba_columns)
        if positive_label not in classes:
            classes = sorted([*classes, positive_label], key=_sort_key)
        if len(classes) == 1:  # a single class seen: add a placeholder negative so shapes hold
            classes = [*classes, f"not {positive_label}"]
        positive = classes.index(positive_label)
        if probas is not None and len(proba_columns) == 1:
            column = np.zeros((len(probas), 2))
            column[:, positive] = probas[:, 0]
            column[:, 1 - positive] = 1 - probas[:, 0]
            probas = column
        elif probas is not None:
            order = [proba_classes.index(c) for c in classes]
            probas = probas[:, order]
    true_codes = _codes(true, classes)
    if threshold is not None or predicted is None or k is not None:
        if probas is None:
            raise MetricError(
                "Thresholds and top-k need predicted probabilities (prediction_probas)."
            )
        if binary:
            assert positive is not None  # set above for a binary task
            scores = probas[:, positive]
            if k is not None:
                order = np.lexsort((np.arange(len(scores)), -scores))
                is_positive = np.zeros(len(scores), dtype=bool)
                is_positive[order[:k]] = True
            else:
                is_positive = scores >= (0.5 if threshold is None else threshold)
            pred_codes = np.where(is_positive, positive, 1 - positive)
        else:
            pred_codes = np.argmax(probas, axis=1)
    else:
        pred_codes = _codes(predicted, classes)
        if (pred_codes < 0).any():
            unknown = _distinct(predicted) - set(classes)
            raise MetricError(
                f"Predicted labels {sorted(map(str, unknown))[:5]} are not among the classes."
            )
    return Labelled(classes, true_codes, pred_codes, probas, binary, positive, len(true_codes))


def _positive(classes: list[Any], pos_label: Any, proba_columns: list[str]) -> Any:
    if pos_label is not None:
        return pos_label
    if len(proba_columns) == 1 and str(proba_columns[0]) in {str(c) for c in classes}:
        return next(c for c in classes if str(c) == proba_columns[0])
    if set(classes) <= {0, 1}:
        return 1
    if set(classes) <= {True, False}:
        return True
    raise MetricError(
        f"Binary labels {', '.join(repr(c) for c in classes)}: say which is positive with pos_label=."
    )


# ---- the numbers --------------------------------------------------------------------------------


def confusion(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows: true class; columns: predicted class."""
    return np.bincount(true * n_classes + pred, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def _ratio(numerator: np.ndarray | float, denominator: np.ndarray | float) -> Any:
    """numerator / denominator, and 0 where there is nothing to divide by."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def per_class(matrix: np.ndarray) -> dict[str, np.ndarray]:
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    n = matrix.sum()
    fp, fn = predicted - tp, actual - tp
    tn = n - tp - fp - fn
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, actual)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tpr": recall,
        "tnr": _ratio(tn, tn + fp),
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, fn + tp),
        "support": actual,
        "predicted": predicted,
    }


def binary_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC: the chance that a positive row scores above a negative one, ties counting half."""
    return ranking_auc(rank_scores(scores, positive))


def ranking_auc(r: Ranking) -> float:
    return r.auc


def log_loss(true: np.ndarray, probas: np.ndarray) -> float:
    picked = np.clip(probas[np.arange(len(true)), true], EPS, 1 - EPS)
    return float(-np.mean(np.log(picked)))


def quality(
    data: Labelled,
    pred: np.ndarray | None = None,
    probas: np.ndarray | None = None,
    *,
    auc: bool = True,
) -> dict[str, float]:
    """The quality values for `pred` (default: the model's) and `probas` against the true labels
    (`auc=False` leaves the ROC AUC to the caller)."""
    own_probas = probas is None
    pred = data.pred if pred is None else pred
    probas = data.probas if probas is None else probas
    matrix = data.matrix if pred is data.pred else confusion(data.true, pred, len(data.classes))
    values, rates = _label_quality(data, matrix)
    if probas is not None:
        if not auc:
            pass
        elif data.binary:
            assert data.positive is not None
            values["roc_auc"] = (
                ranking_auc(data.ranking(data.positive))
                if own_probas
                else binary_auc(probas[:, data.positive], data.true == data.positive)
            )
        else:
            present = [c for c in range(len(data.classes)) if rates["support"][c] > 0]
            aucs = [
                ranking_auc(data.ranking(c))
                if own_probas
                else binary_auc(probas[:, c], data.true == c)
                for c in present
            ]
            values["roc_auc"] = float(np.mean(aucs)) if len(aucs) > 1 else float("nan")
        values["log_loss"] = log_loss(data.true, probas)
    return values


def _label_quality(
    data: Labelled, matrix: np.ndarray
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The values read from a confusion matrix, and the per-class rates they came from."""
    rates = per_class(matrix)
    values: dict[str, float] = {
        "rows": data.rows,
        "accuracy": float(np.trace(matrix) / matrix.sum()),
    }
    if data.binary:
        p = data.positive
        for name in ("precision", "recall", "f1", "tpr", "tnr", "fpr", "fnr"):
            values[name] = float(rates[name][p])
    else:
        present = (rates["support"] + rates["predicted"]) > 0
        weights = rates["support"][present] / rates["support"][present].sum()
        for name in ("precision", "recall", "f1", "tpr", "tnr", "fpr", "fnr"):
            values[name] = float(rates[name][present].mean())
        for name in ("precision", "recall", "f1"):
            values[f"{name}_weighted"] = float((rates[name][present] * weights).sum())
            values[f"{name}_micro"] = values["accuracy"]
    return values, rates


def dummy_quality(data: Labelled) -> dict[str, float]:
    """The baseline: the majority class for every row, the class shares as probabilities."""
    counts = np.bincount(data.true, minlength=len(data.classes))
    majority = int(np.argmax(counts))
    # Every row predicted as the majority: its column of the confusion matrix holds the counts.
    matrix = np.zeros((len(counts), len(counts)), dtype=np.int64)
    matrix[:, majority] = counts
    values, _ = _label_quality(data, matrix)
    if data.probas is not None:
        # Constant scores rank every positive level with every negative: the AUC is 0.5.
        values["roc_auc"] = 0.5 if (counts > 0).sum() > 1 else float("nan")
        # Each row's probability of its own class is that class's share: the log loss is the
        # count-weighted mean of -log(share), without an (n, classes) array of equal rows.
        shares = np.clip(counts / counts.sum(), EPS, 1 - EPS)
        values["log_loss"] = float(-np.dot(counts, np.log(shares)) / data.rows)
    return values


def top_k_accuracy(data: Labelled, k: int) -> float:
    assert data.probas is not None
    # The same order as scikit-learn's top_k_accuracy_score, ties included.
    order = np.argsort(data.probas, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float((order == data.true[:, None]).any(axis=1).mean())


# ---- metrics ------------------------------------------------------------------------------------


class _Classification(Metric):
    def _sides(self, ctx: Context, **options: Any) -> dict[str, Labelled]:
        def labelled(side: str) -> Labelled:
            key = (
                "classification",
                side,
                *sorted((k, v) for k, v in options.items() if v is not None),
            )
            return ctx.memo(key, lambda: prepare(ctx, side, **options))

        sides = {"current": labelled("current")}
        if ctx.reference is not None:
            # A reference without labels still leaves the current side to report.
            with contextlib.suppress(MissingLabels):
                sides["reference"] = labelled("reference")
        return sides


class ClassificationQuality(_Classification):
    """Accuracy, precision, recall, F1, TPR, TNR, FPR, FNR (and for multiclass the weighted and
    micro averages), and with probabilities ROC AUC and log loss; each side also has `dummy`, the
    same numbers for the majority-class baseline. Higher is better except for log loss, FPR and
    FNR. With `k` (multiclass), also `top_k_accuracy`."""

    def __init__(
        self,
        *,
        pos_label: str | int | bool | None = None,
        threshold: float | None = None,
        k: int | None = None,
    ) -> None:
        if threshold is not None and not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}.")
        if k is not None and k < 1:
            raise ValueError(f"k must be at least 1, not {k}.")
        super().__init__(pos_label=pos_label, threshold=threshold, k=k)

    def compute(self, ctx: Context) -> MetricResult:
        params = self.params
        k = params.get("k")
        values = {}
        details: dict[str, Any] = {}
        for side, data in self._sides(
            ctx, pos_label=params.get("pos_label"), threshold=params.get("threshold"), k=k
        ).items():
            side_values: dict[str, Any] = quality(data)
            if k is not None and not data.binary:
                side_values["top_k_accuracy"] = top_k_accuracy(data, k)
            side_values["dummy"] = dummy_quality(data)
            values[side] = side_values
            details[f"{side}_classes"] = [label_text(c) for c in data.classes[:MAX_LABELS]]
            details["task"] = "binary" if data.binary else "multiclass"
            if data.binary:
                assert data.positive is not None  # set for a binary task
                details["positive_label"] = label_text(data.classes[data.positive])
        return self.result(values, details)


class ClassificationByLabel(_Classification):
    """One label's precision, recall, F1 and (with probabilities) one-vs-rest ROC AUC, with its
    `support` (true rows) and `predicted` (rows predicted as it)."""

    def __init__(self, *, label: str | int | bool | float) -> None:
        super().__init__(label=label)

    def compute(self, ctx: Context) -> MetricResult:
        wanted = self.params["label"]
        values: dict[str, dict[str, float]] = {}
        for side, data in self._sides(ctx).items():
            codes = [i for i, c in enumerate(data.classes) if c == wanted or str(c) == str(wanted)]
            if not codes:
                values[side] = {"support": 0, "predicted": 0}
                continue
            code = codes[0]
            rates = per_class(data.matrix)
            side_values = {name: float(rates[name][code]) for name in ("precision", "recall", "f1")}
            side_values["support"] = int(rates["support"][code])
            side_values["predicted"] = int(rates["predicted"][code])
            if data.probas is not None:
                side_values["roc_auc"] = ranking_auc(data.ranking(code))
            values[side] = side_values
        return self.result(values)


class ConfusionMatrix(_Classification):
    """Counts of (true, predicted) label pairs, in details (at most 50 labels: the most frequent,
    the rest summed as "other")."""

    def compute(self, ctx: Context) -> MetricResult:
        values, details = {}, {}
        for side, data in self._sides(ctx).items():
            matrix = data.matrix
            labels = [label_text(c) for c in data.classes]
            if len(labels) > MAX_LABELS:
                keep = ranked(np.array(labels, dtype=object), matrix.sum(axis=1))[: MAX_LABELS - 1]
                mapping = np.full(len(labels), MAX_LABELS - 1)
                mapping[keep] = np.arange(len(keep))
                reduced = np.zeros((MAX_LABELS, MAX_LABELS), dtype=np.int64)
                np.add.at(
                    reduced,
                    (
                        mapping[:, None].repeat(len(labels), 1),
                        mapping[None, :].repeat(len(labels), 0),
                    ),
                    matrix,
                )
                matrix, labels = reduced, [labels[i] for i in keep] + ["other"]
            values[side] = {"rows": data.rows}
            details[side] = {"labels": labels, "matrix": matrix.tolist()}
        return self.result(values, details)


def _downsample(n: int, points: int) -> np.ndarray:
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(int))


def roc_points(r: Ranking) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) at every distinct score, from the highest; starts at (0, 0)."""
    fps = (r.ends + 1) - r.tps
    tpr = np.r_[0.0, r.tps / r.n_pos] if r.n_pos else np.r_[0.0, np.zeros(len(r.tps))]
    fpr = np.r_[0.0, fps / r.n_neg] if r.n_neg else np.r_[0.0, np.zeros(len(fps))]
    thresholds = np.r_[np.inf, r.sorted_scores[r.ends]]
    return fpr, tpr, thresholds


class _Curve(_Classification):
    def __init__(self, *, label: str | int | bool | None = None, points: int = 100) -> None:
        if not 2 <= points <= 1000:
            raise ValueError(f"points must be between 2 and 1000, not {points}.")
        super().__init__(label=label, points=points)

    def _scores(self, data: Labelled) -> tuple[Ranking, Any]:
        if data.probas is None:
            raise MetricError("Curves need predicted probabilities (prediction_probas).")
        wanted = self.params.get("label")
        if wanted is None:
            if not data.binary:
                raise MetricError("Multiclass curves are per label: pass label=.")
            assert data.positive is not None  # set for a binary task
            code = data.positive
        else:
            matches = [i for i, c in enumerate(data.classes) if str(c) == str(wanted)]
            if not matches:
                raise MetricError(
                    f"No class {wanted!r} among {[label_text(c) for c in data.classes][:10]}."
                )
            code = matches[0]
        return data.ranking(code), data.classes[code]


class RocCurve(_Curve):
    """ROC curve points (at most `points`) for the positive class or `label`, and its AUC."""

    def compute(self, ctx: Context) -> MetricResult:
        values, details = {}, {}
        for side, data in self._sides(ctx).items():
            ranking, label = self._scores(data)
            fpr, tpr, thresholds = roc_points(ranking)
            keep = _downsample(len(fpr), self.params["points"])
            values[side] = {"roc_auc": ranking_auc(ranking)}
            details[side] = {
                "label": label_text(label),
                "fpr": fpr[keep].tolist(),
                "tpr": tpr[keep].tolist(),
                "thresholds": [None if not np.isfinite(t) else float(t) for t in thresholds[keep]],
            }
        return self.result(values, details)


class PrecisionRecallCurve(_Curve):
    """Precision-recall curve points (at most `points`) for the positive class or `label`, and
    the average precision (scikit-learn's definition: sum of precision times recall increments)."""

    def compute(self, ctx: Context) -> MetricResult:
        values, details = {}, {}
        for side, data in self._sides(ctx).items():
            ranking, label = self._scores(data)
            _, tpr, _ = roc_points(ranking)
            sorted_scores, distinct = ranking.sorted_scores, ranking.ends
            precision = ranking.tps / (distinct + 1)
            recall = tpr[1:]
            average_precision = (
                float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
                if ranking.n_pos
                else float("nan")
            )
            keep = _downsample(len(precision), self.params["points"])
            values[side] = {"average_precision": average_precision}
            details[side] = {
                "label": label_text(label),
                "precision": precision[keep].tolist(),
                "recall": recall[keep].tolist(),
                "thresholds": sorted_scores[distinct][keep].tolist(),
            }
        return self.result(values, details)


class LiftTable(_Classification):
    """Rows sorted by the positive probability, cut into `bins` groups of equal size: per group the
    rows, positives, positive rate, lift (rate over the overall rate), cumulative gain (share of
    all positives caught so far) and cumulative lift. Values: `top_lift` (the first group's lift)
    and `positive_rate`. Binary only."""

    def __init__(self, *, bins: int = 10) -> None:
        if not 2 <= bins <= 100:
            raise ValueError(f"bins must be between 2 and 100, not {bins}.")
        super().__init__(bins=bins)

    def compute(self, ctx: Context) -> MetricResult:
        values, details = {}, {}
        for side, data in self._sides(ctx).items():
            if not data.binary or data.probas is None:
                raise MetricError("A lift table needs binary labels and predicted probabilities.")
            assert data.positive is not None
            hits = data.ranking(data.positive).hits
            groups = np.array_split(np.arange(len(hits)), self.params["bins"])
            overall = hits.mean()
            total = hits.sum()
            rows, caught = [], 0
            for number, group in enumerate(groups, start=1):
                if len(group) == 0:
                    continue
                positives = int(hits[group].sum())
                caught += positives
                rate = positives / len(group)
                seen = group[-1] + 1
                rows.append(
                    {
                        "bin": number,
                        "rows": len(group),
                        "positives": positives,
                        "positive_rate": rate,
                        "lift": rate / overall if overall else None,
                        "cumulative_gain": caught / total if total else None,
                        "cumulative_lift": (caught / seen) / overall if overall else None,
                    }
                )
            values[side] = {
                "top_lift": rows[0]["lift"] if rows else None,
                "positive_rate": float(overall),
            }
            details[side] = rows
        return self.result(values, details)


class ClassBalance(Metric):
    """How the true labels (and the predicted ones) spread over the classes: `classes`,
    `majority_share`, `minority_share`, `imbalance_ratio` (majority over minority count); counts
    per label in details (at most 50)."""

    def compute(self, ctx: Context) -> MetricResult:
        target = ctx.schema.role("target")
        if target is None:
            raise MissingLabels("No labels: the data definition has no `target`.")
        values, details = {}, {}
        frames = {"current": ctx.current}
        if ctx.reference is not None:
            frames["reference"] = ctx.reference
        prediction = ctx.schema.role("prediction")
        for side, frame in frames.items():
            counts = frame[target].value_counts(dropna=True)
            if counts.empty:
                raise MissingLabels(f"No labels yet: every value of {target!r} is empty.")
            values[side] = {
                "classes": len(counts),
                "majority_share": float(counts.iloc[0] / counts.sum()),
                "minority_share": float(counts.iloc[-1] / counts.sum()),
                "imbalance_ratio": float(counts.iloc[0] / counts.iloc[-1]),
            }
            order = ranked(np.array(counts.index, dtype=object), counts.to_numpy())[:MAX_LABELS]
            details[side] = {
                "target": [
                    {"label": label_text(counts.index[i]), "count": int(counts.iloc[i])}
                    for i in order
                ]
            }
            if prediction is not None:
                predicted = frame[prediction].value_counts(dropna=True)
                details[side]["prediction"] = [
                    {"label": label_text(v), "count": int(c)}
                    for v, c in list(predicted.items())[:MAX_LABELS]
                ]
        return self.result(values, details)


def labels_of(ctx: Context, limit: int = MAX_LABELS) -> list[Any]:
    """The classes found in the data's target and prediction (for per-label presets)."""
    seen: set[Any] = set()
    for frame in (ctx.current, ctx.reference):
        if frame is None:
            continue
        for role in ("target", "prediction"):
            column = ctx.schema.role(role)
            if column is not None:
                seen |= _distinct(_clean_labels(frame[column]))
    return sorted(seen, key=_sort_key)[:limit]
