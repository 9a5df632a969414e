"""Where our drift follows Evidently's conventions (issue 16, items 1 and 2), the run accessors
and Evidently's method names (item 6). Every expected value is an independent SciPy / NumPy
computation on data built to sit on the boundary each convention decides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance
from sklearn.metrics import precision_recall_fscore_support

from metrics import (
    ClassificationPreset,
    ColumnDrift,
    DataDefinition,
    DataDriftPreset,
    DriftOptions,
    Report,
    TestColumnDrift,
    TestSuite,
)
from metrics.computations import drift_methods as dm


def drift(metric, current, reference, definition=None):
    return Report([metric], definition=definition).run(current, reference).metric(metric)


# ---- item 1: the default method counts distinct values on both sides ---------------------------


def delinquency_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Like lending_club's delinq_amnt on 500 rows per half: 3 distinct values in the reference,
    7 over both sides."""
    rng = np.random.default_rng(16)
    reference = rng.choice([0.0, 0.0, 0.0, 0.0, 65.0, 1200.0], 500)
    current = np.r_[np.zeros(480), [65.0, 88.0, 311.0, 1200.0, 2500.0, 7000.0] * 3, [88.0, 311.0]]
    return pd.DataFrame({"delinq_amnt": reference}), pd.DataFrame({"delinq_amnt": current})


def test_default_method_counts_reference_and_current_distinct_values() -> None:
    reference, current = delinquency_frames()
    ref, cur = reference["delinq_amnt"].to_numpy(), current["delinq_amnt"].to_numpy()
    assert np.unique(ref).size == 3
    assert np.unique(np.r_[ref, cur]).size == 7
    result = drift(ColumnDrift(column="delinq_amnt"), current, reference)
    assert result.details["method"] == "ks"  # not chi-square, as when only the reference counted
    expected = stats.ks_2samp(ref, cur)
    assert result.values["score"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.values["statistic"] == pytest.approx(expected.statistic, rel=1e-12)


def test_five_distinct_values_over_both_sides_still_get_chi_square() -> None:
    reference = pd.DataFrame({"x": np.tile([1.0, 2.0, 3.0], 100)})
    current = pd.DataFrame({"x": np.tile([1.0, 2.0, 3.0, 4.0, 5.0], 60)})
    result = drift(ColumnDrift(column="x"), current, reference)
    assert result.details["method"] == "chi_square"
    table = np.array([[100, 100, 100, 0, 0], [60, 60, 60, 60, 60]])
    expected = stats.chi2_contingency(table, correction=False)
    assert result.values["score"] == pytest.approx(expected.pvalue, rel=1e-12)


# ---- item 2: comparisons at the threshold ------------------------------------------------------


def sample_frames(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 200), "c": rng.choice(list("abc"), 200)})
    current = pd.DataFrame({"x": rng.normal(0.25, 1, 150), "c": rng.choice(list("abc"), 150)})
    return reference, current


@pytest.mark.parametrize(
    ("method", "expected", "drifts_at_threshold", "rule"),
    [
        # Evidently: ks and cramer_von_mises drift at p <= threshold, the other tests at p <.
        ("ks", lambda r, c: stats.ks_2samp(r, c).pvalue, True, "at or below"),
        (
            "cramer_von_mises",
            lambda r, c: stats.cramervonmises_2samp(r, c).pvalue,
            True,
            "at or below",
        ),
        ("t_test", lambda r, c: stats.ttest_ind(r, c, equal_var=False).pvalue, False, "below"),
        (
            "mann_whitney",
            lambda r, c: stats.mannwhitneyu(r, c, alternative="two-sided").pvalue,
            False,
            "below",
        ),
        # Distances: wasserstein at >=, energy at > (Evidently's `distance > threshold`).
        (
            "wasserstein",
            lambda r, c: stats.wasserstein_distance(r, c) / max(np.std(r), 0.001),
            True,
            "at or above",
        ),
        ("energy", lambda r, c: stats.energy_distance(r, c), False, "above"),
    ],
)
def test_a_score_exactly_at_the_threshold(method, expected, drifts_at_threshold, rule) -> None:
    reference, current = sample_frames()
    value = float(expected(reference["x"].to_numpy(), current["x"].to_numpy()))
    result = drift(ColumnDrift(column="x", method=method, threshold=value), current, reference)
    assert result.values["score"] == pytest.approx(value, rel=1e-9)
    # The score and the threshold are the same number: only the convention decides.
    score = result.values["score"]
    at = drift(ColumnDrift(column="x", method=method, threshold=score), current, reference)
    assert at.values["drifted"] is drifts_at_threshold
    assert at.details["rule"] == rule


def test_chi_square_at_its_threshold_does_not_drift() -> None:
    reference, current = sample_frames()
    counts = [[int((frame["c"] == v).sum()) for v in "abc"] for frame in (reference, current)]
    p_value = float(stats.chi2_contingency(np.array(counts), correction=False).pvalue)
    result = drift(
        ColumnDrift(column="c", method="chi_square", threshold=p_value), current, reference
    )
    assert result.values["score"] == p_value
    assert result.values["drifted"] is False  # Evidently: p < threshold


def test_the_test_description_states_the_rule() -> None:
    reference, current = sample_frames()
    suite = TestSuite(
        [TestColumnDrift(column="x", method="ks"), TestColumnDrift(column="c", method="chisquare")]
    ).run(current, reference)
    ks_test, chi_test = suite.tests
    assert "drift when p-value at or below 0.05" in ks_test.description
    assert ks_test.condition == {"gt": 0.05}
    assert "drift when p-value below 0.05" in chi_test.description
    assert chi_test.condition == {"gte": 0.05}


# ---- item 2: the Wasserstein normaliser's floor ------------------------------------------------


@pytest.mark.parametrize("spread", [0.0, 2e-4, 5e-3])
def test_wasserstein_divides_by_the_reference_std_floored_at_0_001(spread) -> None:
    rng = np.random.default_rng(1)
    reference = np.sort(10 + spread * rng.standard_normal(300))
    current = np.sort(10.002 + spread * rng.standard_normal(300))
    expected = stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)
    found = dm.wasserstein_normed(reference, current).value
    assert found == pytest.approx(expected, rel=1e-9)
    assert np.isfinite(found)


# ---- item 2: binning of numerical columns for the frequency methods ----------------------------


def evidently_style_shares(reference, current, fill: bool):
    """An independent computation of the binned shares (NumPy's own Sturges edges over both
    samples, or one share per value when the reference has at most 20 distinct values)."""
    if np.unique(reference).size > 20:
        edges = np.histogram_bin_edges(np.r_[reference, current], bins="sturges")
        r = np.histogram(reference, edges)[0] / reference.size
        c = np.histogram(current, edges)[0] / current.size
    else:
        keys = np.union1d(reference, current)
        r = np.array([(reference == k).sum() for k in keys]) / reference.size
        c = np.array([(current == k).sum() for k in keys]) / current.size
    if fill:
        for shares in (r, c):
            smallest = shares[shares > 0].min()
            shares[shares == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return r, c


def psi_of(r, c):
    return float(np.sum((r - c) * np.log(r / c)))


@pytest.mark.parametrize("distinct", [20, 21, 400])
def test_psi_kl_and_jensen_shannon_bin_numerical_columns_as_evidently(distinct) -> None:
    rng = np.random.default_rng(distinct)
    reference = rng.choice(np.linspace(0, 50, distinct), 600)
    reference[:distinct] = np.linspace(0, 50, distinct)  # exactly `distinct` values
    # Current reaches beyond the reference, leaving some bins empty on one side.
    current = rng.choice(np.linspace(10, 80, 33), 500)
    assert np.unique(reference).size == distinct
    frames = pd.DataFrame({"x": reference}), pd.DataFrame({"x": current})
    filled_r, filled_c = evidently_style_shares(reference, current, fill=True)
    raw_r, raw_c = evidently_style_shares(reference, current, fill=False)
    expected = {
        "psi": psi_of(filled_r, filled_c),
        "kl_div": float(stats.entropy(filled_r, filled_c)),
        "jensen_shannon": float(distance.jensenshannon(raw_r, raw_c)),
    }
    for method, value in expected.items():
        result = drift(ColumnDrift(column="x", method=method), frames[1], frames[0])
        assert result.values["score"] == pytest.approx(value, rel=1e-9), method


def test_sturges_edges_equal_numpys() -> None:
    rng = np.random.default_rng(5)
    for size in (2, 7, 100, 12345):
        values = np.sort(rng.exponential(3, size))
        edges = dm.sturges_edges(values[0], values[-1], size)
        np.testing.assert_allclose(
            edges, np.histogram_bin_edges(values, bins="sturges"), rtol=1e-12
        )
        np.testing.assert_array_equal(
            dm.histogram_counts(values, edges), np.histogram(values, edges)[0]
        )


def test_empty_shares_are_filled_as_evidently_fills_them() -> None:
    # Smallest share 1/20000 <= 1e-4: empty ones get it / 1e6. Current: smallest 0.25 -> 1e-4.
    reference = np.array([19999, 1, 0])
    current = np.array([3, 0, 1])
    r = np.array([19999 / 20000, 1 / 20000, (1 / 20000) / 1e6])
    c = np.array([0.75, 1e-4, 0.25])
    assert dm.psi(reference, current).value == pytest.approx(psi_of(r, c), rel=1e-12)
    assert dm.kl_divergence(reference, current).value == pytest.approx(
        float(stats.entropy(r, c)), rel=1e-12
    )


def test_hellinger_bins_numerical_columns_over_the_distinct_values() -> None:
    rng = np.random.default_rng(8)
    reference = rng.normal(0, 1, 400).round(2)
    current = rng.normal(0.4, 1.2, 300).round(2)
    keys = np.union1d(reference, current)
    edges = np.histogram_bin_edges(keys, bins="sturges")
    width = (edges[-1] - edges[0]) / (len(edges) - 1)
    h1 = np.histogram(reference, edges, density=True)[0]
    h2 = np.histogram(current, edges, density=True)[0]
    expected = np.sqrt(1 - np.clip(np.sum(np.sqrt(h1 * h2)) * width, 0, 1))
    result = drift(
        ColumnDrift(column="x", method="hellinger"),
        pd.DataFrame({"x": current}),
        pd.DataFrame({"x": reference}),
    )
    assert result.values["score"] == pytest.approx(expected, rel=1e-9)


def test_explicit_bins_keep_equal_width_bins_over_the_reference() -> None:
    rng = np.random.default_rng(2)
    reference, current = rng.normal(0, 1, 500), rng.normal(0.3, 1, 400)
    edges = np.linspace(reference.min(), reference.max(), 11)
    widened = np.r_[-np.inf, edges[1:-1], np.inf]
    r = np.histogram(reference, widened)[0] / reference.size
    c = np.histogram(current, widened)[0] / current.size
    result = drift(
        ColumnDrift(column="x", method="jensen_shannon", bins=10),
        pd.DataFrame({"x": current}),
        pd.DataFrame({"x": reference}),
    )
    assert result.values["score"] == pytest.approx(distance.jensenshannon(r, c), rel=1e-9)


# ---- item 6: Evidently's method names ----------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "ours"),
    [
        ("chisquare", "chi_square"),
        ("z", "z_test"),
        ("jensenshannon", "jensen_shannon"),
        ("ks", "ks"),
        ("wasserstein", "wasserstein"),
        ("psi", "psi"),
        ("kl_div", "kl_div"),
        ("hellinger", "hellinger"),
        ("ed", "energy"),
        ("energy", "energy"),
        ("cramer_von_mises", "cramer_von_mises"),
        ("fisher_exact", "fisher"),
        ("g_test", "g_test"),
        ("t_test", "t_test"),
        ("empirical_mmd", "mmd"),
        ("emperical_mmd", "mmd"),
        ("anderson", "anderson"),
        ("mannw", "mann_whitney"),
        ("es", "epps_singleton"),
    ],
)
def test_evidently_method_names_are_aliases(alias, ours) -> None:
    assert ours in dm.METHODS
    assert ColumnDrift(column="x", method=alias).id == ColumnDrift(column="x", method=ours).id
    options = DriftOptions(method=alias, per_column_method={"a": alias})
    assert options.method == ours
    assert options.per_column_method == {"a": ours}
    assert TestColumnDrift(column="x", method=alias).params["method"] == ours


def test_an_alias_computes_the_same_result() -> None:
    reference, current = sample_frames()
    by_alias = drift(ColumnDrift(column="c", method="jensenshannon"), current, reference)
    assert by_alias.details["method"] == "jensen_shannon"
    counts = [[int((f["c"] == v).sum()) for v in "abc"] for f in (reference, current)]
    r, c = (np.array(x) / sum(x) for x in counts)
    assert by_alias.values["score"] == pytest.approx(distance.jensenshannon(r, c), rel=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ColumnDrift(column="x", method="TVD"),
        lambda: DriftOptions(numerical_method="kolmogorov"),
        lambda: TestColumnDrift(column="x", method="chi2"),
    ],
)
def test_unknown_method_names_list_the_valid_ones(make) -> None:
    with pytest.raises(ValueError, match="unknown drift method") as caught:
        make()
    message = str(caught.value)
    assert "unknown drift method" in message
    assert "chi_square" in message
    assert "chisquare (chi_square)" in message


# ---- item 6: run accessors ---------------------------------------------------------------------


def test_drift_by_column_reads_each_columns_result() -> None:
    reference, current = sample_frames()
    reference["empty"] = np.nan
    current["empty"] = np.nan
    run = Report([DataDriftPreset()]).run(current, reference)
    table = run.drift_by_column()
    assert set(table) == {"x", "c", "empty"}
    x = table["x"]
    assert (x.method, x.kind, x.rule, x.status) == ("ks", "p_value", "at or below", "ok")
    expected = stats.ks_2samp(reference["x"], current["x"]).pvalue
    assert x.score == pytest.approx(expected, rel=1e-12)
    assert x.threshold == 0.05
    assert x.drifted is bool(expected <= 0.05)
    assert x.metric_id == ColumnDrift(column="x").id
    assert table["c"].method == "chi_square"
    assert table["c"].kind == "p_value"
    assert table["empty"].status == "error"
    assert table["empty"].score is None
    assert "finite values" in str(table["empty"].reason)
    # Filtering by method, by either name.
    run = Report([ColumnDrift(column="c"), ColumnDrift(column="c", method="psi")]).run(
        current, reference
    )
    assert run.drift_by_column()["c"].method == "chi_square"  # the first wins
    assert run.drift_by_column(method="psi")["c"].method == "psi"
    assert run.drift_by_column(method="jensenshannon") == {}


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1, 2]), np.array(["cat", "dog", "bird"]), np.array([False, True])],
    ids=["int", "str", "bool"],
)
def test_classification_by_label_keys_by_the_label_itself(labels) -> None:
    rng = np.random.default_rng(4)
    target = rng.choice(labels, 300)
    prediction = np.where(rng.random(300) < 0.7, target, rng.choice(labels, 300))
    frame = pd.DataFrame({"target": target, "prediction": prediction})
    definition = DataDefinition(target="target", prediction="prediction")
    preset = (
        ClassificationPreset(pos_label=labels[-1].item())
        if labels.size == 2
        else (ClassificationPreset())
    )
    run = Report([preset], definition=definition).run(frame)
    by_label = run.classification_by_label()
    expected_keys = {label.item() for label in labels}
    assert set(by_label) == expected_keys
    assert {type(k) for k in by_label} == {type(labels[0].item())}
    order = sorted(expected_keys)
    precision, recall, f1, support = precision_recall_fscore_support(
        target, prediction, labels=np.array(order, dtype=labels.dtype), zero_division=0
    )
    for i, label in enumerate(order):
        found = by_label[label]
        assert found.label == label
        assert found.precision == pytest.approx(precision[i], rel=1e-12)
        assert found.recall == pytest.approx(recall[i], rel=1e-12)
        assert found.f1 == pytest.approx(f1[i], rel=1e-12)
        assert found.support == support[i]
        assert found.predicted == int((prediction == label).sum())
    with pytest.raises(ValueError, match="side"):
        run.classification_by_label(side="both")
    assert run.classification_by_label(side="reference") == {}  # no reference given
