"""A daily Spark job: yesterday's inference log from the data lake against the reference, through
the data summary and drift presets on the Spark engine, the snapshot pushed to the platform.

    spark-submit examples/spark_daily_job.py \
        --current "s3a://lake/inferences/date={date}/" --reference "s3a://lake/reference/" \
        --project $PROJECT_ID            # MLP_URL and MLP_TOKEN (an ingest token) in the environment

Locally (Spark in local mode, Java 17+; ``pip install ".[spark]"``) with any Parquet folder:

    python examples/spark_daily_job.py --current data/current/ --reference data/reference/ \
        --project $PROJECT_ID --master "local[2]"

Each partition is reduced on the executors to mergeable partial aggregates; only those come back
to the driver (see docs/distributed.md). Exits 1 when the dataset drifted, so a scheduler marks
the day red; 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta

from metrics import DataDriftPreset, DataSummaryPreset, RemoteWorkspace, Report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--current", required=True, help="Parquet path; {date} is the day checked")
    parser.add_argument("--reference", required=True, help="Parquet path of the reference")
    parser.add_argument("--project", required=True, help="the platform project's id")
    parser.add_argument("--date", help="the day checked (YYYY-MM-DD; default yesterday, UTC)")
    parser.add_argument("--master", help="Spark master (default: spark-submit's)")
    args = parser.parse_args(argv)
    day = date.fromisoformat(args.date) if args.date else date.today() - timedelta(days=1)

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors with the metrics package
    builder = SparkSession.builder.appName(f"monitoring {day}")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        current = spark.read.parquet(args.current.format(date=day.isoformat()))
        reference = spark.read.parquet(args.reference)
        run = Report([DataSummaryPreset(), DataDriftPreset()], progress=True).run(
            current,
            reference,
            name=f"daily {day}",
            tags=["spark", "daily"],
            timestamp=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
            batch_id=f"daily-{day}",
        )
    finally:
        spark.stop()
    snapshot_id = RemoteWorkspace().add_snapshot(args.project, run)
    drift = next(r for r in run.results if r.type == "DatasetDrift")
    print(f"snapshot {snapshot_id}: {drift.values.get('drifted_columns')} drifted columns")
    return 1 if drift.values.get("dataset_drift") else 0


if __name__ == "__main__":
    sys.exit(main())
