"""Drift of a text column: a domain classifier tries to tell reference texts from current ones.

If it cannot (ROC AUC near 0.5), the texts look alike; the better it does, the more they drifted.
The classifier is multinomial naive Bayes over hashed word unigrams and bigrams, scored by two-fold
cross-validation, in NumPy and SciPy only (no scikit-learn, nothing downloaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse, stats

DEFAULT_THRESHOLD = 0.55
# How many typical words each side reports.
TOP_WORDS = 10


class TextDrift(NamedTuple):
    auc: float  # ROC AUC of telling current from reference, out of fold; 0.5 = indistinguishable
    drifted: bool  # auc >= threshold
    threshold: float
    # The words most typical of each side (at most 10 each), to explain a drift.
    reference_words: list[str]
    current_words: list[str]


def domain_classifier_drift(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_samples: int = 5000,
    n_features: int = 2**16,
    seed: int = 0,
) -> TextDrift:
    """Train on half of each sample, score the other half, and the other way round; report the
    pooled out-of-fold ROC AUC. Nulls are dropped by the caller. Samples larger than `max_samples`
    are subsampled with `seed`. Deterministic for the same inputs, in any order."""
    rng = np.random.default_rng(seed)
    reference = _subsample(reference, max_samples, rng)
    current = _subsample(current, max_samples, rng)
    n_reference, n_current = len(reference), len(current)
    if n_reference < 2 or n_current < 2:  # nothing to train on and score on both sides
        return TextDrift(float("nan"), False, threshold, [], [])
    words = (
        pd.Series([*reference, *current], dtype=object).astype(str).str.lower().str.findall(r"\w+")
    )
    rows, tokens = _unigrams_and_bigrams(words)
    buckets = (pd.util.hash_array(tokens) % np.uint64(n_features)).astype(np.int64)
    counts = sparse.csr_array(
        (np.ones(rows.size), (rows, buckets)), shape=(len(words), n_features)
    )  # duplicate (row, bucket) pairs are summed
    is_current = np.r_[np.zeros(n_reference, dtype=bool), np.ones(n_current, dtype=bool)]

    # Two folds, split per distinct text (by its words): the copies of a text on each side
    # alternate between the folds from a random start shared by both sides. A plain row split
    # would train on a text with one label and score its copy with the other, pushing identical
    # samples far below 0.5; putting all copies in one fold would leave a few often repeated texts
    # never seen in training. The distinct texts are sorted before drawing their starts, so the
    # folds do not depend on the row order.
    keys, distinct = pd.factorize(words.str.join(" "), sort=True)
    copy = pd.DataFrame({"side": is_current, "key": keys}).groupby(["side", "key"]).cumcount()
    fold = (copy.to_numpy() + rng.integers(0, 2, size=len(distinct))[keys]) % 2
    scores = np.empty(len(words))
    for test in (fold == 0, fold == 1):
        train = ~test
        weights, prior = _naive_bayes(counts[train], is_current[train])
        scores[test] = counts[test] @ weights + prior
    auc = _roc_auc(scores, is_current)

    weights, _ = _naive_bayes(counts, is_current)
    reference_words, current_words = _typical_words(weights, counts, buckets, tokens)
    return TextDrift(auc, bool(auc >= threshold), threshold, reference_words, current_words)


def _subsample(texts: Sequence[str], limit: int, rng: np.random.Generator) -> list[str]:
    if len(texts) <= limit:
        return list(texts)
    # From the sorted texts, so the subsample does not depend on the row order.
    ordered = sorted(texts)
    return [ordered[i] for i in np.sort(rng.choice(len(texts), size=limit, replace=False))]


def _unigrams_and_bigrams(words: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(row, token) for every word and every pair of consecutive words of each text."""
    exploded = words.explode().dropna()
    rows = exploded.index.to_numpy(dtype=np.int64)
    unigrams = exploded.to_numpy(dtype=object)
    same_text = rows[1:] == rows[:-1]
    bigrams = unigrams[:-1][same_text] + " " + unigrams[1:][same_text]
    return np.r_[rows, rows[1:][same_text]], np.r_[unigrams, bigrams].astype(object)


def _naive_bayes(counts: sparse.csr_array, is_current: np.ndarray) -> tuple[np.ndarray, float]:
    """Multinomial naive Bayes with Laplace smoothing: per-bucket weights (log P(token | current)
    - log P(token | reference)) and the log prior odds, so a text's log odds of being current are
    counts @ weights + prior."""
    n_features = counts.shape[1]
    log_probability = []
    for side in (~is_current, is_current):
        totals = counts[side].sum(axis=0)
        log_probability.append(np.log(totals + 1) - np.log(totals.sum() + n_features))
    # Smoothed too, so a fold that lacks one side still gives finite scores.
    prior = np.log((is_current.sum() + 1) / ((~is_current).sum() + 1))
    return log_probability[1] - log_probability[0], float(prior)


def _roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC from ranks (the Mann-Whitney U of the positives over n_pos * n_neg), ties
    averaged."""
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    ranks = stats.rankdata(scores)
    u = ranks[positive].sum() - n_positive * (n_positive + 1) / 2
    return float(u / (n_positive * n_negative))


def _typical_words(
    weights: np.ndarray, counts: sparse.csr_array, buckets: np.ndarray, tokens: np.ndarray
) -> tuple[list[str], list[str]]:
    """The tokens of the buckets leaning most to each side, most typical first."""
    seen = np.flatnonzero(counts.sum(axis=0))  # unseen buckets only carry the smoothing
    order = seen[np.lexsort((seen, weights[seen]))]  # by weight, ties by bucket
    current_side = order[::-1][weights[order[::-1]] > 0][:TOP_WORDS]
    reference_side = order[weights[order] < 0][:TOP_WORDS]
    # Several tokens can share a bucket; report the most frequent one of those seen.
    occurrences = pd.DataFrame({"bucket": buckets, "token": tokens})
    occurrences = occurrences[occurrences["bucket"].isin(np.r_[current_side, reference_side])]
    frequency = occurrences.value_counts().reset_index(name="n")
    frequency = frequency.sort_values(["n", "token"], ascending=[False, True])
    word_of = frequency.drop_duplicates("bucket").set_index("bucket")["token"]
    return [word_of[b] for b in reference_side], [word_of[b] for b in current_side]
