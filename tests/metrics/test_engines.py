"""The drift and summary presets over a Dask DataFrame (on a real distributed.LocalCluster) and a
Spark DataFrame (Spark in local[2] mode) give the results of the Parquet streaming path, and so
of the in-memory run: equal for exact statistics, within the stated bound for sketched ones."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import numpy as np
import pytest

from metrics import DataDriftPreset, DataSummaryPreset, Report
from tests.metrics.test_streaming import _frames, _write, assert_same_results

ROWS = 30_000


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Any]:
    reference, current = _frames(ROWS, seed=3)
    root = tmp_path_factory.mktemp("engines")
    report = Report([DataSummaryPreset(), DataDriftPreset()], progress=False)
    parquet = report.run(
        _write(current, root / "current", parts=2, row_group=6_000),
        _write(reference, root / "reference", parts=3, row_group=5_000),
    )
    memory = report.run(current, reference)
    return {
        "reference": reference,
        "current": current,
        "report": report,
        "parquet": {m["id"]: m for m in parquet.dict()["metrics"]},
        "memory": {m["id"]: m for m in memory.dict()["metrics"]},
    }


def _check(results: dict[str, Any], data: dict[str, Any]) -> None:
    assert results.keys() == data["parquet"].keys()
    for metric_id, expected in data["parquet"].items():
        got = results[metric_id]
        assert got["status"] == "ok", (metric_id, got.get("reason"))
        if metric_id.startswith("ColumnDrift") and '"smooth"' in metric_id:
            values, exact = got["values"], data["memory"][metric_id]["values"]
            assert abs(values["score"] - exact["score"]) <= values["error_bound"]
            assert values["drifted"] == exact["drifted"]
            continue
        # Sketches merged in another order hold other items: compare those within their bound.
        sketched = '"smooth"' in metric_id
        assert_same_results(expected, got, metric_id, sketched=sketched)
        if sketched and metric_id.startswith("ColumnSummary"):
            finite = np.sort(data["current"]["smooth"].dropna().to_numpy())
            current = got["values"]["current"]
            rank = np.searchsorted(finite, current["median"]) / len(finite)
            assert abs(rank - 0.5) <= current["rank_error"]


def test_dask_on_a_local_cluster_gives_the_parquet_results(data):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        current = dd.from_pandas(data["current"], npartitions=4)
        reference = dd.from_pandas(data["reference"], npartitions=3)
        run = data["report"].run(current, reference)
    results = {m["id"]: m for m in run.dict()["metrics"]}
    _check(results, data)
    assert run.dict()["data"]["reference"]["rows"] == ROWS


@pytest.fixture(scope="module")
def spark():
    pyspark = pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java (17+)")
    # The executors' Python is this one, which has the metrics package installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        pyspark.sql.SparkSession.builder.master("local[2]")
        .appName("metrics-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_in_local_mode_gives_the_parquet_results(data, spark):
    current = spark.createDataFrame(data["current"]).coalesce(3)
    reference = spark.createDataFrame(data["reference"]).coalesce(2)
    assert current.rdd.getNumPartitions() >= 2  # partials really merged
    run = data["report"].run(current, reference)
    results = {m["id"]: m for m in run.dict()["metrics"]}
    _check(results, data)
    assert run.dict()["data"]["current"]["rows"] == ROWS
