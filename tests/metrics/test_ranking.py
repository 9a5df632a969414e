"""Ranking and recommendation metrics: hand-computed cases, an independent straightforward
implementation (plain Python loops over users) on random data, row-order invariance, edge cases."""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import metrics.core.base
from metrics import DataDefinition, Report
from metrics.computations.ranking import (
    Diversity,
    Novelty,
    Personalization,
    Popularity,
    RankingBias,
    RankingQuality,
    ScoreDistribution,
    Serendipity,
)
from metrics.core.snapshot import snapshot_schema

TOL = 1e-9
QUALITY_KEYS = ("precision", "recall", "f_beta", "map", "mar", "ndcg", "mrr", "hit_rate")
FEATURES = ["f1", "f2", "f3"]


def definition(prediction: str | None = "pred", **overrides: Any) -> DataDefinition:
    roles: dict[str, Any] = {
        "user_id": "user",
        "item_id": "item",
        "prediction": prediction,
        "target": "target",
    }
    roles.update(overrides)
    return DataDefinition(**{k: v for k, v in roles.items() if v is not None})


def run_one(
    metric: Any,
    current: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    prediction: str | None = "pred",
    **roles: Any,
) -> Any:
    run = Report([metric], definition=definition(prediction, **roles)).run(current, reference)
    return run.metric(metric)


def ok(metric: Any, current: pd.DataFrame, reference: pd.DataFrame | None = None, **kw: Any):
    result = run_one(metric, current, reference, **kw)
    assert result.status == "ok", result.reason
    return result


def assert_close(actual: float, expected: float, what: str = "") -> None:
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), f"{what}: {actual} is not NaN"
    else:
        assert actual == pytest.approx(expected, abs=TOL, rel=TOL), what


# ---- (a) hand-computed cases ----------------------------------------------------------------------

# user, item, score, rank (the same order as the score), graded relevance.
# A: i6 is unlabelled (left out). i2 and i3 tie at 0.8: i2 goes first (item id). i5 is relevant but
#    not recommended (null prediction). Order: i1 (1), i2 (0), i3 (2), i4 (0); relevant: i1, i3, i5.
# B: no relevant item; i1 and i3 tie. C: only two items; its relevant item is second.
HAND_ROWS = [
    ("C", "i5", 0.2, 2, 1.0),
    ("A", "i3", 0.8, 3, 2.0),
    ("B", "i1", 0.5, 2, 0.0),
    ("A", "i6", 0.95, 1, np.nan),
    ("A", "i5", np.nan, np.nan, 1.0),
    ("B", "i3", 0.5, 2, 0.0),
    ("A", "i1", 0.9, 2, 1.0),
    ("C", "i4", 0.6, 1, 0.0),
    ("A", "i2", 0.8, 3, 0.0),
    ("B", "i2", 0.7, 1, 0.0),
    ("A", "i4", 0.1, 5, 0.0),
]
L = 1 / math.log2(3)  # the discount of position 2

HAND_EXPECTED = {
    1: {
        "precision": 1 / 3,  # A 1/1, B 0, C 0
        "recall": 1 / 6,  # A 1/3, C 0
        "f_beta": 2 / 9,
        "map": 1 / 2,  # A 1/min(1, 3), C 0
        "mar": 1 / 6,  # A 1/3, C 0
        "ndcg": 1 / 4,  # A 1/2 (ideal: grade 2 first), C 0
        "mrr": 1 / 2,
        "hit_rate": 1 / 2,
    },
    2: {
        "precision": 1 / 3,  # A 1/2, B 0, C 1/2
        "recall": 2 / 3,  # A 1/3, C 1
        "f_beta": 4 / 9,
        "map": 1 / 2,  # A 1/min(2, 3), C (1/2)/1
        "mar": 5 / 12,  # A (1/3 + 1/3)/2, C (0 + 1)/2
        "ndcg": (1 / (2 + L) + L) / 2,
        "mrr": 3 / 4,  # A 1, C 1/2
        "hit_rate": 1.0,
    },
    3: {
        "precision": 1 / 3,  # A 2/3, B 0, C 1/3
        "recall": 5 / 6,  # A 2/3, C 1
        "f_beta": 10 / 21,
        "map": 19 / 36,  # A (1 + 2/3)/3, C (1/2)/1
        "mar": 5 / 9,  # A (1/3 + 1/3 + 2/3)/3, C (0 + 1 + 1)/3
        "ndcg": (2 / (2.5 + L) + L) / 2,  # A: DCG 1 + 2/2, ideal 2 + L + 1/2
        "mrr": 3 / 4,
        "hit_rate": 1.0,
    },
}


def hand_frame(rows: list[tuple] = HAND_ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user", "item", "pred", "rank", "target"])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("prediction_type", ["score", "rank"])
def test_ranking_quality_by_hand(k, prediction_type):
    column = "pred" if prediction_type == "score" else "rank"
    metric = RankingQuality(k=k, prediction_type=prediction_type)
    result = ok(metric, hand_frame(), prediction=column)
    values = result.values["current"]
    for key, expected in HAND_EXPECTED[k].items():
        assert_close(values[key], expected, f"k={k} {key}")
    assert values["users"] == 3
    assert values["users_without_relevant"] == 1
    assert values["labelled_rows"] == 10
    assert "reference" not in result.values


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_oracle_agrees_with_the_hand_computation(k):
    # The independent implementation below, checked against the same hand-computed values.
    values = oracle_quality(hand_frame(), k, "score", 1.0)
    for key, expected in HAND_EXPECTED[k].items():
        assert_close(values[key], expected, f"k={k} {key}")


def test_f_beta_uses_beta():
    values = ok(RankingQuality(k=3, beta=2.0), hand_frame()).values["current"]
    # P = 1/3, R = 5/6: 5PR / (4P + R)
    assert_close(values["f_beta"], 25 / 39)


def test_reference_side_is_computed_on_its_own():
    reference = hand_frame(
        [("A", "x", 0.9, 1, 1), ("A", "y", 0.1, 2, 0), ("B", "x", 0.2, 2, 0), ("B", "y", 0.8, 1, 1)]
    )
    result = ok(RankingQuality(k=1), hand_frame(), reference)
    assert_close(result.values["current"]["precision"], 1 / 3)
    assert result.values["reference"] == pytest.approx(
        {
            **dict.fromkeys(QUALITY_KEYS, 1.0),
            "users": 2,
            "users_without_relevant": 0,
            "labelled_rows": 4,
        }
    )


# ---- (b) an independent implementation on random data ----------------------------------------


def ordered(rows: list[Any], kind: str) -> list[Any]:
    """Predicted rows best first (score: highest; rank: lowest), ties by item id: plain Python
    sorting."""
    if kind == "score":
        return sorted((r for r in rows if not pd.isna(r.pred)), key=lambda r: (-r.pred, r.item))
    return sorted((r for r in rows if not pd.isna(r.rank)), key=lambda r: (r.rank, r.item))


def by_user(frame: pd.DataFrame) -> dict[Any, list[Any]]:
    users: dict[Any, list[Any]] = defaultdict(list)
    for row in frame.itertuples(index=False):
        users[row.user].append(row)
    return users


def top_lists(frame: pd.DataFrame, k: int, kind: str = "score") -> dict[Any, list[Any]]:
    return {user: ordered(rows, kind)[:k] for user, rows in by_user(frame).items()}


def oracle_quality(frame: pd.DataFrame, k: int, kind: str, beta: float) -> dict[str, float]:
    labelled = frame[frame["target"].notna()]
    precision, recall, ap, ar, ndcg, rr, hit = [], [], [], [], [], [], []
    for rows in by_user(labelled).values():
        top = ordered(rows, kind)[:k]
        grades = [float(r.target) for r in top]
        n_relevant = sum(float(r.target) > 0 for r in rows)
        hits_at = [sum(g > 0 for g in grades[:i]) for i in range(1, k + 1)]
        precision.append(hits_at[-1] / k)
        if n_relevant == 0:
            continue
        recall.append(hits_at[-1] / n_relevant)
        ap.append(
            sum(hits_at[i] / (i + 1) for i, g in enumerate(grades) if g > 0) / min(k, n_relevant)
        )
        ar.append(sum(h / n_relevant for h in hits_at) / k)
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(grades))
        ideal = sorted((float(r.target) for r in rows), reverse=True)[:k]
        ndcg.append(dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal)))
        first = next((i + 1 for i, g in enumerate(grades) if g > 0), None)
        rr.append(1 / first if first else 0.0)
        hit.append(float(hits_at[-1] > 0))
    p = float(np.mean(precision))
    r = float(np.mean(recall)) if recall else float("nan")
    f = (1 + beta**2) * p * r / (beta**2 * p + r) if (p + r) > 0 else 0.0
    return {
        "precision": p,
        "recall": r,
        "f_beta": f,
        "map": float(np.mean(ap)),
        "mar": float(np.mean(ar)),
        "ndcg": float(np.mean(ndcg)),
        "mrr": float(np.mean(rr)),
        "hit_rate": float(np.mean(hit)),
        "users": len(precision),
        "users_without_relevant": len(precision) - len(recall),
    }


def oracle_gini(counts: Sequence[float]) -> float:
    """Mean absolute difference over twice the mean: an independent form of the Gini index."""
    x = np.asarray(counts, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * x.sum()))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def usable(vector: np.ndarray) -> bool:
    return bool(np.isfinite(vector).all() and np.any(vector != 0))


def random_frame(
    seed: int, users: range, items: range, *, graded: bool, string_items: bool
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for user in users:
        n = int(rng.integers(1, 16))
        for item in rng.choice(np.array(items), size=n, replace=False):
            rows.append((user, int(item)))
    frame = pd.DataFrame(rows, columns=["user", "item"])
    n = len(frame)
    frame["pred"] = rng.integers(0, 12, n) / 10  # coarse scores: many ties
    frame.loc[rng.random(n) < 0.1, "pred"] = np.nan  # not recommended
    silent = rng.choice(np.array(users), size=5, replace=False)  # users with no prediction
    frame.loc[frame["user"].isin(silent), "pred"] = np.nan
    frame["rank"] = frame.groupby("user")["pred"].rank(ascending=False, method="min")
    if graded:
        frame["target"] = rng.choice([0.0, 0.0, 1.0, 2.0, 3.5], n)
        frame.loc[rng.random(n) < 0.05, "target"] = np.nan
    else:
        target = pd.array(rng.random(n) < 0.3, dtype="boolean")
        target[rng.random(n) < 0.05] = pd.NA
        frame["target"] = target
    features = rng.normal(size=(n, len(FEATURES)))
    features[rng.random(n) < 0.03, 0] = np.nan
    features[rng.random(n) < 0.02] = 0.0
    for j, name in enumerate(FEATURES):
        frame[name] = features[:, j]
    frame["genre"] = rng.choice(["drama", "comedy", "horror", "news"], n, p=[0.5, 0.3, 0.15, 0.05])
    if string_items:
        frame["item"] = [f"it{i}" for i in frame["item"]]  # text order differs from numeric
    return frame


@pytest.fixture(scope="module", params=[(True, False), (False, True)], ids=["graded", "binary"])
def random_data(request) -> tuple[pd.DataFrame, pd.DataFrame]:
    graded, string_items = request.param
    current = random_frame(11, range(300), range(80), graded=graded, string_items=string_items)
    reference = random_frame(
        12, range(50, 350), range(10, 90), graded=graded, string_items=string_items
    )
    return current, reference


@pytest.mark.parametrize("k", [1, 3, 5, 10, 20])
@pytest.mark.parametrize("prediction_type", ["score", "rank"])
def test_ranking_quality_matches_the_oracle(random_data, k, prediction_type):
    current, reference = random_data
    column = "pred" if prediction_type == "score" else "rank"
    metric = RankingQuality(k=k, prediction_type=prediction_type, beta=0.5)
    result = ok(metric, current, reference, prediction=column)
    for side, frame in (("current", current), ("reference", reference)):
        expected = oracle_quality(frame, k, prediction_type, 0.5)
        values = result.values[side]
        for key, value in expected.items():
            assert_close(values[key], value, f"{side} k={k} {key}")
        assert values["labelled_rows"] == int(frame["target"].notna().sum())
        assert values["users_without_relevant"] > 0  # the data does exercise the exclusion


def test_rank_and_score_columns_agree(random_data):
    current, _ = random_data
    for k in (2, 7):
        by_score = ok(RankingQuality(k=k), current).values
        by_rank = ok(RankingQuality(k=k, prediction_type="rank"), current, prediction="rank").values
        assert_same(by_rank, by_score)


def reference_popularity(reference: pd.DataFrame) -> tuple[Counter, set, dict[Any, float], bool]:
    interactions: Counter = Counter()
    users_by_item: dict[Any, set] = defaultdict(set)
    for row in reference.itertuples(index=False):
        if not pd.isna(row.target) and float(row.target) > 0:
            interactions[row.item] += 1
            users_by_item[row.item].add(row.user)
    n_users = reference["user"].nunique()
    share = {item: len(users) / n_users for item, users in users_by_item.items()}
    return interactions, set(reference["item"]), share, n_users


@pytest.mark.parametrize("k", [1, 4, 10])
def test_popularity_and_novelty_match_the_oracle(random_data, k):
    current, reference = random_data
    interactions, reference_items, share, _ = reference_popularity(reference)
    floor = min(share.values()) / 2
    popularity = ok(Popularity(k=k), current, reference).values
    novelty = ok(Novelty(k=k), current, reference).values
    for side, frame in (("current", current), ("reference", reference)):
        lists = {u: rows for u, rows in top_lists(frame, k).items() if rows}
        arp = np.mean([np.mean([interactions[r.item] for r in rows]) for rows in lists.values()])
        recommended = Counter(r.item for rows in lists.values() for r in rows)
        universe = reference_items | set(recommended)
        assert_close(popularity[side]["arp"], arp, f"{side} arp")
        assert_close(
            popularity[side]["coverage"],
            len(reference_items & set(recommended)) / len(reference_items),
            f"{side} coverage",
        )
        assert_close(
            popularity[side]["gini"],
            oracle_gini([recommended[i] for i in universe]),
            f"{side} gini",
        )
        assert popularity[side]["users"] == len(lists)
        assert popularity[side]["items"] == len(universe)
        information = [
            -math.log2(share.get(r.item, floor)) for rows in lists.values() for r in rows
        ]
        assert_close(novelty[side]["novelty"], np.mean(information), f"{side} novelty")
        unseen = [r.item not in share for rows in lists.values() for r in rows]
        assert_close(novelty[side]["unseen_share"], np.mean(unseen), f"{side} unseen")
    assert novelty["current"]["unseen_share"] > 0  # items 0..9 are not in the reference


@pytest.mark.parametrize("k", [1, 3, 10])
def test_personalization_matches_the_oracle(random_data, k):
    current, reference = random_data
    values = ok(Personalization(k=k), current, reference).values
    for side, frame in (("current", current), ("reference", reference)):
        lists = {u: {r.item for r in rows} for u, rows in top_lists(frame, k).items() if rows}
        items = sorted({i for s in lists.values() for i in s}, key=str)
        matrix = np.array([[i in s for i in items] for s in lists.values()], dtype=float)
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        similarity = unit @ unit.T
        upper = similarity[np.triu_indices(len(lists), k=1)]
        assert_close(values[side]["personalization"], 1 - upper.mean(), side)
        assert values[side]["users"] == len(lists)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_diversity_matches_the_oracle(random_data, k):
    current, reference = random_data
    values = ok(Diversity(k=k, item_features=FEATURES), current, reference).values
    for side, frame in (("current", current), ("reference", reference)):
        per_user = []
        for rows in top_lists(frame, k).values():
            vectors = [np.array([getattr(r, f) for f in FEATURES]) for r in rows]
            vectors = [v for v in vectors if usable(v)]
            if len(vectors) < 2:
                continue
            pairs = itertools.combinations(vectors, 2)
            per_user.append(np.mean([1 - cosine(a, b) for a, b in pairs]))
        assert_close(values[side]["diversity"], np.mean(per_user), side)
        assert values[side]["users"] == len(per_user)


@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("threshold", [0.5, 1.0])
def test_serendipity_matches_the_oracle(random_data, k, threshold):
    current, reference = random_data
    metric = Serendipity(k=k, item_features=FEATURES, distance_threshold=threshold)
    values = ok(metric, current, reference).values
    assert set(values) == {"current"}
    history: dict[Any, list[np.ndarray]] = defaultdict(list)
    for row in reference.itertuples(index=False):
        vector = np.array([getattr(row, f) for f in FEATURES])
        if not pd.isna(row.target) and float(row.target) > 0 and np.isfinite(vector).all():
            history[row.user].append(vector)
    profiles = {u: np.mean(v, axis=0) for u, v in history.items()}
    profiles = {u: p for u, p in profiles.items() if usable(p)}
    labelled = current[current["target"].notna()]
    serendipity, share, without = [], [], 0
    for user, rows in top_lists(labelled, k).items():
        if user not in profiles:
            without += 1
            continue
        relevant = [r for r in rows if float(r.target) > 0]
        surprising = 0
        for r in relevant:
            vector = np.array([getattr(r, f) for f in FEATURES])
            if usable(vector) and 1 - cosine(vector, profiles[user]) > threshold:
                surprising += 1
        serendipity.append(surprising / k)
        if relevant:
            share.append(surprising / len(relevant))
    got = values["current"]
    assert_close(got["serendipity"], np.mean(serendipity), "serendipity")
    assert_close(got["unexpected_relevant_share"], np.mean(share), "share")
    assert got["users"] == len(serendipity)
    assert got["users_without_history"] == without > 0
    assert got["serendipity"] > 0


@pytest.mark.parametrize("k", [1, 5])
def test_ranking_bias_matches_the_oracle(random_data, k):
    current, reference = random_data
    result = ok(RankingBias(k=k, column="genre"), current, reference)
    for side, frame in (("current", current), ("reference", reference)):
        counts = Counter(r.genre for rows in top_lists(frame, k).values() for r in rows)
        categories = sorted(frame["genre"].unique())
        top = [counts[c] for c in categories]
        values = result.values[side]
        assert_close(values["top_k_share_gini"], oracle_gini(top), side)
        assert_close(values["entropy"], float(stats.entropy(top)), side)
        assert values["categories"] == len(categories)
        data_share = frame["genre"].value_counts(normalize=True)
        shown = result.details[side]
        assert [row["value"] for row in shown] == sorted(categories, key=lambda c: (-counts[c], c))
        for row in shown:
            assert_close(row["top_k_share"], counts[row["value"]] / sum(top))
            assert_close(row["data_share"], data_share[row["value"]])


@pytest.mark.parametrize("k", [1, 6])
def test_score_distribution_matches_numpy(random_data, k):
    current, reference = random_data
    result = ok(ScoreDistribution(k=k, bins=7), current, reference)
    scores = {
        side: np.array([r.pred for rows in top_lists(frame, k).values() for r in rows])
        for side, frame in (("current", current), ("reference", reference))
    }
    for side, data in scores.items():
        values = result.values[side]
        assert values["count"] == len(data)
        assert_close(values["mean"], data.mean())
        assert_close(values["std"], data.std(ddof=1))
        own, _ = np.histogram(data, bins=7)
        assert_close(values["entropy"], float(stats.entropy(own)), side)
    low = min(s.min() for s in scores.values())
    high = max(s.max() for s in scores.values())
    distribution = result.distribution
    assert distribution.kind == "histogram"
    assert distribution.edges == pytest.approx(np.linspace(low, high, 8).tolist())
    for side, data in scores.items():
        shared, _ = np.histogram(data, bins=7, range=(low, high))
        assert getattr(distribution, side) == shared.tolist()


# ---- (c) row order -------------------------------------------------------------------------------


def all_metrics() -> list[Any]:
    return [
        RankingQuality(k=3),
        RankingQuality(k=5, prediction_type="rank"),
        ScoreDistribution(k=3),
        Popularity(k=3),
        Novelty(k=3),
        Personalization(k=3),
        Diversity(k=3, item_features=FEATURES),
        Serendipity(k=3, item_features=FEATURES),
        RankingBias(k=3, column="genre"),
    ]


def documents(current: pd.DataFrame, reference: pd.DataFrame) -> dict[str, dict]:
    # The rank column is the prediction for the rank metric; the score metrics read "pred".
    out = {}
    for prediction in ("pred", "rank"):
        chosen = [
            m
            for m in all_metrics()
            if (m.params["prediction_type"] == "rank") == (prediction == "rank")
        ]
        run = Report(chosen, definition=definition(prediction)).run(current, reference)
        out.update({r.metric_id: r.to_dict() for r in run.results})
    return out


def assert_same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}.{i}")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_row_order_does_not_matter(random_data):
    current, reference = random_data
    baseline = documents(current, reference)
    assert all(d["status"] == "ok" for d in baseline.values()), baseline
    rng = np.random.default_rng(5)
    for _ in range(2):
        shuffled = documents(
            current.iloc[rng.permutation(len(current))].reset_index(drop=True),
            reference.iloc[rng.permutation(len(reference))].reset_index(drop=True),
        )
        assert_same(shuffled, baseline)


def test_duplicated_pairs_do_not_depend_on_row_order(random_data):
    # Repeated (user, item, prediction) rows that differ in what the metrics read: relevance,
    # features, category. Their order in the lists must not come from the row order.
    current, reference = random_data
    rng = np.random.default_rng(8)
    copies = current.iloc[rng.choice(len(current), 300, replace=False)].copy()
    copies["target"] = copies["target"].iloc[rng.permutation(len(copies))].to_numpy()
    for column in [*FEATURES, "genre"]:
        copies[column] = copies[column].iloc[rng.permutation(len(copies))].to_numpy()
    doubled = pd.concat([current, copies], ignore_index=True)
    baseline = documents(doubled, reference)
    assert all(d["status"] == "ok" for d in baseline.values()), baseline
    quality = baseline['RankingQuality(beta=1.0,k=3,prediction_type="score")']
    assert quality["details"]["current"]["duplicated_pairs"] == 300
    assert quality["details"]["reference"]["duplicated_pairs"] == 0
    for _ in range(3):
        order = rng.permutation(len(doubled))
        assert_same(documents(doubled.iloc[order].reset_index(drop=True), reference), baseline)


def test_hand_case_row_order_does_not_matter():
    frame = hand_frame()
    expected = ok(RankingQuality(k=2), frame).values
    for seed in range(5):
        shuffled = frame.sample(frac=1, random_state=seed).reset_index(drop=True)
        assert_same(ok(RankingQuality(k=2), shuffled).values, expected)


def test_snapshot_fits_the_schema(random_data):
    current, reference = random_data
    run = Report(all_metrics()[:1] + all_metrics()[2:], definition=definition()).run(
        current, reference
    )
    schema = snapshot_schema()
    jsonschema.validate(run.dict(), schema)


# ---- (d) edge cases ------------------------------------------------------------------------------


def test_k_larger_than_every_list():
    values = ok(RankingQuality(k=10), hand_frame()).values["current"]
    assert_close(values["precision"], (2 / 10 + 0 + 1 / 10) / 3)  # still divided by k
    assert_close(values["recall"], (2 / 3 + 1) / 2)
    assert_close(values["map"], 19 / 36)
    assert_close(values["mar"], (6 / 10 + 9 / 10) / 2)  # A: 1/3, 1/3, then 2/3 eight times
    assert_close(values["ndcg"], HAND_EXPECTED[3]["ndcg"])
    assert_close(values["hit_rate"], 1.0)


def test_a_user_without_any_prediction_counts_as_zero():
    rows = [*HAND_ROWS, ("D", "i1", np.nan, np.nan, 1.0), ("D", "i2", np.nan, np.nan, 0.0)]
    result = ok(RankingQuality(k=2), hand_frame(rows))
    values = result.values["current"]
    assert values["users"] == 4
    assert values["users_without_relevant"] == 1
    assert_close(values["precision"], (1 / 2 + 0 + 1 / 2 + 0) / 4)
    assert_close(values["recall"], (1 / 3 + 1 + 0) / 3)
    assert_close(values["mrr"], (1 + 1 / 2 + 0) / 3)
    assert_close(values["hit_rate"], 2 / 3)
    assert_close(values["ndcg"], (1 / (2 + L) + L + 0) / 3)
    assert result.details["current"]["users_without_predictions"] == 1


def test_no_relevant_item_at_all_gives_nan_not_an_error():
    frame = hand_frame()
    frame["target"] = frame["target"].where(frame["target"].isna(), 0.0)
    values = ok(RankingQuality(k=2), frame).values["current"]
    assert values["precision"] == 0.0
    assert values["users_without_relevant"] == 3
    for key in ("recall", "f_beta", "map", "mar", "ndcg", "mrr", "hit_rate"):
        assert math.isnan(values[key]), key


@pytest.mark.parametrize("role", ["user_id", "item_id", "prediction", "target"])
@pytest.mark.parametrize(
    "metric",
    [RankingQuality(k=2), Serendipity(k=2, item_features=["pred"])],
    ids=["quality", "serendipity"],
)
def test_a_missing_role_is_named(role, metric):
    frame = hand_frame()
    frame["pred"] = frame["pred"].fillna(0.0)
    result = run_one(metric, frame, frame, **{role: None})
    assert result.status == "error"
    assert repr(role) in result.reason
    assert f"DataDefinition({role}=" in result.reason


@pytest.mark.parametrize(
    "metric",
    [
        ScoreDistribution(k=2),
        Popularity(k=2),
        Personalization(k=2),
        Diversity(k=2, item_features=["rank"]),
        RankingBias(k=2, column="item"),
    ],
    ids=lambda m: m.type,
)
def test_every_metric_names_a_missing_user_role(metric):
    frame = hand_frame()
    result = run_one(metric, frame, frame, user_id=None)
    assert result.status == "error"
    assert "'user_id'" in result.reason


def missing_labels_status() -> str:
    # The run turns MissingLabels into a skipped result once metrics.core.base defines it.
    return "skipped" if hasattr(metrics.core.base, "MissingLabels") else "error"


@pytest.mark.parametrize(
    "metric",
    [RankingQuality(k=2), Serendipity(k=2, item_features=["pred"])],
    ids=["quality", "serendipity"],
)
def test_an_empty_target_means_no_labels_yet(metric):
    frame = hand_frame()
    frame["pred"] = frame["pred"].fillna(0.0)
    reference = frame.copy()
    frame["target"] = np.nan
    result = run_one(metric, frame, reference)
    assert result.status == missing_labels_status()
    assert "No labels yet" in result.reason
    assert "'target'" in result.reason


def test_an_empty_reference_target_means_no_labels_for_popularity():
    frame = hand_frame()
    reference = frame.copy()
    reference["target"] = np.nan
    result = run_one(Popularity(k=2), frame, reference)
    assert result.status == missing_labels_status()
    assert "reference" in result.reason


@pytest.mark.parametrize(
    "metric",
    [
        Popularity(k=2),
        Novelty(k=2),
        Serendipity(k=2, item_features=["pred"]),
    ],
    ids=lambda m: m.type,
)
def test_reference_metrics_are_skipped_without_reference(metric):
    result = run_one(metric, hand_frame())
    assert result.status == "skipped"
    assert "reference" in result.reason.lower()


def test_score_distribution_refuses_ranks():
    result = run_one(
        ScoreDistribution(k=2, prediction_type="rank"), hand_frame(), prediction="rank"
    )
    assert result.status == "error"
    assert "rank" in result.reason


def test_negative_relevance_is_an_error():
    frame = hand_frame()
    frame.loc[0, "target"] = -1.0
    result = run_one(RankingQuality(k=2), frame)
    assert result.status == "error"
    assert "negative" in result.reason


def test_feature_columns_must_exist_and_be_numeric():
    frame = hand_frame()
    frame["genre"] = "drama"
    missing = run_one(Diversity(k=2, item_features=["nope"]), frame)
    assert missing.status == "error"
    assert "nope" in missing.reason
    text = run_one(Diversity(k=2, item_features=["genre"]), frame)
    assert text.status == "error"
    assert "numeric" in text.reason
    assert "genre" in text.reason


@pytest.mark.parametrize(
    "make",
    [
        lambda: RankingQuality(k=0),
        lambda: RankingQuality(k=2.5),  # type: ignore[arg-type]  # wrong on purpose
        lambda: RankingQuality(k=2, prediction_type="probability"),
        lambda: RankingQuality(k=2, beta=0),
        lambda: ScoreDistribution(k=2, bins=0),
        lambda: Diversity(k=2, item_features=[]),
        lambda: Diversity(k=2, item_features="f1"),  # type: ignore[arg-type]  # wrong on purpose
        lambda: Serendipity(k=2, item_features=["f1"], distance_threshold=3),
    ],
)
def test_bad_parameters_are_refused(make):
    with pytest.raises(ValueError, match="must"):
        make()


def test_popularity_and_novelty_by_hand():
    # Reference interactions: x by users 1, 2, 3; y by user 1; z seen with target 0 only.
    reference = pd.DataFrame(
        {
            "user": [1, 1, 2, 3, 3, 4],
            "item": ["x", "y", "x", "x", "z", "z"],
            "pred": [0.9, 0.8, 0.9, 0.5, 0.9, 0.1],
            "target": [1, 1, 1, 1, 0, 0],
        }
    )
    # Current top-1: user 1 -> y, user 2 -> w (new), user 3 -> x (tie with z, x first).
    current = pd.DataFrame(
        {
            "user": [1, 1, 2, 2, 3, 3],
            "item": ["y", "x", "w", "x", "z", "x"],
            "pred": [0.9, 0.1, 0.7, 0.6, 0.5, 0.5],
            "target": [1, 0, 0, 1, 0, 1],
        }
    )
    popularity = ok(Popularity(k=1), current, reference)
    values = popularity.values["current"]
    assert_close(values["arp"], (1 + 0 + 3) / 3)
    assert_close(values["coverage"], 2 / 3)  # x and y of x, y, z
    # Items x, y, z, w recommended 1, 1, 0, 1 times.
    assert_close(values["gini"], oracle_gini([1, 1, 0, 1]))
    assert popularity.details["current"]["most_recommended"][0] == {
        "item": "w",
        "times": 1,
        "popularity": 0.0,
    }
    novelty = ok(Novelty(k=1), current, reference).values["current"]
    # p(x) = 3/4, p(y) = 1/4; w and z: half the smallest, 1/8.
    assert_close(novelty["novelty"], (-math.log2(1 / 4) - math.log2(1 / 8) - math.log2(3 / 4)) / 3)
    assert_close(novelty["unseen_share"], 1 / 3)


def test_personalization_and_diversity_by_hand():
    frame = pd.DataFrame(
        {
            "user": ["a", "a", "b", "b", "c", "c"],
            "item": ["x", "y", "x", "y", "x", "z"],
            "pred": [2.0, 1.0, 2.0, 1.0, 2.0, 1.0],
            "target": [1, 0, 1, 0, 1, 0],
            "f1": [1.0, 0.0, 1.0, 0.0, 1.0, 1.0],
            "f2": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        }
    )
    # a and b share both items (similarity 1); each shares one of two with c (1/2).
    values = ok(Personalization(k=2), frame).values["current"]
    assert_close(values["personalization"], 1 - (1 + 0.5 + 0.5) / 3)
    # a, b: orthogonal items (distance 1); c: 45 degrees apart.
    diversity = ok(Diversity(k=2, item_features=["f1", "f2"]), frame).values["current"]
    assert_close(diversity["diversity"], (1 + 1 + (1 - 1 / math.sqrt(2))) / 3)
    same = ok(Personalization(k=1), frame).values["current"]
    assert_close(same["personalization"], 0.0)  # everyone's top-1 is x
