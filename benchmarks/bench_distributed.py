"""Benchmark of the drift and summary presets over data larger than memory (not a test).

Writes reference and current Parquet data of --rows rows per side (25 columns: 20 numerical, 5
categorical, drift in a third of them, as bench_metrics.py's frames) in files of 1M rows, then
times, each in a fresh process, DataSummaryPreset + DataDriftPreset over:

- parquet: the files streamed in batches (metrics.streaming);
- spark: spark.read.parquet of the same files, Spark in local[2] mode;
- dask: dask.dataframe.read_parquet on a distributed.LocalCluster of 2 workers;
- pandas: the files read into memory first (only up to --pandas-max rows).

It prints seconds, the ratio to the Parquet path in the same run, and peak RSS: the Python
process's high-water mark (VmHWM), and for Dask and Spark also their workers' (the JVM for Spark).

    .venv/bin/python benchmarks/bench_distributed.py                    # 10M and 50M rows
    .venv/bin/python benchmarks/bench_distributed.py --rows 1000000 --engines parquet pandas

Target: peak RSS under 1.5 GB for the Parquet path at 50M rows per side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ENGINES = ("parquet", "spark", "dask", "pandas")
FILE_ROWS = 1_000_000
NUMERIC, CATEGORICAL = 20, 5
LABELS = np.array([f"segment_{i:02d}" for i in range(12)])


def write_side(folder: Path, rows: int, shifted: bool, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for number, start in enumerate(range(0, rows, FILE_ROWS)):
        n = min(FILE_ROWS, rows - start)
        columns = {}
        for i in range(NUMERIC):
            drift = 0.5 if shifted and i % 3 == 0 else 0.0
            values = rng.normal(drift, 1 + i / 10, n)
            values[rng.random(n) < 0.01] = np.nan
            columns[f"num_{i:02d}"] = values
        for i in range(CATEGORICAL):
            p = np.ones(len(LABELS)) / len(LABELS)
            if shifted and i % 3 == 0:
                p = np.linspace(1, 3, len(LABELS))
                p /= p.sum()
            columns[f"cat_{i}"] = LABELS[rng.choice(len(LABELS), n, p=p)]
        table = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)
        pq.write_table(table, folder / f"part-{number:04d}.parquet", row_group_size=250_000)


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(engine: str, current: str, reference: str) -> None:
    """One measured run, in its own process; prints a JSON line."""
    from metrics import DataDriftPreset, DataSummaryPreset, Report

    report = Report([DataSummaryPreset(), DataDriftPreset()], progress=False)
    workers_mb = 0.0
    started = time.perf_counter()
    if engine == "parquet":
        run = report.run(current, reference)
    elif engine == "pandas":
        run = report.run(pd.read_parquet(current), pd.read_parquet(reference))
    elif engine == "dask":
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            started = time.perf_counter()  # the cluster's start-up is not the report's time
            run = report.run(dd.read_parquet(current), dd.read_parquet(reference))
            elapsed = time.perf_counter() - started
            peaks = client.run(lambda: _rss_mb())
            workers_mb = float(sum(peaks.values()))
            print(json.dumps(_result(run, elapsed, workers_mb)))
            return
    else:
        from pyspark.sql import SparkSession

        os.environ["PYSPARK_PYTHON"] = sys.executable
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.memory", "2g")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        started = time.perf_counter()
        run = report.run(spark.read.parquet(current), spark.read.parquet(reference))
        elapsed = time.perf_counter() - started
        gateway = spark.sparkContext._jvm  # the JVM's pid, for its memory
        assert gateway is not None
        workers_mb = _rss_mb(int(gateway.java.lang.ProcessHandle.current().pid()))
        spark.stop()
        print(json.dumps(_result(run, elapsed, workers_mb)))
        return
    print(json.dumps(_result(run, time.perf_counter() - started, workers_mb)))


def _result(run: object, seconds: float, workers_mb: float) -> dict[str, float | int]:
    document = run.dict()  # type: ignore[attr-defined]
    drifted = next(m for m in document["metrics"] if m["type"] == "DatasetDrift")
    return {
        "seconds": seconds,
        "rss_mb": _rss_mb(),
        "workers_mb": workers_mb,
        "rows": document["data"]["current"]["rows"],
        "drifted": drifted["values"]["drifted_columns"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000_000, 50_000_000])
    parser.add_argument("--engines", nargs="*", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--pandas-max", type=int, default=10_000_000, help="largest pandas run")
    parser.add_argument("--keep", help="a folder for the data (kept between runs)")
    args = parser.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    print(
        f"{'rows':>11} {'engine':<8} {'seconds':>8} {'/parquet':>8} {'driver MB':>9} "
        f"{'workers MB':>10}"
    )
    for rows in args.rows:
        folder = root / f"rows-{rows}"
        if not (folder / "done").exists():
            write_side(folder / "reference", rows, shifted=False, seed=1)
            write_side(folder / "current", rows, shifted=True, seed=2)
            (folder / "done").touch()
        baseline = None
        for engine in args.engines:
            if engine == "pandas" and rows > args.pandas_max:
                print(f"{rows:>11,} {engine:<8} {'(does not fit: skipped)':>28}")
                continue
            answer = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    engine,
                    str(folder / "current"),
                    str(folder / "reference"),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            lines = [line for line in answer.stdout.splitlines() if line.startswith("{")]
            if answer.returncode or not lines:
                print(f"{rows:>11,} {engine:<8} failed: {answer.stderr.strip()[-500:]}")
                continue
            result = json.loads(lines[-1])
            assert result["rows"] == rows, result
            if engine == "parquet":
                baseline = result["seconds"]
            ratio = f"{result['seconds'] / baseline:>8.2f}" if baseline else f"{'':>8}"
            print(
                f"{rows:>11,} {engine:<8} {result['seconds']:>8.1f} {ratio} "
                f"{result['rss_mb']:>9.0f} {result['workers_mb']:>10.0f}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
