"""Text drift (the domain classifier) and embedding drift, against hand-built data and by-hand values."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import spatial, stats

from metrics.computations.drift_methods import METHODS
from metrics.computations.embedding_drift import centroid_distance, drifted_components_share
from metrics.computations.text_drift import TextDrift, _roc_auc, domain_classifier_drift

ROOT = Path(__file__).resolve().parents[2]
COMMON = [f"common{i}" for i in range(400)]
ALPHA = [f"alpha{i}" for i in range(300)]
BETA = [f"beta{i}" for i in range(300)]


def texts(vocabulary: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = np.array(vocabulary)
    return [
        " ".join(rng.choice(words, size=rng.integers(3, 15))).capitalize() + "." for _ in range(n)
    ]


# ---- text --------------------------------------------------------------------------------------


def test_the_same_texts_do_not_drift() -> None:
    sample = texts(COMMON, 400, seed=1)
    found = domain_classifier_drift(sample, sample)
    assert found.auc == pytest.approx(0.5, abs=0.1)
    assert not found.drifted
    # Every token is as frequent on both sides: none is typical of either.
    assert found.reference_words == []
    assert found.current_words == []


def test_samples_of_one_vocabulary_look_alike() -> None:
    found = domain_classifier_drift(texts(COMMON, 500, seed=2), texts(COMMON, 500, seed=3))
    assert found.auc == pytest.approx(0.5, abs=0.1)


def test_disjoint_vocabularies_drift() -> None:
    found = domain_classifier_drift(texts(ALPHA, 300, seed=4), texts(BETA, 200, seed=5))
    assert found.auc > 0.9
    assert found.drifted
    assert 1 <= len(found.reference_words) <= 10
    assert 1 <= len(found.current_words) <= 10
    # Words or pairs of words, each from its own side's vocabulary.
    assert all(w.startswith("alpha") for t in found.reference_words for w in t.split())
    assert all(w.startswith("beta") for t in found.current_words for w in t.split())


def test_a_new_topic_mixed_into_shared_words_drifts() -> None:
    reference = texts(COMMON + ALPHA, 400, seed=6)
    current = texts(COMMON + BETA, 400, seed=7)
    found = domain_classifier_drift(reference, current)
    assert found.auc > 0.9
    assert found.drifted
    assert sum(t.startswith("beta") for t in found.current_words) >= 8


def test_typical_words_are_ranked_by_smoothed_log_probability_ratio() -> None:
    # One word per text and a distinct count per word, so the ranking by hand has no ties: with
    # Laplace smoothing the ratio log((c+1)/(C+F)) - log((0+1)/(R+F)) grows with the count c.
    reference = [f"r{i}" for i in range(1, 13) for _ in range(i)]
    current = [f"c{i}" for i in range(1, 13) for _ in range(i * 2)]
    found = domain_classifier_drift(reference, current, n_features=2**20)
    assert found.current_words == [f"c{i}" for i in range(12, 2, -1)]
    assert found.reference_words == [f"r{i}" for i in range(12, 2, -1)]
    # Copies of a text alternate between the folds, so a repeated word is learnt; only r1, seen
    # once, is scored without having been seen.
    assert found.auc > 0.99
    assert found.drifted


def test_a_few_repeated_texts_are_learnt() -> None:
    reference = ["ok"] * 500 + ["fine"] * 500
    assert domain_classifier_drift(reference, ["error"] * 800).auc == 1.0
    assert domain_classifier_drift(reference, reference).auc == 0.5
    # 50/50 against 80/20: the best any classifier can do is AUC 0.65.
    shifted = ["ok"] * 800 + ["fine"] * 200
    assert domain_classifier_drift(reference, shifted).auc == pytest.approx(0.65)


def test_text_drift_is_deterministic_and_subsamples() -> None:
    reference, current = texts(COMMON + ALPHA, 900, seed=8), texts(COMMON + BETA, 700, seed=9)
    first = domain_classifier_drift(reference, current, max_samples=300)
    assert first == domain_classifier_drift(reference, current, max_samples=300)
    assert first.auc > 0.85
    other_seed = domain_classifier_drift(reference, current, max_samples=300, seed=1)
    assert other_seed.auc > 0.85


@pytest.mark.parametrize("max_samples", [5000, 250])
def test_text_drift_does_not_depend_on_row_order(max_samples: int) -> None:
    reference = texts(COMMON + ALPHA, 400, seed=12) * 2  # repeated texts too
    current = texts(COMMON + BETA[:20], 500, seed=13)
    found = domain_classifier_drift(reference, current, max_samples=max_samples)
    rng = np.random.default_rng(0)
    shuffled = domain_classifier_drift(
        [reference[i] for i in rng.permutation(len(reference))],
        [current[i] for i in rng.permutation(len(current))],
        max_samples=max_samples,
    )
    assert shuffled == found


@pytest.mark.slow
def test_text_drift_is_the_same_in_another_process() -> None:
    # Hashing must not depend on Python's per-process string hash seed (this process has a random
    # one). Few buckets, so collisions decide which word a bucket reports too.
    script = (
        "from metrics.computations.text_drift import domain_classifier_drift\n"
        "from tests.metrics.test_text_and_embedding_drift import texts, ALPHA, BETA, COMMON\n"
        "reference, current = texts(COMMON + ALPHA, 200, 10), texts(COMMON + BETA, 200, 11)\n"
        "print(domain_classifier_drift(reference, current, n_features=64))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    reference, current = texts(COMMON + ALPHA, 200, 10), texts(COMMON + BETA, 200, 11)
    here = domain_classifier_drift(reference, current, n_features=64)
    assert done.stdout == f"{here}\n"
    assert here.current_words


def test_too_few_texts_cannot_decide() -> None:
    found = domain_classifier_drift(["one text"], ["another", "text"])
    assert math.isnan(found.auc)
    assert found == TextDrift(found.auc, False, 0.55, [], [])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_is_the_share_of_correctly_ordered_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 8, size=60).astype(float)  # many ties
    positive = rng.random(60) < 0.4
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert _roc_auc(scores, positive) == pytest.approx(wins / (pos.size * neg.size), abs=1e-12)


# ---- embeddings --------------------------------------------------------------------------------


def clouds(shift: float, seed: int, d: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(500, d)), rng.normal(shift, 1.0, size=(400, d))


def test_shifted_clouds_drift_and_identical_ones_do_not() -> None:
    reference, current = clouds(0.5, seed=1)
    assert centroid_distance(reference, current).drifted
    assert centroid_distance(reference, current, metric="cosine").value >= 0
    assert drifted_components_share(reference, current).value == 1.0
    assert drifted_components_share(reference, current).drifted

    assert centroid_distance(reference, reference).value == 0.0
    assert not centroid_distance(reference, reference).drifted
    assert centroid_distance(reference, reference, metric="cosine").value == pytest.approx(
        0, abs=1e-12
    )
    assert drifted_components_share(reference, reference).value == 0.0
    assert not drifted_components_share(reference, reference).drifted


def test_centroid_distance_is_the_distance_of_the_means() -> None:
    reference, current = clouds(0.3, seed=2, d=8)
    reference[[3, 17, 40], [0, 5, 7]] = np.nan  # these rows are dropped whole
    current[[0, 9], [2, 2]] = np.nan
    mean_r = reference[~np.isnan(reference).any(axis=1)].mean(axis=0)
    mean_c = current[~np.isnan(current).any(axis=1)].mean(axis=0)

    euclidean = centroid_distance(reference, current, threshold=0.5)
    assert euclidean.value == pytest.approx(np.linalg.norm(mean_r - mean_c), rel=1e-12)
    assert euclidean.drifted == (euclidean.value >= 0.5)
    assert euclidean.threshold == 0.5

    cosine = centroid_distance(reference, current, metric="cosine")
    assert cosine.value == pytest.approx(spatial.distance.cosine(mean_r, mean_c), rel=1e-12)


def test_cosine_distance_ignores_scale() -> None:
    reference, _ = clouds(0.0, seed=3, d=4)
    reference += 2.0
    found = centroid_distance(reference, reference * 3, metric="cosine")
    assert found.value == pytest.approx(0, abs=1e-12)
    assert centroid_distance(reference, reference * 3).value > 1


@pytest.mark.parametrize(("method", "method_threshold"), [("wasserstein", None), ("ks", 0.01)])
def test_component_share_is_the_share_of_drifted_columns(
    method: str, method_threshold: float | None
) -> None:
    rng = np.random.default_rng(4)
    reference = rng.normal(size=(300, 10))
    current = rng.normal(size=(250, 10))
    current[:, :3] += np.array([0.05, 0.4, 1.0])  # three columns shifted, by small to large
    reference[rng.random(300) < 0.1, 4] = np.nan  # nulls and infinities are left out per column
    current[rng.random(250) < 0.1, 5] = np.inf

    drifted = 0
    for j in range(10):
        ref = reference[np.isfinite(reference[:, j]), j]
        cur = current[np.isfinite(current[:, j]), j]
        if method == "wasserstein":  # the default: normed Wasserstein at threshold 0.1
            drifted += stats.wasserstein_distance(ref, cur) / np.std(ref) >= 0.1
        else:
            drifted += stats.ks_2samp(ref, cur).pvalue < method_threshold
    found = drifted_components_share(
        reference, current, method=method, method_threshold=method_threshold, threshold=0.25
    )
    assert found.value == pytest.approx(drifted / 10)
    assert 0 < found.value < 1
    assert found.drifted == (drifted / 10 >= 0.25)


def test_component_share_uses_the_methods_default_threshold() -> None:
    reference, current = clouds(0.25, seed=5, d=6)
    default = METHODS["anderson"].default_threshold
    assert drifted_components_share(
        reference, current, method="anderson"
    ) == drifted_components_share(reference, current, method="anderson", method_threshold=default)


def test_embedding_inputs_are_checked() -> None:
    reference, current = clouds(0.0, seed=6, d=4)
    with pytest.raises(ValueError, match="compares counts"):
        drifted_components_share(reference, current, method="psi")
    with pytest.raises(ValueError, match="same d"):
        centroid_distance(reference, current[:, :3])
    with pytest.raises(ValueError, match="unknown metric"):
        centroid_distance(reference, current, metric="manhattan")  # type: ignore[arg-type]
