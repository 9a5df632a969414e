"""Reports over Parquet files streamed in batches give the in-memory results: equal where the
statistic is exact, within the stated bound where it comes from a sketch."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from metrics import ColumnQuantile, DataDriftPreset, DataSummaryPreset, Report, TestSuite, streaming
from metrics.computations.drift import ColumnDrift
from metrics.computations.quality import DatasetSummary
from metrics.suites.data_tests import TestColumnDrift

SKETCHED = {"p25", "median", "p75", "unique", "unique_share", "most_common_share"}


def _frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(shift: float) -> pd.DataFrame:
        smooth = rng.normal(shift, 2, rows)  # more distinct values than the cap: sketched
        smooth[rng.random(rows) < 0.02] = np.nan
        few = rng.integers(0, 40, rows).astype(float)  # 40 values: exact
        few[rng.random(rows) < 0.01] = np.inf
        labels = np.array(["a", "b", "c", "d", None], dtype=object)
        p = [0.4, 0.3, 0.2 - shift / 10, 0.05 + shift / 10, 0.05]
        frame = pd.DataFrame(
            {
                "smooth": smooth,
                "few": few,
                "copy_of_few": few,
                "rank": rng.integers(0, 1000, rows),
                "segment": labels[rng.choice(5, rows, p=p)],
                "flag": rng.choice(["yes", "no"], rows),
            }
        )
        # The last rows repeat the first ones: duplicates in another file and batch.
        return pd.concat([frame.iloc[:-300], frame.iloc[:300]], ignore_index=True)

    return frame(0.0), frame(0.5)


def _write(frame: pd.DataFrame, folder: Path, parts: int, row_group: int) -> Path:
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        table = pa.Table.from_pandas(frame.iloc[chunk], preserve_index=False)
        pq.write_table(table, folder / f"part-{i:02d}.parquet", row_group_size=row_group)
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Any]:
    reference, current = _frames(60_000)
    root = tmp_path_factory.mktemp("parquet")
    return {
        "reference": reference,
        "current": current,
        "reference_dir": _write(reference, root / "reference", parts=3, row_group=7_000),
        "current_dir": _write(current, root / "current", parts=2, row_group=9_000),
    }


def assert_same_results(memory: Any, streamed: Any, path: str, sketched: bool) -> None:
    if isinstance(memory, dict):
        assert isinstance(streamed, dict), path
        for key, value in memory.items():
            if sketched and key in SKETCHED | {"most_common", "current_most_common"}:
                continue
            if sketched and key.endswith("_most_common"):
                continue
            assert key in streamed, f"{path}.{key}"
            assert_same_results(value, streamed[key], f"{path}.{key}", sketched)
    elif isinstance(memory, list):
        assert isinstance(streamed, list), path
        assert len(memory) == len(streamed), path
        for i, (a, b) in enumerate(zip(memory, streamed, strict=True)):
            assert_same_results(a, b, f"{path}[{i}]", sketched)
    elif isinstance(memory, float) and isinstance(streamed, (int, float)):
        assert (math.isnan(memory) and math.isnan(streamed)) or math.isclose(
            memory, streamed, rel_tol=1e-9, abs_tol=1e-12
        ), (path, memory, streamed)
    else:
        assert memory == streamed, (path, memory, streamed)


def test_the_summary_and_drift_presets_streamed_equal_the_in_memory_run(data):
    report = Report([DataSummaryPreset(), DataDriftPreset()], progress=False)
    memory = {m["id"]: m for m in report.run(data["current"], data["reference"]).dict()["metrics"]}
    run = report.run(str(data["current_dir"]), data["reference_dir"])
    streamed = {m["id"]: m for m in run.dict()["metrics"]}
    assert streamed.keys() == memory.keys()
    assert run.dict()["data"]["current"]["rows"] == 60_000
    approximate_drift = 0
    for metric_id, result in memory.items():
        got = streamed[metric_id]
        assert got["status"] == result["status"] == "ok", (metric_id, got.get("reason"))
        is_smooth = '"smooth"' in metric_id
        if metric_id.startswith("ColumnDrift") and is_smooth:
            # Wasserstein from the two sketches: within the stated bound, and flagged as such.
            values = got["values"]
            assert values["approximate"] is True
            assert abs(values["score"] - result["values"]["score"]) <= values["error_bound"]
            assert values["drifted"] == result["values"]["drifted"]
            approximate_drift += 1
            continue
        assert_same_results(result, got, metric_id, sketched=is_smooth)
    assert approximate_drift == 1
    # Exact columns say nothing of approximation.
    few = streamed['ColumnSummary(column="few")']["values"]["current"]
    assert "approximate" not in few
    assert few["median"] == memory['ColumnSummary(column="few")']["values"]["current"]["median"]
    summary = streamed[DatasetSummary().id]["values"]["reference"]
    assert summary["duplicated_rows"] == int(data["reference"].duplicated().sum()) >= 300
    assert streamed[DatasetSummary().id]["details"]["current"]["duplicated_columns"] == [
        ["few", "copy_of_few"]
    ]


def test_sketched_quantiles_are_within_their_rank_error(data):
    run = Report([DataSummaryPreset()], progress=False).run(data["current_dir"])
    values = run.metric('ColumnSummary(column="smooth")').values["current"]
    assert values["approximate"] is True
    finite = np.sort(data["current"]["smooth"].dropna().to_numpy())
    for key, q in (("p25", 0.25), ("median", 0.5), ("p75", 0.75)):
        rank = np.searchsorted(finite, values[key]) / len(finite)
        assert abs(rank - q) <= values["rank_error"], (key, rank)
    # The exact statistics of the same column, against NumPy and SciPy.
    assert values["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert values["std"] == pytest.approx(np.std(finite, ddof=1), rel=1e-12)
    assert values["missing"] == int(data["current"]["smooth"].isna().sum())
    assert stats.describe(finite).minmax == (values["min"], values["max"])


def test_a_numerical_ks_drift_comes_with_its_bound(data):
    run = Report([ColumnDrift(column="smooth", method="ks")], progress=False).run(
        data["current_dir"], data["reference_dir"]
    )
    values = run.metric('ColumnDrift(column="smooth",method="ks")').values
    exact = stats.ks_2samp(
        data["reference"]["smooth"].dropna(), data["current"]["smooth"].dropna()
    ).statistic
    assert values["approximate"] is True
    assert abs(values["statistic"] - exact) <= values["error_bound"]


def test_tests_run_on_streamed_metrics(data):
    suite = TestSuite([TestColumnDrift(column="segment")])
    run = suite.run(data["current_dir"], data["reference_dir"])
    assert sum(run.test_counts.values()) == 1
    in_memory = suite.run(data["current"], data["reference"])
    assert [t.status for t in run.tests] == [t.status for t in in_memory.tests]


def test_metrics_that_need_the_rows_are_refused_before_reading(data, tmp_path):
    with pytest.raises(ValueError, match="ColumnQuantile cannot run on streamed Parquet") as error:
        Report([ColumnQuantile(column="smooth", q=0.9)], progress=False).run(data["current_dir"])
    assert "ColumnSummary" in str(error.value)  # says what is supported
    with pytest.raises(ValueError, match="No such Parquet file"):
        Report([DataSummaryPreset()], progress=False).run(tmp_path / "missing.parquet")
    with pytest.raises(ValueError, match="give both sides the same way"):
        Report([DataDriftPreset()], progress=False).run(data["current_dir"], data["reference"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"No \.parquet files"):
        Report([DataSummaryPreset()], progress=False).run(tmp_path / "empty")


def test_memory_stays_bounded_by_the_batch_not_the_rows(tmp_path, monkeypatch):
    rows = 400_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({f"x{i}": rng.integers(0, 50, rows).astype(float) for i in range(8)})
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=20_000)
    size = int(frame.memory_usage(deep=True).sum())
    del frame
    monkeypatch.setattr(streaming, "BATCH_ROWS", 20_000)
    report = Report([DataSummaryPreset(correlations=False)], progress=False)
    tracemalloc.start()
    try:
        run = report.run(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert run.metric(DatasetSummary()).values["current"]["row_count"] == rows
    # The row hashes of the duplicate count (8 bytes a row) are the one thing that grows with rows.
    assert peak < size / 2, (peak, size)
