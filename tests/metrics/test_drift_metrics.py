"""Column and dataset drift: the default method by size and cardinality, overrides per column,
per type and for the run, the dataset's drifted share, text and embeddings, and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from metrics import (
    ColumnDrift,
    DataDefinition,
    DataDriftPreset,
    DatasetDrift,
    DriftOptions,
    EmbeddingsDrift,
    Report,
)
from metrics.computations.drift import default_method
from metrics.core.definition import ColumnType


def drift(metric, current, reference, definition=None):
    return Report([metric], definition=definition).run(current, reference).metric(metric)


def frames(n_ref: int, n_cur: int, *, shift: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "num": rng.normal(0, 1, n_ref),
            "few": rng.integers(0, 3, n_ref).astype(float),
            "cat": rng.choice(list("abcd"), n_ref),
            "binary": rng.choice(["yes", "no"], n_ref),
        }
    )
    current = pd.DataFrame(
        {
            "num": rng.normal(shift, 1, n_cur),
            "few": rng.integers(0, 3, n_cur).astype(float),
            "cat": rng.choice(list("abcd"), n_cur),
            "binary": rng.choice(["yes", "no"], n_cur),
        }
    )
    return reference, current


@pytest.mark.parametrize(
    ("n_ref", "column", "method"),
    [
        (1000, "num", "ks"),
        (1000, "few", "chi_square"),
        (1000, "cat", "chi_square"),
        (1000, "binary", "z_test"),
        (1001, "num", "wasserstein"),
        (1001, "few", "jensen_shannon"),
        (1001, "cat", "jensen_shannon"),
        (1001, "binary", "jensen_shannon"),
    ],
)
def test_the_default_method_depends_on_size_and_cardinality(n_ref, column, method):
    reference, current = frames(n_ref, 500)
    result = drift(ColumnDrift(column=column), current, reference)
    assert result.status == "ok", result.reason
    assert result.details["method"] == method


def test_default_method_rule():
    from metrics.core.definition import ColumnType

    assert default_method(ColumnType.NUMERICAL, 1000, 6) == "ks"
    assert default_method(ColumnType.NUMERICAL, 1000, 5) == "chi_square"
    assert default_method(ColumnType.NUMERICAL, 5000, 2) == "jensen_shannon"


def test_ks_result_matches_scipy():
    reference, current = frames(800, 600, shift=0.3)
    result = drift(ColumnDrift(column="num"), current, reference)
    expected = stats.ks_2samp(reference["num"], current["num"])
    assert result.values["score"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.values["statistic"] == pytest.approx(expected.statistic, rel=1e-9)
    assert result.values["drifted"] == (expected.pvalue < 0.05)
    assert result.values["threshold"] == 0.05


def test_wasserstein_result_matches_scipy():
    reference, current = frames(5000, 4000, shift=0.5)
    result = drift(ColumnDrift(column="num"), current, reference)
    expected = stats.wasserstein_distance(reference["num"], current["num"]) / np.std(
        reference["num"]
    )
    assert result.values["score"] == pytest.approx(expected, rel=1e-9)
    assert result.values["drifted"] is True


def test_jensen_shannon_on_categories_matches_scipy():
    reference, current = frames(5000, 4000)
    result = drift(ColumnDrift(column="cat"), current, reference)
    categories = sorted(set(reference["cat"]) | set(current["cat"]))
    p = reference["cat"].value_counts().reindex(categories, fill_value=0).to_numpy()
    q = current["cat"].value_counts().reindex(categories, fill_value=0).to_numpy()
    assert result.values["score"] == pytest.approx(
        distance.jensenshannon(p / p.sum(), q / q.sum()), rel=1e-9
    )


def test_a_category_only_in_current_counts():
    reference = pd.DataFrame({"c": ["a"] * 600 + ["b"] * 600})
    current = pd.DataFrame({"c": ["a"] * 300 + ["b"] * 300 + ["new"] * 400})
    result = drift(ColumnDrift(column="c", method="psi"), current, reference)
    assert result.values["drifted"] is True
    table = np.array([[600, 600, 0], [300, 300, 400]])
    chi = drift(ColumnDrift(column="c", method="chi_square"), current, reference)
    assert chi.values["score"] == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9
    )


def test_overrides_take_precedence_column_then_type_then_run():
    options = DriftOptions(
        method="psi",
        threshold=0.3,
        numerical_method="ks",
        categorical_threshold=0.2,
        per_column_method={"few": "hellinger"},
        per_column_threshold={"num": 0.01},
    )
    assert options.for_column("num", ColumnType.NUMERICAL) == ("ks", 0.01)
    assert options.for_column("few", ColumnType.NUMERICAL) == ("hellinger", 0.3)
    assert options.for_column("cat", ColumnType.CATEGORICAL) == ("psi", 0.2)
    reference, current = frames(2000, 2000)
    run = Report([DataDriftPreset(options=options)]).run(current, reference)
    methods = {
        r.params["column"]: r.details["method"] for r in run.results if r.type == "ColumnDrift"
    }
    assert methods == {"num": "ks", "few": "hellinger", "cat": "psi", "binary": "psi"}
    thresholds = {
        r.params["column"]: r.values["threshold"] for r in run.results if r.type == "ColumnDrift"
    }
    assert thresholds == {"num": 0.01, "few": 0.3, "cat": 0.2, "binary": 0.2}


def test_an_unknown_method_is_refused_early():
    with pytest.raises(ValueError, match="unknown drift method 'kolmogorov'"):
        DriftOptions(method="kolmogorov")
    with pytest.raises(ValueError, match="unknown drift method"):
        ColumnDrift(column="x", method="nope")


def test_a_method_for_the_wrong_type_is_an_error():
    reference, current = frames(500, 500)
    result = drift(ColumnDrift(column="cat", method="ks"), current, reference)
    assert result.status == "error"
    assert "compares numbers" in result.reason


def test_the_dataset_drifts_when_the_drifted_share_reaches_drift_share():
    reference, current = frames(3000, 3000, shift=2.0)
    current["few"] = 2.0  # a second drifted column
    metric = DatasetDrift(drift_share=0.5)
    result = drift(metric, current, reference)
    assert result.values["drifted_columns"] == 2
    assert result.values["columns"] == 4
    assert result.values["drifted_share"] == 0.5
    assert result.values["dataset_drift"] is True
    assert sorted(result.details["drifted"]) == ["few", "num"]
    calm = drift(DatasetDrift(drift_share=0.75), current, reference)
    assert calm.values["dataset_drift"] is False


def test_columns_that_cannot_be_checked_are_reported_not_counted():
    reference, current = frames(1500, 1500)
    reference["empty"] = np.nan
    current["empty"] = np.nan
    result = drift(DatasetDrift(), current, reference, DataDefinition(numerical_columns=["empty"]))
    assert result.values["columns"] == 4
    assert result.details["not_checked"][0]["column"] == "empty"
    assert "no finite values" in result.details["not_checked"][0]["reason"]


def test_a_constant_column_does_not_crash():
    reference = pd.DataFrame({"x": [3.0] * 2000})
    same = drift(ColumnDrift(column="x"), pd.DataFrame({"x": [3.0] * 500}), reference)
    assert same.status == "ok"
    assert same.values["drifted"] is False
    moved = drift(ColumnDrift(column="x"), pd.DataFrame({"x": [4.0] * 500}), reference)
    assert moved.values["drifted"] is True


def test_a_single_row_and_infinities():
    reference = pd.DataFrame({"x": np.r_[np.random.default_rng(0).normal(size=50), np.inf]})
    current = pd.DataFrame({"x": [0.1, -np.inf]})
    result = drift(ColumnDrift(column="x"), current, reference)
    assert result.status == "ok"
    assert result.details["method"] == "ks"


def test_text_columns_use_the_domain_classifier():
    rng = np.random.default_rng(0)
    cats = ["cat purrs on the mat", "kitten chases a ball", "cat sleeps in the sun"]
    dogs = ["dog barks at the mailman", "puppy fetches the stick", "dog runs in the park"]
    reference = pd.DataFrame(
        {"review": [cats[i % 3] + f" {w}" for i, w in enumerate(rng.integers(0, 50, 300))]}
    )
    current = pd.DataFrame(
        {"review": [dogs[i % 3] + f" {w}" for i, w in enumerate(rng.integers(0, 50, 300))]}
    )
    definition = DataDefinition(text_columns=["review"])
    result = drift(ColumnDrift(column="review"), current, reference, definition)
    assert result.details["method"] == "domain_classifier"
    assert result.values["drifted"] is True
    assert result.values["score"] > 0.9
    calm = drift(
        ColumnDrift(column="review"),
        reference.sample(frac=1, random_state=1),
        reference,
        definition,
    )
    assert calm.values["drifted"] is False


def test_embeddings_drift_by_distance_and_by_share():
    rng = np.random.default_rng(0)
    columns = [f"e{i}" for i in range(8)]
    reference = pd.DataFrame(rng.normal(0, 1, (2000, 8)), columns=columns)
    current = pd.DataFrame(rng.normal(0, 1, (2000, 8)), columns=columns)
    current[["e0", "e1", "e2"]] += 1.0
    definition = DataDefinition(embeddings={"vec": columns})
    by_distance = drift(EmbeddingsDrift(embeddings="vec"), current, reference, definition)
    expected = np.linalg.norm(reference.mean().to_numpy() - current.mean().to_numpy())
    assert by_distance.values["score"] == pytest.approx(expected, rel=1e-9)
    assert by_distance.values["drifted"] is True
    by_share = drift(
        EmbeddingsDrift(embeddings="vec", method="share"), current, reference, definition
    )
    assert by_share.values["score"] == pytest.approx(3 / 8)
    unknown = drift(EmbeddingsDrift(embeddings="nope"), current, reference, definition)
    assert unknown.status == "error"


def test_the_drift_preset_carries_distributions_for_charts():
    reference, current = frames(2000, 2000, shift=1.0)
    run = Report([DataDriftPreset(bins=10)]).run(current, reference)
    distribution = run.metric('ColumnDistribution(bins=10,column="num",top=20)').distribution
    assert distribution is not None
    assert distribution.edges is not None
    assert distribution.reference is not None
    assert len(distribution.edges) == 11
    assert sum(distribution.current) == 2000
    assert sum(distribution.reference) == 2000
