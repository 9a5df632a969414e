"""The benchmark's floors (benchmarks/bench_metrics.py) compute what the presets compute: each tuned
floor gives, value by value, what SciPy, pandas and scikit-learn give computing it plainly, and what
the preset itself reports on the same data."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from metrics import DataDriftPreset, DataSummaryPreset, Report

TOL = 1e-9


def _load_bench() -> Any:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_metrics.py"
    spec = importlib.util.spec_from_file_location("bench_metrics", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _tricky(frames: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmark's frames with what they lack: infinities, repeated values, null and new
    categories, duplicated rows, an equal and an almost equal column, a constant one."""
    out = []
    for side, frame in enumerate(frames):
        rng = np.random.default_rng(10 + side)
        frame = frame.copy()
        n = len(frame)
        frame.loc[rng.choice(n, 30, replace=False), "num_04"] = np.inf
        frame.loc[rng.choice(n, 20, replace=False), "num_04"] = -np.inf
        frame["num_rounded"] = frame["num_05"].round(0)
        frame["num_copy"] = frame["num_01"]
        almost = frame["num_02"].copy()
        almost[rng.choice(n, n // 50, replace=False)] = 7.5
        frame["num_almost"] = almost
        frame["num_constant"] = 3.0
        labels = frame["cat_1"].astype(object)
        labels[rng.choice(n, n // 40, replace=False)] = None
        if side == 1:
            labels[rng.choice(n, 300, replace=False)] = "segment_new"
        frame["cat_1"] = pd.Series(labels, dtype="str")
        repeats = frame.iloc[rng.choice(n, 150)]
        out.append(pd.concat([frame, repeats], ignore_index=True))
    return out[0], out[1]


FRAMES = {"benchmark": bench.make_frames(20_000), "tricky": _tricky(bench.make_frames(20_000))}


@pytest.fixture(scope="module", params=list(FRAMES))
def frames(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame]:
    return FRAMES[request.param]


def _numeric(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype)]


def _finite(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]


def _ranked_counts(series: pd.Series) -> list[tuple[str, int]]:
    counts = series.value_counts(dropna=True)
    return sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda kv: (-kv[1], kv[0]))


# ---- drift -------------------------------------------------------------------------------------


def test_the_drift_floor_gives_scipys_and_pandas_values(frames):
    reference, current = frames
    floor = bench.tuned_floor_drift(reference, current)
    drifted = 0
    for column in reference.columns:
        found = floor["columns"][column]
        if column in _numeric(reference):
            r, c = _finite(reference[column]), _finite(current[column])
            if len(np.union1d(r, c)) <= 5:  # a handful of values: compared as categories
                table = pd.concat(
                    [pd.Series(r).value_counts(), pd.Series(c).value_counts()], axis=1
                )
                counts = table.fillna(0).to_numpy()
                score = distance.jensenshannon(
                    counts[:, 0] / counts[:, 0].sum(), counts[:, 1] / counts[:, 1].sum()
                )
                assert found["method"] == "jensen_shannon"
            else:
                spread = max(np.std(r), 0.001) if np.ptp(r) > 0 else 0.001
                score = stats.wasserstein_distance(r, c) / spread
                assert found["method"] == "wasserstein"
            low, high = min(r.min(), c.min()), max(r.max(), c.max())
            edges = np.linspace(low, high, 21) if low < high else np.array([low - 0.5, high + 0.5])
            histogram = found["histogram"]
            assert np.allclose(histogram["edges"], edges, rtol=1e-15, atol=0)
            assert histogram["reference"].tolist() == np.histogram(r, edges)[0].tolist()
            assert histogram["current"].tolist() == np.histogram(c, edges)[0].tolist()
        else:
            table = pd.concat(
                [reference[column].value_counts(), current[column].value_counts()], axis=1
            ).fillna(0)
            counts = table.to_numpy()
            score = distance.jensenshannon(
                counts[:, 0] / counts[:, 0].sum(), counts[:, 1] / counts[:, 1].sum()
            )
            new = set(current[column].dropna()) - set(reference[column].dropna())
            vanished = set(reference[column].dropna()) - set(current[column].dropna())
            assert found["new_categories"] == len(new)
            assert found["vanished_categories"] == len(vanished)
            assert found["new_categories_share"] == pytest.approx(
                current[column].isin(new).sum() / current[column].count(), rel=TOL
            )
            totals = (table.iloc[:, 0] + table.iloc[:, 1]).astype(int)
            ranked = sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))
            assert found["categories"]["labels"] == [str(k) for k, _ in ranked]
            for side, frame in (("reference", reference), ("current", current)):
                expected = frame[column].value_counts().reindex([k for k, _ in ranked])
                assert found["categories"][side] == expected.fillna(0).astype(int).tolist()
        assert found["score"] == pytest.approx(score, rel=TOL, abs=1e-15), column
        assert found["drifted"] == (score >= 0.1)
        drifted += int(score >= 0.1)
    assert floor["drifted_columns"] == drifted
    assert floor["drifted_share"] == drifted / len(reference.columns)


@pytest.fixture(scope="module")
def drift_run(frames):
    reference, current = frames
    return Report([DataDriftPreset()], progress=False).run(current, reference)


def test_the_drift_floor_gives_the_presets_values(frames, drift_run):
    reference, current = frames
    floor = bench.tuned_floor_drift(reference, current)
    for column, found in floor["columns"].items():
        drift = drift_run.metric(f'ColumnDrift(column="{column}")')
        assert drift.details["method"] == found["method"]
        assert drift.values["score"] == pytest.approx(found["score"], rel=TOL, abs=1e-15)
        assert drift.values["drifted"] == found["drifted"]
        chart = drift_run.metric(f'ColumnDistribution(bins=20,column="{column}",top=20)')
        shown = chart.distribution
        assert shown is not None
        if "histogram" in found:
            assert shown.edges == pytest.approx(found["histogram"]["edges"].tolist(), rel=1e-15)
            assert shown.reference == found["histogram"]["reference"].tolist()
            assert shown.current == found["histogram"]["current"].tolist()
        else:
            for key in ("new_categories", "vanished_categories"):
                assert drift.values[key] == found[key]
            for key in ("new_categories_share", "vanished_categories_share"):
                assert drift.values[key] == pytest.approx(found[key], rel=TOL)
            assert shown.labels == found["categories"]["labels"]
            assert shown.reference == found["categories"]["reference"]
            assert shown.current == found["categories"]["current"]
    dataset = drift_run.metric("DatasetDrift(drift_share=0.5)").values
    assert dataset["drifted_columns"] == floor["drifted_columns"]
    assert dataset["drifted_share"] == floor["drifted_share"]
    assert dataset["dataset_drift"] == floor["dataset_drift"]


def test_the_merge_gives_scipys_wasserstein_distance_on_ties_and_unequal_sizes():
    rng = np.random.default_rng(5)
    for _ in range(200):
        r = np.sort(rng.integers(0, 6, rng.integers(1, 40)).astype(float))
        c = np.sort(rng.integers(0, 6, rng.integers(1, 40)).astype(float) + rng.random())
        assert bench.wasserstein_sorted(r, c) == pytest.approx(
            stats.wasserstein_distance(r, c), rel=1e-12, abs=1e-15
        )


# ---- summary -----------------------------------------------------------------------------------


def test_the_summary_floor_gives_pandas_and_numpys_values(frames):
    floor = bench.tuned_floor_summary(*frames)
    for side, frame in zip(("reference", "current"), frames, strict=True):
        found = floor[side]
        numeric = _numeric(frame)
        for column in frame.columns:
            series, stats_ = frame[column], found["columns"][column]
            assert stats_["count"] == series.count()
            assert stats_["missing"] == series.isna().sum()
            assert stats_["unique"] == series.nunique()
            # The most common value is among the finite ones (infinities left out, as the preset
            # does), its share of all non-null values.
            counts = series[~series.isin([np.inf, -np.inf])].value_counts(dropna=True)
            assert stats_["most_common_share"] == pytest.approx(counts.max() / series.count())
            if column not in numeric:
                ranked = _ranked_counts(series)
                assert stats_["most_common"] == ranked[0][0]
                value_counts = found["value_counts"][column]
                assert value_counts["distinct"] == len(ranked)
                assert [(v, n) for v, n, _ in value_counts["top"]] == ranked[:20]
                assert [s for _, _, s in value_counts["top"]] == pytest.approx(
                    [n / series.count() for _, n in ranked[:20]], rel=TOL
                )
                continue
            values = _finite(series)
            assert stats_["infinite"] == np.isinf(series).sum()
            assert stats_["most_common"] == counts[counts == counts.max()].index.min()
            expected = {
                "min": values.min(),
                "max": values.max(),
                "mean": values.mean(),
                "std": values.std(ddof=1),
                "sum": values.sum(),
                "median": np.median(values),
                "p25": np.quantile(values, 0.25),
                "p75": np.quantile(values, 0.75),
            }
            for key, value in expected.items():
                assert stats_[key] == pytest.approx(value, rel=TOL, abs=1e-12), (column, key)
        dataset = found["dataset"]
        nulls = frame.isna()
        assert dataset["missing_cells"] == nulls.to_numpy().sum()
        assert dataset["rows_with_missing"] == nulls.any(axis=1).sum()
        assert dataset["empty_rows"] == nulls.all(axis=1).sum()
        assert dataset["columns_with_missing"] == nulls.any().sum()
        assert dataset["duplicated_rows"] == frame.duplicated().sum()
        transposed = frame.astype(object).T
        assert dataset["duplicated_columns"] == transposed.duplicated().sum()
        assert dataset["constant_columns"] == (frame.nunique() <= 1).sum()
        equal = {
            (a, b): (frame[a].eq(frame[b]) | (frame[a].isna() & frame[b].isna())).mean()
            for group in (numeric, [c for c in frame.columns if c not in numeric])
            for i, a in enumerate(group)
            for b in group[i + 1 :]
        }
        almost = sorted(pair for pair, share in equal.items() if 0.95 <= share < 1)
        assert sorted((a, b) for a, b, _ in found["almost_duplicated_columns"]) == almost
        # Off the diagonal (the preset's diagonal is 1, pandas' NaN for a constant column).
        expected = frame[numeric].replace([np.inf, -np.inf], np.nan).corr().to_numpy(copy=True)
        np.fill_diagonal(expected, 1.0)
        matrix = found["correlations"]["matrix"]
        assert np.allclose(matrix, expected, rtol=0, atol=1e-12, equal_nan=True)


@pytest.fixture(scope="module")
def summary_run(frames):
    reference, current = frames
    return Report([DataSummaryPreset()], progress=False).run(current, reference)


def test_the_summary_floor_gives_the_presets_values(frames, summary_run):
    floor = bench.tuned_floor_summary(*frames)
    reference = frames[0]
    numeric = _numeric(reference)
    dataset = summary_run.metric("DatasetSummary(almost_constant=0.95,almost_duplicated=0.95)")
    columns = '","'.join(numeric)
    correlations = summary_run.metric(
        f'Correlations(columns=["{columns}"],method="pearson",threshold=0.9)'
    )
    for side in ("reference", "current"):
        found = floor[side]
        for key, value in dataset.values[side].items():
            assert found["dataset"][key] == pytest.approx(value, rel=TOL), (side, key)
        assert [list(p) for p in found["duplicated_columns"]] == dataset.details[side][
            "duplicated_columns"
        ]
        for column in reference.columns:
            summary = summary_run.metric(f'ColumnSummary(column="{column}")')
            for key, value in summary.values[side].items():
                assert found["columns"][column][key] == pytest.approx(value, rel=TOL, abs=1e-12), (
                    side,
                    column,
                    key,
                )
            assert found["columns"][column]["most_common"] == summary.details[f"{side}_most_common"]
            if column not in numeric:
                counts = summary_run.metric(f'ColumnValueCounts(column="{column}",top=20)')
                assert counts.values[side] == {
                    k: found["value_counts"][column][k] for k in ("distinct", "count")
                }
                assert [
                    (row["value"], row["count"], row["share"]) for row in counts.details[side]
                ] == found["value_counts"][column]["top"]
        ours = found["correlations"]
        assert correlations.values[side]["max_abs"] == pytest.approx(ours["max_abs"], rel=1e-9)
        assert correlations.values[side]["high_pairs"] == ours["high_pairs"]
        matrix = np.array(correlations.details[f"{side}_matrix"], dtype=np.float64)
        assert np.allclose(matrix, ours["matrix"], rtol=0, atol=1e-12, equal_nan=True)
        pairs = correlations.details[f"{side}_top_pairs"]
        assert [tuple(p["columns"]) for p in pairs] == [(a, b) for a, b, _ in ours["top_pairs"]]


# ---- model presets -----------------------------------------------------------------------------


def test_the_regression_floor_gives_scikit_learns_values():
    bench.check_regression_floor(20_000)  # asserts value by value


def test_the_classification_floor_gives_scikit_learns_values():
    from sklearn import metrics as sk

    frame = bench.make_model_frames(20_000)[0]
    theirs, ours = bench.sklearn_classification(frame), bench.floor_classification(frame)
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"):
        assert ours[key] == pytest.approx(theirs["model"][key], rel=TOL), key
    accuracy, log_loss = ours["dummy"]
    assert accuracy == pytest.approx(theirs["dummy"]["accuracy"], rel=TOL)
    assert log_loss == pytest.approx(theirs["dummy"]["log_loss"], rel=TOL)
    precision, recall = ours["per_label"]
    assert precision == pytest.approx(theirs["per_label"][0], rel=TOL)
    assert recall == pytest.approx(theirs["per_label"][1], rel=TOL)
    y, proba = frame["y"].to_numpy(), frame["proba"].to_numpy()
    fpr, tpr, _ = sk.roc_curve(y, proba, drop_intermediate=False)
    assert np.allclose(np.r_[0, ours["roc"][0]], fpr, rtol=1e-12, atol=0)
    assert np.allclose(np.r_[0, ours["roc"][1]], tpr, rtol=1e-12, atol=0)
    precision, recall, _ = sk.precision_recall_curve(y, proba, drop_intermediate=False)
    assert np.allclose(ours["pr"][0], precision[:-1][::-1], rtol=1e-12, atol=0)
    assert np.allclose(ours["pr"][1], recall[:-1][::-1], rtol=1e-12, atol=0)
    assert ours["ap"] == pytest.approx(theirs["ap"], rel=TOL)
    assert ours["lift"] == pytest.approx(theirs["lift"], rel=TOL)
    assert ours["balance"].tolist() == theirs["balance"].sort_index().tolist()
