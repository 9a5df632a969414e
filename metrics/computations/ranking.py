"""Ranking and recommendation quality at k: relevance of the top-k, the spread of the scores, and
beyond-accuracy measures (popularity bias, novelty, personalisation, diversity, serendipity, bias
over a categorical attribute).

Data model
----------
One row per (user, item) pair, with four roles from the `DataDefinition`:

- ``user_id`` and ``item_id``: whose list the row belongs to and which item it is. Rows with a null
  user or item id are left out (counted in the details as ``rows_without_ids``).
- ``prediction``: the model's output for the pair: a score (``prediction_type="score"``, the
  default; higher is better) or a rank (``prediction_type="rank"``; 1 is best). Ranks only order the
  rows: a user's ranks 1, 2 and 5 are positions 1, 2 and 3. A null prediction marks an item the
  model did not recommend, typically a relevant item of the ground truth that the model missed: it
  is never in the top-k but still counts among the user's relevant items.
- ``target``: the relevance of the item to the user: binary (0/1 or booleans) or graded
  (non-negative numbers); an item is relevant when its target is > 0. A null target means "not
  labelled (yet)": such rows are left out of the quality metrics, as if absent, and the number of
  labelled rows is reported (``labelled_rows``). When the whole current target column is null the
  metric raises `MissingLabels` (the run reports it as skipped: no labels yet).

Per user, the rows with a prediction are ordered best first; ties are broken by item id
(ascending), so the results never depend on the order of the rows. The **top-k** are the first k of
them, or all of them when the user has fewer than k predicted rows. One row per (user, item) pair
is expected; duplicated pairs are not merged (each row takes a place in the list; `RankingQuality`
counts them in its details as ``duplicated_pairs``), and rows tied on user, prediction and item are
ordered by the values the metric reads (relevance, features, category), so even they give results
independent of the row order.

Which users count: precision is averaged over every user with a labelled row, including users with
no relevant item (their precision is 0) and users with no prediction at all (also 0). Recall,
F-beta's recall, MAP, MAR, NDCG, MRR and hit rate are averaged over users with at least one relevant
item only; the others are reported as ``users_without_relevant``.

Metrics (higher is better unless said otherwise)
------------------------------------------------
- `RankingQuality`: precision, recall, F-beta, MAP, MAR, NDCG, MRR and hit rate at k.
- `ScoreDistribution`: histogram, entropy, mean and standard deviation of the top-k scores.
- `Popularity`: average popularity of the recommended items (ARP), catalogue coverage, and the Gini
  index of how often items are recommended (lower: recommendations spread over more items).
- `Novelty`: mean self-information of the recommended items (higher: less popular items).
- `Personalization`: 1 - mean cosine similarity of users' top-k lists (higher: more personal).
- `Diversity`: mean pairwise cosine distance of the items in a list (higher: more varied lists).
- `Serendipity`: share of the top-k that is relevant and unlike the user's history.
- `RankingBias`: how the top-k spread over the values of a categorical column (item attribute such
  as a genre, or user attribute such as a country).

Everything is vectorised: one lexicographic sort per side, then `np.bincount` over integer user and
item codes and cumulative sums within users; no Python loop runs over users or rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from metrics.computations.column_stats import label_text, ranked
from metrics.core.base import (
    Context,
    Distribution,
    Metric,
    MetricError,
    MetricResult,
    MissingLabels,
)

MAX_BINS = 100
MAX_CATEGORIES_SHOWN = 20
MAX_ITEMS_SHOWN = 10
PREDICTION_TYPES = ("score", "rank")


# ---- parameters -----------------------------------------------------------------------------------


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, not {k!r}.")
    return int(k)


def _check_prediction_type(prediction_type: str) -> str:
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(f"prediction_type must be 'score' or 'rank', not {prediction_type!r}.")
    return prediction_type


def _check_features(item_features: Any) -> list[str]:
    if isinstance(item_features, str) or not isinstance(item_features, (list, tuple)):
        raise ValueError("item_features must be a list of column names, e.g. ['price', 'length'].")
    if not item_features or not all(isinstance(c, str) for c in item_features):
        raise ValueError("item_features must name at least one column (strings).")
    return list(item_features)


# ---- reading the data ---------------------------------------------------------------------------


def _role(ctx: Context, metric: Metric, role: str) -> str:
    column = ctx.schema.role(role)
    if column is None:
        raise MetricError(
            f"{metric.type} needs the {role!r} role: declare it in the data definition, "
            f"e.g. DataDefinition({role}='<column>', ...)."
        )
    if column not in ctx.current.columns:
        raise MetricError(f"The {role} column {column!r} is not in the data.")
    return column


def _sides(ctx: Context) -> dict[str, pd.DataFrame]:
    sides = {"current": ctx.current}
    if ctx.reference is not None:
        sides["reference"] = ctx.reference
    return sides


def _numbers(series: pd.Series, what: str) -> np.ndarray:
    """float64 values of a numeric or boolean column, NaN for nulls; MetricError otherwise."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        converted = pd.to_numeric(series)
    except (TypeError, ValueError):
        example = series.dropna().iloc[0] if series.notna().any() else None
        raise MetricError(
            f"The {what} column {series.name!r} must hold numbers (or booleans), not {dtype} "
            f"(e.g. {example!r})."
        ) from None
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _target(frame: pd.DataFrame, column: str, side: str) -> np.ndarray:
    values = _numbers(frame[column], "target")
    if np.isnan(values).all():
        raise MissingLabels(
            f"No labels yet: the target column {column!r} is empty in the {side} data."
        )
    if (values < 0).any():
        raise MetricError(
            f"The target column {column!r} holds negative values ({np.nanmin(values):g}); "
            "relevance is 0/1 or a non-negative grade."
        )
    return values


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes ordered like the values (so they break ties by id; -1 for nulls), and the
    distinct values by code."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # values that do not compare with each other: ordered as text
        codes, uniques = pd.factorize(values.astype(str).where(values.notna()), sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _codes(values: pd.Series) -> np.ndarray:
    return _factorize(values)[0]


def _shared_codes(
    frames: dict[str, pd.DataFrame], column: str
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Codes of a column common to every side (the same id gets the same code everywhere), and
    the distinct values by code."""
    names = list(frames)
    joined = pd.concat([frames[s][column] for s in names], ignore_index=True)
    codes, uniques = _factorize(joined)
    out: dict[str, np.ndarray] = {}
    start = 0
    for side in names:
        n = len(frames[side])
        out[side] = codes[start : start + n]
        start += n
    return out, uniques


def _features(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MetricError(f"Item feature columns not in the data: {missing}.")
    not_numeric = [
        c
        for c in columns
        if not (
            pd.api.types.is_numeric_dtype(frame[c].dtype)
            or pd.api.types.is_bool_dtype(frame[c].dtype)
        )
    ]
    if not_numeric:
        raise MetricError(
            f"Item feature columns must be numeric; {not_numeric} are not "
            f"({', '.join(str(frame[c].dtype) for c in not_numeric)})."
        )
    return np.column_stack([frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in columns])


@dataclass
class _Lists:
    """The rows of one side, sorted by user, then best prediction first (nulls last), then item id.

    Arrays are aligned with the sorted rows: `rows` indexes the frame (positions), `user` is a dense
    user index (0..n_users-1, in id order), `item` the item code, `position` the 1-based place of
    the row in its user's list, `predicted` whether the row has a prediction, `starts` the first
    sorted row of each user.
    """

    rows: np.ndarray
    user: np.ndarray
    user_code: np.ndarray
    item: np.ndarray
    position: np.ndarray
    predicted: np.ndarray
    starts: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.starts)

    def top(self, k: int) -> np.ndarray:
        return self.predicted & (self.position <= k)


def _lists(
    user_codes: np.ndarray,
    item_codes: np.ndarray,
    prediction: np.ndarray,
    prediction_type: str,
    keep: np.ndarray | None = None,
    then_by: tuple[np.ndarray, ...] = (),
) -> _Lists:
    """Sort one side's rows into lists. `keep` selects rows; `then_by` are per-row values (those
    the metric reads) that order rows tied on user, prediction and item, i.e. duplicated
    (user, item) pairs, so that even they give the same result whatever the row order."""
    mask = (user_codes >= 0) & (item_codes >= 0)
    if keep is not None:
        mask &= keep
    rows = np.flatnonzero(mask)
    users, items, scores = user_codes[rows], item_codes[rows], prediction[rows]
    null = np.isnan(scores)
    key = np.where(null, 0.0, -scores if prediction_type == "score" else scores)
    # A lexicographic sort by (user, null, key, item, *then_by), as stable sorts from the last
    # key to the first: faster than np.lexsort on large frames (integer keys take a radix sort).
    order = np.arange(len(rows))
    for keys in (
        *(values[rows] for values in reversed(then_by)),
        items,
        key,
        null.view(np.int8),
        users,
    ):
        order = order[np.argsort(keys[order], kind="stable")]
    rows, users, items, null = rows[order], users[order], items[order], null[order]
    first = np.r_[True, users[1:] != users[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    dense = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    position = np.arange(len(rows)) - starts[dense] + 1
    return _Lists(
        rows=rows,
        user=dense,
        user_code=users,
        item=items,
        position=position,
        predicted=~null,
        starts=starts,
    )


def _prediction(frame: pd.DataFrame, column: str) -> np.ndarray:
    return _numbers(frame[column], "prediction")


# ---- small statistics ---------------------------------------------------------------------------


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def gini(counts: np.ndarray) -> float:
    """Gini index of non-negative counts: 0 when all are equal, (n-1)/n when one holds all.
    NaN when there are no counts or they sum to zero."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    index = np.arange(1, n + 1)
    return float(np.sum((2 * index - n - 1) * x) / (n * total))


def entropy(counts: np.ndarray) -> float:
    """Shannon entropy (natural log) of the shares of the counts; NaN without counts."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return float("nan")
    shares = counts[counts > 0] / total
    return float(-np.sum(shares * np.log(shares)) + 0.0)


def _f_beta(precision: float, recall: float, beta: float) -> float:
    if np.isnan(precision) or np.isnan(recall):
        return float("nan")
    denominator = beta**2 * precision + recall
    return (1 + beta**2) * precision * recall / denominator if denominator > 0 else 0.0


# ---- RankingQuality -----------------------------------------------------------------------------


class RankingQuality(Metric):
    """How relevant the top-k recommendations are, per side.

    Values (all in [0, 1], higher is better, except the counts):

    - `precision`: relevant items among the top-k, divided by k (even when the user has fewer than
      k predicted rows), averaged over **all** users with a labelled row, including users without
      any relevant item and users without any prediction.
    - `recall`: relevant items in the top-k divided by the user's relevant items (recommended or
      not).
    - `f_beta`: the F-beta score of the reported `precision` and `recall` ((1 + beta²)·P·R /
      (beta²·P + R); 0 when both are 0).
    - `map`: mean average precision: per user, the sum of precision@i over the positions i <= k
      holding a relevant item, divided by min(k, number of relevant items).
    - `mar`: mean average recall: per user, the mean of recall@i for i = 1..k.
    - `ndcg`: normalised discounted cumulative gain with linear gains: DCG = sum over i <= k of
      rel_i / log2(i + 1) (rel the graded target; 1 for binary relevance), divided by the DCG of
      the user's own relevances sorted descending and cut at k.
    - `mrr`: reciprocal rank of the first relevant item within the top-k (0 if none).
    - `hit_rate`: share of users with at least one relevant item in the top-k.
    - `users`: users with a labelled row; `users_without_relevant`: those without a relevant item,
      left out of every value above but precision; `labelled_rows`: rows with a non-null target.

    Recall, MAP, MAR, NDCG, MRR and hit rate are means over users with at least one relevant item
    (NaN when there is none). Precision, recall and the rest are per-user values averaged with
    equal weight per user.
    """

    def __init__(self, *, k: int, prediction_type: str = "score", beta: float = 1.0) -> None:
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not beta > 0:
            raise ValueError(f"beta must be a positive number, not {beta!r}.")
        super().__init__(
            k=_check_k(k),
            prediction_type=_check_prediction_type(prediction_type),
            beta=float(beta),
        )

    def compute(self, ctx: Context) -> MetricResult:
        user = _role(ctx, self, "user_id")
        item = _role(ctx, self, "item_id")
        prediction = _role(ctx, self, "prediction")
        target = _role(ctx, self, "target")
        k, kind, beta = self.params["k"], self.params["prediction_type"], self.params["beta"]
        _target(ctx.current, target, "current")  # MissingLabels before anything else
        values: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for side, frame in _sides(ctx).items():
            relevance = _numbers(frame[target], "target")
            if (relevance < 0).any():
                raise MetricError(
                    f"The target column {target!r} holds negative values in the {side} data; "
                    "relevance is 0/1 or a non-negative grade."
                )
            labelled = ~np.isnan(relevance)
            user_codes, item_codes = _codes(frame[user]), _codes(frame[item])
            lists = _lists(
                user_codes,
                item_codes,
                _prediction(frame, prediction),
                kind,
                keep=labelled,
                then_by=(relevance,),
            )
            values[side] = _quality(lists, relevance[lists.rows], k, beta)
            values[side]["labelled_rows"] = int(labelled.sum())
            has_prediction = np.bincount(lists.user[lists.predicted], minlength=lists.n_users)
            details[side] = {
                "users_without_predictions": int((has_prediction == 0).sum()),
                "rows_without_ids": int(((user_codes < 0) | (item_codes < 0)).sum()),
                "duplicated_pairs": _duplicated_pairs(user_codes, item_codes),
            }
        return self.result(values, details)


def _duplicated_pairs(user_codes: np.ndarray, item_codes: np.ndarray) -> int:
    """Rows repeating an earlier row's (user, item) pair (rows with null ids aside)."""
    known = (user_codes >= 0) & (item_codes >= 0)
    pairs = pd.MultiIndex.from_arrays([user_codes[known], item_codes[known]])
    return int(pairs.duplicated().sum())


def _quality(lists: _Lists, relevance: np.ndarray, k: int, beta: float) -> dict[str, Any]:
    n_users = lists.n_users
    user = lists.user
    binary = (relevance > 0).astype(np.float64)
    position = lists.position.astype(np.float64)
    top = lists.top(k)
    n_relevant = np.bincount(user, weights=binary, minlength=n_users)
    has = n_relevant > 0
    hits = np.bincount(user[top], weights=binary[top], minlength=n_users)
    # Hits at each position of a user's list: a cumulative sum restarted at each user.
    cumulative = np.cumsum(binary)
    hits_at = cumulative - (cumulative - binary)[lists.starts][user]
    average_precision = np.bincount(
        user[top], weights=(binary * hits_at / position)[top], minlength=n_users
    )
    # sum over i = 1..k of hits@i: a relevant item at position p counts for i = p..k.
    recall_sum = np.bincount(
        user[top], weights=(binary * (k - position + 1))[top], minlength=n_users
    )
    dcg = np.bincount(
        user[top], weights=(relevance / np.log2(position + 1))[top], minlength=n_users
    )
    ideal = np.lexsort((-relevance, user))  # the user stays the first key, so starts hold
    ideal_position = np.arange(len(user)) - lists.starts[user[ideal]] + 1
    cut = ideal_position <= k
    idcg = np.bincount(
        user[ideal][cut],
        weights=relevance[ideal][cut] / np.log2(ideal_position[cut] + 1),
        minlength=n_users,
    )
    first = np.full(n_users, np.inf)
    found = top & (binary > 0)
    np.minimum.at(first, user[found], position[found])
    reciprocal_rank = 1.0 / first  # 1 / inf = 0 when no relevant item is in the top-k

    precision = _mean(hits / k)
    recall = _mean(hits[has] / n_relevant[has])
    return {
        "precision": precision,
        "recall": recall,
        "f_beta": _f_beta(precision, recall, beta),
        "map": _mean(average_precision[has] / np.minimum(k, n_relevant[has])),
        "mar": _mean(recall_sum[has] / (k * n_relevant[has])),
        "ndcg": _mean(dcg[has] / idcg[has]),
        "mrr": _mean(reciprocal_rank[has]),
        "hit_rate": _mean((hits[has] > 0).astype(np.float64)),
        "users": n_users,
        "users_without_relevant": int(n_users - has.sum()),
    }


# ---- ScoreDistribution --------------------------------------------------------------------------


class ScoreDistribution(Metric):
    """How the model's scores of its top-k recommendations are spread, per side.

    Values: `count` (top-k scores; infinite scores are left out), `mean`, `std` (sample, ddof=1)
    and `entropy`: the Shannon entropy (natural log) of the shares of the top-k scores in `bins`
    equal-width bins spanning that side's own scores (0 when all scores fall in one bin; at most
    log(bins)). Low entropy means the scores bunch together: the model separates its top items
    little. The distribution (for the chart) puts both sides on shared bins over their joint
    range, so its counts need not match the bins the entropy used. Scores only: ranks carry no
    spread, and `prediction_type="rank"` is an error.
    """

    def __init__(self, *, k: int, prediction_type: str = "score", bins: int = 20) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
            raise ValueError(f"bins must be an integer between 1 and {MAX_BINS}, not {bins!r}.")
        super().__init__(
            k=_check_k(k), prediction_type=_check_prediction_type(prediction_type), bins=bins
        )

    def compute(self, ctx: Context) -> MetricResult:
        if self.params["prediction_type"] != "score":
            raise MetricError(
                "ScoreDistribution reads scores; the prediction is a rank "
                "(prediction_type='rank'), whose distribution says nothing."
            )
        user = _role(ctx, self, "user_id")
        item = _role(ctx, self, "item_id")
        prediction = _role(ctx, self, "prediction")
        k, bins = self.params["k"], self.params["bins"]
        scores: dict[str, np.ndarray] = {}
        for side, frame in _sides(ctx).items():
            predicted = _prediction(frame, prediction)
            lists = _lists(_codes(frame[user]), _codes(frame[item]), predicted, "score")
            top = predicted[lists.rows[lists.top(k)]]
            scores[side] = np.sort(top[np.isfinite(top)])
        non_empty = [s for s in scores.values() if len(s)]
        if not non_empty:
            raise MetricError("There are no finite predicted scores to describe.")
        values = {}
        for side, data in scores.items():
            values[side] = {
                "count": len(data),
                "mean": _mean(data),
                "std": float(np.std(data, ddof=1)) if len(data) > 1 else float("nan"),
                "entropy": entropy(_bin_counts(data, _edges(data, bins)))
                if len(data)
                else float("nan"),
            }
        low = min(s[0] for s in non_empty)
        high = max(s[-1] for s in non_empty)
        edges = _edges(np.array([low, high]), bins)
        distribution = Distribution(
            kind="histogram",
            current=_bin_counts(scores["current"], edges).tolist(),
            reference=_bin_counts(scores["reference"], edges).tolist()
            if "reference" in scores
            else None,
            edges=[float(e) for e in edges],
        )
        return self.result(values, distribution=distribution)


def _edges(sorted_values: np.ndarray, bins: int) -> np.ndarray:
    low, high = sorted_values[0], sorted_values[-1]
    if low == high:
        return np.array([low - 0.5, high + 0.5])
    return np.linspace(low, high, bins + 1)


def _bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin i holds edges[i] <= x < edges[i+1]; the last bin also holds its right edge."""
    positions = np.searchsorted(sorted_values, edges[1:-1], "left")
    return np.diff(np.r_[0, positions, len(sorted_values)])


# ---- Popularity and novelty ---------------------------------------------------------------------


@dataclass
class _Catalogue:
    """Item codes shared by both sides and what the reference says about the items."""

    item_codes: dict[str, np.ndarray]
    item_ids: np.ndarray  # the item id of each code
    user_codes: dict[str, np.ndarray]
    n_items: int
    in_reference: np.ndarray  # bool per item: the item has a row in the reference
    interactions: np.ndarray  # per item: reference rows with target > 0
    interacting_users: np.ndarray  # per item: distinct reference users with target > 0
    reference_users: int


def _catalogue(ctx: Context, metric: Metric) -> _Catalogue:
    user = _role(ctx, metric, "user_id")
    item = _role(ctx, metric, "item_id")
    target = _role(ctx, metric, "target")
    frames = _sides(ctx)
    reference = frames["reference"]
    relevance = _target(reference, target, "reference")
    item_codes, item_ids = _shared_codes(frames, item)
    user_codes, _ = _shared_codes(frames, user)
    n_items = int(max(c.max(initial=-1) for c in item_codes.values())) + 1
    n_users = int(max(c.max(initial=-1) for c in user_codes.values())) + 1
    ref_items, ref_users = item_codes["reference"], user_codes["reference"]
    known = (ref_items >= 0) & (ref_users >= 0)
    positive = known & (relevance > 0)
    in_reference = np.bincount(ref_items[known], minlength=n_items) > 0
    interactions = np.bincount(ref_items[positive], minlength=n_items).astype(np.float64)
    pairs = np.unique(ref_users[positive].astype(np.int64) * n_items + ref_items[positive])
    interacting_users = np.bincount(pairs % max(n_items, 1), minlength=n_items).astype(np.float64)
    reference_users = int((np.bincount(ref_users[known], minlength=n_users) > 0).sum())
    return _Catalogue(
        item_codes=item_codes,
        item_ids=item_ids,
        user_codes=user_codes,
        n_items=n_items,
        in_reference=in_reference,
        interactions=interactions,
        interacting_users=interacting_users,
        reference_users=reference_users,
    )


class Popularity(Metric):
    """Popularity bias of the top-k recommendations, per side, against the reference period.

    An item's popularity is its number of interactions (rows with target > 0) in the REFERENCE
    data (the training or previous period); items absent from the reference have popularity 0.

    - `arp`: average recommendation popularity: per user, the mean popularity of the top-k items,
      averaged over users with at least one recommendation. Lower: the model leans less on
      popular items.
    - `coverage`: share of the items present in the reference (any row) that appear in at least
      one user's top-k. Higher: more of the catalogue gets recommended.
    - `gini`: Gini index of how often each item is recommended in the top-k, over all items in the
      reference or in that side's top-k (items never recommended count 0). 0: recommendations
      spread evenly over items; near 1: a few items take all. Lower is better.
    - `users`: users with at least one recommendation; `items`: items the Gini index is over.

    The reference side measures the reference's own recommendations (when it has predictions)
    against the same reference popularity.
    """

    requires_reference: ClassVar[bool] = True

    def __init__(self, *, k: int, prediction_type: str = "score") -> None:
        super().__init__(k=_check_k(k), prediction_type=_check_prediction_type(prediction_type))

    def compute(self, ctx: Context) -> MetricResult:
        catalogue = _catalogue(ctx, self)
        prediction = _role(ctx, self, "prediction")
        k, kind = self.params["k"], self.params["prediction_type"]
        values: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for side, frame in _sides(ctx).items():
            lists = _lists(
                catalogue.user_codes[side],
                catalogue.item_codes[side],
                _prediction(frame, prediction),
                kind,
            )
            top = lists.top(k)
            users, items = lists.user[top], lists.item[top]
            per_user_items = np.bincount(users, minlength=lists.n_users)
            served = per_user_items > 0
            popularity_sum = np.bincount(
                users, weights=catalogue.interactions[items], minlength=lists.n_users
            )
            times = np.bincount(items, minlength=catalogue.n_items)
            recommended = times > 0
            universe = catalogue.in_reference | recommended
            reference_items = int(catalogue.in_reference.sum())
            values[side] = {
                "arp": _mean(popularity_sum[served] / per_user_items[served]),
                "coverage": (
                    float((recommended & catalogue.in_reference).sum() / reference_items)
                    if reference_items
                    else float("nan")
                ),
                "gini": gini(times[universe]),
                "users": int(served.sum()),
                "items": int(universe.sum()),
            }
            details[side] = {"most_recommended": _most_recommended(times, catalogue)}
        return self.result(values, details)


def _most_recommended(times: np.ndarray, catalogue: _Catalogue) -> list[dict[str, Any]]:
    """The items recommended most often (ties by id), bounded, for people."""
    codes = np.flatnonzero(times)
    shown = codes[np.lexsort((codes, -times[codes]))][:MAX_ITEMS_SHOWN]
    return [
        {
            "item": label_text(catalogue.item_ids[c]),
            "times": int(times[c]),
            "popularity": float(catalogue.interactions[c]),
        }
        for c in shown
    ]


class Novelty(Metric):
    """How unfamiliar the recommended items are, per side: the mean over all top-k
    recommendations (every user's top-k items pooled) of -log2(p(item)), p(item) the share of
    reference users who interacted with the item (target > 0). Higher: less popular, more novel
    items. Items nobody interacted with in the reference (absent from it, or present with target 0
    only) get p = half the smallest non-zero p, so they count as rarer than any item seen, with a
    finite self-information. The reference users are the distinct users with a row in the
    reference.

    Values: `novelty` (bits), `unseen_share` (share of the top-k recommendations of items nobody
    interacted with in the reference), `users` (users with a recommendation).
    """

    requires_reference: ClassVar[bool] = True

    def __init__(self, *, k: int, prediction_type: str = "score") -> None:
        super().__init__(k=_check_k(k), prediction_type=_check_prediction_type(prediction_type))

    def compute(self, ctx: Context) -> MetricResult:
        catalogue = _catalogue(ctx, self)
        prediction = _role(ctx, self, "prediction")
        k, kind = self.params["k"], self.params["prediction_type"]
        share = catalogue.interacting_users / max(catalogue.reference_users, 1)
        if not (share > 0).any():
            raise MetricError(
                "The reference has no interactions (no row with target > 0) to measure novelty "
                "against."
            )
        unseen = share == 0
        share[unseen] = share[~unseen].min() / 2
        information = -np.log2(share)
        values: dict[str, Any] = {}
        for side, frame in _sides(ctx).items():
            lists = _lists(
                catalogue.user_codes[side],
                catalogue.item_codes[side],
                _prediction(frame, prediction),
                kind,
            )
            top = lists.top(k)
            items = lists.item[top]
            values[side] = {
                "novelty": _mean(information[items]),
                "unseen_share": _mean(unseen[items].astype(np.float64)),
                "users": len(np.unique(lists.user[top])),
            }
        return self.result(values)


# ---- Personalization, diversity and serendipity -------------------------------------------------


class Personalization(Metric):
    """How different the users' top-k lists are, per side: 1 - the mean cosine similarity over
    all pairs of users of their top-k item sets (binary user x item vectors). 1: no two users
    share an item; 0: everyone gets the same list. Higher is more personal.

    Exact over all users, with no sampling: for unit vectors x_u, the sum of the similarities over
    all ordered pairs is |sum_u x_u|^2 - n, so the mean pairwise similarity costs one pass over the
    sparse user x item matrix (a sparse matrix-vector product) instead of the n x n product.
    Values: `personalization` (NaN with fewer than two users), `users` (users with a
    recommendation).
    """

    def __init__(self, *, k: int, prediction_type: str = "score") -> None:
        super().__init__(k=_check_k(k), prediction_type=_check_prediction_type(prediction_type))

    def compute(self, ctx: Context) -> MetricResult:
        user = _role(ctx, self, "user_id")
        item = _role(ctx, self, "item_id")
        prediction = _role(ctx, self, "prediction")
        k, kind = self.params["k"], self.params["prediction_type"]
        values: dict[str, Any] = {}
        for side, frame in _sides(ctx).items():
            lists = _lists(
                _codes(frame[user]), _codes(frame[item]), _prediction(frame, prediction), kind
            )
            top = lists.top(k)
            values[side] = _personalization(lists.user[top], lists.item[top], lists.n_users)
        return self.result(values)


def _personalization(users: np.ndarray, items: np.ndarray, n_users: int) -> dict[str, Any]:
    n_items = int(items.max(initial=-1)) + 1
    matrix = sparse.csr_matrix(
        (np.ones(len(users)), (users, items)), shape=(n_users, max(n_items, 1))
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # a set: a duplicated (user, item) row counts once
    sizes = np.diff(matrix.indptr)
    served = sizes > 0
    n = int(served.sum())
    if n < 2:
        return {"personalization": float("nan"), "users": n}
    scale = np.zeros(n_users)
    scale[served] = 1.0 / np.sqrt(sizes[served])
    unit_rows = sparse.diags(scale) @ matrix
    column_sums = unit_rows.T @ np.ones(n_users)
    similarity = (float(column_sums @ column_sums) - n) / (n * (n - 1))
    return {"personalization": 1.0 - similarity, "users": n}


class Diversity(Metric):
    """Intra-list diversity, per side: per user, the mean cosine distance (1 - cosine similarity)
    over all pairs of their top-k items, the items described by the numeric columns
    `item_features` read from the rows; averaged over users with at least two such items. Higher:
    more varied lists (0: every list holds alike items; distances lie in [0, 2]).

    Top-k items with a null feature, or with features all zero (no direction), are left out of
    the pairs (counted in the details). Values: `diversity`, `users`.
    """

    def __init__(self, *, k: int, item_features: list[str], prediction_type: str = "score") -> None:
        super().__init__(
            k=_check_k(k),
            item_features=_check_features(item_features),
            prediction_type=_check_prediction_type(prediction_type),
        )

    def compute(self, ctx: Context) -> MetricResult:
        user = _role(ctx, self, "user_id")
        item = _role(ctx, self, "item_id")
        prediction = _role(ctx, self, "prediction")
        k, kind = self.params["k"], self.params["prediction_type"]
        features = self.params["item_features"]
        values: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for side, frame in _sides(ctx).items():
            vectors = _features(frame, features)
            lists = _lists(
                _codes(frame[user]),
                _codes(frame[item]),
                _prediction(frame, prediction),
                kind,
                then_by=tuple(vectors.T),
            )
            top = lists.top(k)
            unit, usable = _unit(vectors[lists.rows[top]])
            users = lists.user[top][usable]
            unit = unit[usable]
            sums = np.column_stack(
                [
                    np.bincount(users, weights=unit[:, j], minlength=lists.n_users)
                    for j in range(unit.shape[1])
                ]
            )
            counts = np.bincount(users, minlength=lists.n_users).astype(np.float64)
            paired = counts >= 2
            squared = np.einsum("ij,ij->i", sums[paired], sums[paired])
            similarity = (squared - counts[paired]) / (counts[paired] * (counts[paired] - 1))
            values[side] = {"diversity": _mean(1.0 - similarity), "users": int(paired.sum())}
            details[side] = {"items_without_features": int((~usable).sum())}
        return self.result(values, details)


def _unit(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows scaled to unit length, and which rows could be (finite, not all zero)."""
    finite = np.isfinite(vectors).all(axis=1)
    filled = np.where(finite[:, None], vectors, 0.0)
    norms = np.sqrt(np.einsum("ij,ij->i", filled, filled))
    usable = finite & (norms > 0)
    unit = np.zeros_like(filled)
    unit[usable] = filled[usable] / norms[usable, None]
    return unit, usable


class Serendipity(Metric):
    """Relevant recommendations unlike what the user knew, in the current data.

    A user's history is the mean feature vector (numeric columns `item_features`, read from the
    rows) of the items they interacted with (target > 0) in the REFERENCE data. A top-k item is
    unexpected when the cosine distance between its features and the user's history is greater
    than `distance_threshold`. Users without a reference history are skipped (counted as
    `users_without_history`); so are the rows with a null target (not labelled).

    - `serendipity`: per user, the number of top-k items that are both relevant (target > 0) and
      unexpected, divided by k (as precision is); averaged over users with a history. Higher:
      more useful surprises. This is the usual |unexpected ∩ useful| / list length.
    - `unexpected_relevant_share`: per user with at least one relevant top-k item, the share of
      their relevant top-k items that are unexpected; averaged over those users.
    - `users`: users with a history; `users_without_history`.

    Items with a null or all-zero feature vector cannot be judged and count as expected. Only the
    current data is scored: the reference is the history itself.
    """

    requires_reference: ClassVar[bool] = True

    def __init__(
        self,
        *,
        k: int,
        item_features: list[str],
        distance_threshold: float = 0.5,
        prediction_type: str = "score",
    ) -> None:
        if (
            isinstance(distance_threshold, bool)
            or not isinstance(distance_threshold, (int, float))
            or not 0 <= distance_threshold <= 2
        ):
            raise ValueError(
                f"distance_threshold must be a cosine distance in [0, 2], not {distance_threshold!r}."
            )
        super().__init__(
            k=_check_k(k),
            item_features=_check_features(item_features),
            distance_threshold=float(distance_threshold),
            prediction_type=_check_prediction_type(prediction_type),
        )

    def compute(self, ctx: Context) -> MetricResult:
        user = _role(ctx, self, "user_id")
        item = _role(ctx, self, "item_id")
        prediction = _role(ctx, self, "prediction")
        target = _role(ctx, self, "target")
        k, kind = self.params["k"], self.params["prediction_type"]
        threshold = self.params["distance_threshold"]
        features = self.params["item_features"]
        frames = _sides(ctx)
        current, reference = frames["current"], frames["reference"]
        relevance = _target(current, target, "current")
        history_relevance = _target(reference, target, "reference")
        user_codes, _ = _shared_codes(frames, user)
        n_codes = int(max(c.max(initial=-1) for c in user_codes.values())) + 1

        # History: the mean feature vector of each reference user's interactions.
        history_vectors = _features(reference, features)
        ref_users = user_codes["reference"]
        interacted = (
            (ref_users >= 0) & (history_relevance > 0) & np.isfinite(history_vectors).all(axis=1)
        )
        history = np.column_stack(
            [
                np.bincount(
                    ref_users[interacted],
                    weights=history_vectors[interacted, j],
                    minlength=n_codes,
                )
                for j in range(len(features))
            ]
        )
        history_unit, has_history = _unit(history)  # the direction of the mean is that of the sum

        labelled = ~np.isnan(relevance)
        current_vectors = _features(current, features)
        lists = _lists(
            user_codes["current"],
            _codes(current[item]),
            _prediction(current, prediction),
            kind,
            keep=labelled,
            then_by=(relevance, *current_vectors.T),
        )
        top = lists.top(k)
        vectors, usable = _unit(current_vectors[lists.rows])
        owner = lists.user_code  # shared user code of each sorted row
        similarity = np.einsum("ij,ij->i", vectors, history_unit[owner])
        unexpected = usable & has_history[owner] & (1.0 - similarity > threshold)
        relevant_top = top & (relevance[lists.rows] > 0)

        user_has_history = np.zeros(lists.n_users, dtype=bool)
        user_has_history[lists.user] = has_history[owner]
        surprises = np.bincount(
            lists.user[relevant_top & unexpected], minlength=lists.n_users
        ).astype(np.float64)
        relevant = np.bincount(lists.user[relevant_top], minlength=lists.n_users).astype(np.float64)
        judged = user_has_history & (relevant > 0)
        values = {
            "current": {
                "serendipity": _mean(surprises[user_has_history] / k),
                "unexpected_relevant_share": _mean(surprises[judged] / relevant[judged]),
                "users": int(user_has_history.sum()),
                "users_without_history": int((~user_has_history).sum()),
            }
        }
        return self.result(values)


# ---- RankingBias --------------------------------------------------------------------------------


class RankingBias(Metric):
    """How the top-k recommendations spread over the values of a categorical column, per side:
    an item attribute (genre: item bias) or a user attribute (country: user bias), read from the
    rows.

    - `top_k_share_gini`: Gini index of the number of top-k recommendations per category, over
      the categories present in that side's data (categories never recommended count 0). 0: every
      category gets as many recommendations; near 1: one category takes them all.
    - `entropy`: Shannon entropy (natural log) of the shares of the top-k recommendations per
      category; higher is more even (at most log of the number of categories).
    - `categories`: categories in the data; `recommended_categories`: those in some top-k.

    Details: for the 20 categories most recommended, their share of the top-k recommendations
    against their share of the rows in the data (of that side). Null values are left out.
    """

    def __init__(self, *, k: int, column: str, prediction_type: str = "score") -> None:
        if not isinstance(column, str) or not column:
            raise ValueError(f"column must be a column name, not {column!r}.")
        super().__init__(
            k=_check_k(k), column=column, prediction_type=_check_prediction_type(prediction_type)
        )

    def compute(self, ctx: Context) -> MetricResult:
        user = _role(ctx, self, "user_id")
        item = _role(ctx, self, "item_id")
        prediction = _role(ctx, self, "prediction")
        column = self.params["column"]
        if column not in ctx.current.columns:
            raise MetricError(f"Column {column!r} is not in the data.")
        k, kind = self.params["k"], self.params["prediction_type"]
        values: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for side, frame in _sides(ctx).items():
            categories, labels = _factorize(frame[column])
            n_categories = len(labels)
            lists = _lists(
                _codes(frame[user]),
                _codes(frame[item]),
                _prediction(frame, prediction),
                kind,
                then_by=(categories,),
            )
            top_categories = categories[lists.rows[lists.top(k)]]
            top_counts = np.bincount(top_categories[top_categories >= 0], minlength=n_categories)
            row_counts = np.bincount(categories[categories >= 0], minlength=n_categories)
            values[side] = {
                "top_k_share_gini": gini(top_counts),
                "entropy": entropy(top_counts),
                "categories": n_categories,
                "recommended_categories": int((top_counts > 0).sum()),
            }
            shown = ranked(labels, top_counts)[:MAX_CATEGORIES_SHOWN]
            top_total, row_total = int(top_counts.sum()), int(row_counts.sum())
            details[side] = [
                {
                    "value": label_text(labels[i]),
                    "top_k_share": top_counts[i] / top_total if top_total else None,
                    "data_share": row_counts[i] / row_total,
                }
                for i in shown
            ]
        return self.result(values, details)
