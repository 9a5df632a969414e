"""Shared invariance tests over the registry of metrics: every metric gives the same results
whatever the row order, and whether the columns came as lists, NumPy arrays, Series or pandas
extension dtypes. A new metric must be added to FACTORIES (a test checks the registry is covered)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from metrics import DataDefinition, Report
from metrics.computations.classification import (
    ClassBalance,
    ClassificationByLabel,
    ClassificationQuality,
    ConfusionMatrix,
    LiftTable,
    PrecisionRecallCurve,
    RocCurve,
)
from metrics.computations.column_stats import (
    ColumnCategoryShare,
    ColumnDistribution,
    ColumnQuantile,
    ColumnRegexMatch,
    ColumnSummary,
    ColumnValueCounts,
    ColumnValueList,
    ColumnValueRange,
)
from metrics.computations.drift import ColumnDrift, DatasetDrift, EmbeddingsDrift
from metrics.computations.quality import Correlations, DatasetSummary
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
from metrics.computations.regression import (
    RegressionErrorBias,
    RegressionErrorDistribution,
    RegressionErrorNormality,
    RegressionQuality,
)
from metrics.core.base import REGISTRY

DATA_METRICS = {
    "ColumnSummary": lambda: [ColumnSummary(column=c) for c in ("x", "n", "c", "t")],
    "ColumnQuantile": lambda: [ColumnQuantile(column="x", q=0.3)],
    "ColumnValueCounts": lambda: [ColumnValueCounts(column="c", top=3)],
    "ColumnValueRange": lambda: [
        ColumnValueRange(column="x"),
        ColumnValueRange(column="x", left=-1, right=1),
    ],
    "ColumnValueList": lambda: [
        ColumnValueList(column="c"),
        ColumnValueList(column="n", values=[1, 2]),
    ],
    "ColumnCategoryShare": lambda: [ColumnCategoryShare(column="c", category="b")],
    "ColumnRegexMatch": lambda: [ColumnRegexMatch(column="c", pattern="[ab]")],
    "ColumnDistribution": lambda: [ColumnDistribution(column="x"), ColumnDistribution(column="c")],
    "ColumnDrift": lambda: [
        ColumnDrift(column="x"),
        ColumnDrift(column="x", method="psi"),
        ColumnDrift(column="x", method="mmd"),
        ColumnDrift(column="n"),
        ColumnDrift(column="c"),
        ColumnDrift(column="c", method="chi_square"),
        ColumnDrift(column="t"),
    ],
    "DatasetDrift": lambda: [DatasetDrift()],
    "EmbeddingsDrift": lambda: [
        EmbeddingsDrift(embeddings="e"),
        EmbeddingsDrift(embeddings="e", method="share"),
    ],
    "DatasetSummary": lambda: [DatasetSummary()],
    "Correlations": lambda: (
        [Correlations(method=m) for m in ("pearson", "spearman", "kendall")]
        + [Correlations(method="cramer_v", columns=["c", "n2"])]
    ),
}

CLASSIFICATION_METRICS = {
    "ClassificationQuality": lambda: [
        ClassificationQuality(),
        ClassificationQuality(threshold=0.3),
        ClassificationQuality(k=50),
    ],
    "ClassificationByLabel": lambda: [ClassificationByLabel(label=1)],
    "ConfusionMatrix": lambda: [ConfusionMatrix()],
    "RocCurve": lambda: [RocCurve(points=30)],
    "PrecisionRecallCurve": lambda: [PrecisionRecallCurve(points=30)],
    "LiftTable": lambda: [LiftTable()],
    "ClassBalance": lambda: [ClassBalance()],
}
REGRESSION_METRICS = {
    "RegressionQuality": lambda: [RegressionQuality()],
    "RegressionErrorDistribution": lambda: [RegressionErrorDistribution()],
    "RegressionErrorNormality": lambda: [RegressionErrorNormality()],
    "RegressionErrorBias": lambda: [
        RegressionErrorBias(column="x"),
        RegressionErrorBias(column="c"),
    ],
}
RANKING_METRICS = {
    "RankingQuality": lambda: [
        RankingQuality(k=3),
        RankingQuality(k=5, prediction_type="rank", beta=2.0),
    ],
    "ScoreDistribution": lambda: [ScoreDistribution(k=3)],
    "Popularity": lambda: [Popularity(k=3)],
    "Novelty": lambda: [Novelty(k=3)],
    "Personalization": lambda: [Personalization(k=3)],
    "Diversity": lambda: [Diversity(k=3, item_features=["e0", "e1", "e2"])],
    "Serendipity": lambda: [Serendipity(k=3, item_features=["e0", "e1", "e2"])],
    "RankingBias": lambda: [RankingBias(k=3, column="c")],
}
BASE: dict[str, Any] = {
    "categorical_columns": ["n2"],
    "text_columns": ["t"],
    "embeddings": {"e": ["e0", "e1", "e2"]},
}
# Each group of metrics runs with the data definition its roles need.
GROUPS: dict[str, tuple[dict[str, Any], DataDefinition]] = {
    "data": (DATA_METRICS, DataDefinition(**BASE)),
    "classification": (
        CLASSIFICATION_METRICS,
        DataDefinition(**BASE, target="yc", prediction="pc", prediction_probas="pp"),
    ),
    "regression": (REGRESSION_METRICS, DataDefinition(**BASE, target="yr", prediction="pr")),
    "ranking": (
        RANKING_METRICS,
        DataDefinition(**BASE, user_id="u", item_id="it", prediction="p", target="rel"),
    ),
}
FACTORIES = {name: make for metrics, _ in GROUPS.values() for name, make in metrics.items()}


def _frame(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    words = np.array(
        ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    )
    x = rng.normal(seed * 0.3, 1, n)
    x[rng.choice(n, n // 10, replace=False)] = np.nan
    yc = rng.integers(0, 2, n)
    pp = np.clip(0.4 * yc + rng.random(n) * 0.6, 0, 1)
    yr = rng.normal(5, 2, n)
    return {
        "x": x,
        "n": rng.integers(0, 4, n).astype(float),
        "n2": rng.choice(["p", "q"], n),
        "c": rng.choice(np.array(["a", "b", "c", None], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1]),
        "t": np.array([" ".join(rng.choice(words, 5)) for _ in range(n)], dtype=object),
        "e0": rng.normal(seed, 1, n),
        "e1": rng.normal(0, 1, n),
        "e2": rng.normal(0, 1, n),
        # classification: integer labels stored as floats, as pandas does with nulls around
        "yc": yc.astype(float),
        "pc": (pp >= 0.5).astype(float),
        "pp": pp,
        # regression
        "yr": yr,
        "pr": yr + rng.normal(0.3, 1, n),
        # ranking: string ids (the "extension" container turns non-float columns into strings)
        "u": np.array([f"u{j:03d}" for j in rng.integers(0, 150, n)], dtype=object),
        "it": np.array([f"i{j:02d}" for j in rng.integers(0, 60, n)], dtype=object),
        "p": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 10, n) / 10),
        "rel": rng.integers(0, 3, n).astype(float),
    }


def _run(current: pd.DataFrame, reference: pd.DataFrame) -> dict:
    results = {}
    for group, (factories, definition) in GROUPS.items():
        metrics = [m for make in factories.values() for m in make()]
        run = Report(metrics, definition=definition).run(current, reference)
        results.update({f"{group}:{r.metric_id}": r.to_dict() for r in run.results})
    return results


def _assert_same(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}.{i}")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def data():
    return _frame(1500, 0), _frame(1200, 1)


@pytest.fixture(scope="module")
def baseline(data):
    return _run(pd.DataFrame(data[0]), pd.DataFrame(data[1]))


def test_the_registry_is_covered():
    ours = {name for name, cls in REGISTRY.items() if cls.__module__.startswith("metrics.")}
    assert set(FACTORIES) == ours, "add new metrics to FACTORIES"


def test_every_metric_computes(baseline):
    failed = {k: v.get("reason") for k, v in baseline.items() if v["status"] != "ok"}
    assert not failed


def test_row_order_does_not_matter(data, baseline):
    rng = np.random.default_rng(42)
    current, reference = pd.DataFrame(data[0]), pd.DataFrame(data[1])
    shuffled = _run(
        current.iloc[rng.permutation(len(current))].reset_index(drop=True),
        reference.iloc[rng.permutation(len(reference))].reset_index(drop=True),
    )
    _assert_same(shuffled, baseline)


@pytest.mark.parametrize("container", ["list", "series", "extension"])
def test_the_input_container_does_not_matter(data, baseline, container):
    def build(columns: dict[str, np.ndarray]) -> pd.DataFrame:
        if container == "list":
            return pd.DataFrame({k: list(v) for k, v in columns.items()})
        if container == "series":
            return pd.DataFrame({k: pd.Series(v, name=k) for k, v in columns.items()})
        converted = {}
        for k, v in columns.items():
            if v.dtype.kind == "f":
                converted[k] = pd.array(v, dtype="Float64")
            else:
                converted[k] = pd.array(v, dtype="string")
        return pd.DataFrame(converted)

    _assert_same(_run(build(data[0]), build(data[1])), baseline)
