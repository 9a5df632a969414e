"""Dashboard benchmark: the data of an 8-panel tab over a project of 100k snapshots, read through
the running ASGI server on loopback (not a test).

It creates a database of its own (`bench_mlp_dash_<pid>`, dropped at the end), loads a project with
100,000 snapshots five minutes apart (a year), each with points of 10 series, its test counts and
a small document holding an income histogram, all written with COPY, and a dashboard tab of eight
panels: a counter, a three-line chart, grouped and stacked bars, a scatter, a distribution over
time, test results over time and test counts. It then times the tab's data endpoint over all
100k snapshots and over the last 30 days, reading the server's own time from its Server-Timing
header, beside the wall time of the request, and as a baseline in the same run, one series read
alone through the series endpoint.

    .venv/bin/python benchmarks/bench_dashboard.py [--snapshots 100000] [--repeat 20]

Target on a 2-core machine: the 8-panel tab over 100k snapshots in under 300 ms of server time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
import uuid
import zlib
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_ingest  # noqa: E402
from bench_ingest import environment, percentile, start_server  # noqa: E402

bench_ingest.DB = f"bench_mlp_dash_{os.getpid()}"
SERIES = [
    ('ColumnSummary(column="income")', "ColumnSummary", {"column": "income"}, "current.mean"),
    ('ColumnSummary(column="age")', "ColumnSummary", {"column": "age"}, "current.mean"),
    (
        'ColumnSummary(column="income")',
        "ColumnSummary",
        {"column": "income"},
        "current.missing_share",
    ),
    ('ColumnDrift(column="income")', "ColumnDrift", {"column": "income"}, "score"),
    ('ColumnDrift(column="age")', "ColumnDrift", {"column": "age"}, "score"),
    ("DatasetDrift(drift_share=0.5)", "DatasetDrift", {"drift_share": 0.5}, "drifted_share"),
    ("ClassificationQuality()", "ClassificationQuality", {}, "current.accuracy"),
    ("ClassificationQuality()", "ClassificationQuality", {}, "current.f1"),
    ("ClassificationQuality()", "ClassificationQuality", {}, "current.roc_auc"),
    (
        'ColumnDistribution(bins=20,column="income",top=20)',
        "ColumnDistribution",
        {"column": "income", "bins": 20, "top": 20},
        "current.count",
    ),
]
DISTRIBUTION = SERIES[-1][0]


def _s(i: int, label: str) -> dict[str, str]:
    return {"metric": SERIES[i][0], "field": SERIES[i][3], "label": label}


TAB = {
    "id": "bench",
    "title": "Bench",
    "panels": [
        {"type": "counter", "title": "Accuracy", "aggregate": "avg", "series": [_s(6, "accuracy")]},
        {
            "type": "line",
            "title": "Quality",
            "series": [_s(6, "accuracy"), _s(7, "f1"), _s(8, "roc auc")],
            "thresholds": [{"value": 0.8}],
        },
        {"type": "bar", "title": "Drift", "series": [_s(3, "income"), _s(4, "age")]},
        {
            "type": "bar",
            "title": "Missing",
            "stacked": True,
            "series": [_s(2, "income"), _s(5, "drift share")],
        },
        {"type": "scatter", "title": "Means", "series": [_s(0, "income"), _s(1, "age")]},
        {"type": "distribution", "title": "Income", "metric": DISTRIBUTION},
        {"type": "test_status", "title": "Tests", "period": "auto"},
        {"type": "test_counts", "title": "Counts"},
    ],
}


def load(db_url: str, project: str, snapshots: int) -> int:
    """The project's snapshots, points, documents and dashboard, written with COPY."""
    rng = np.random.default_rng(0)
    start = np.datetime64("2025-12-01T00:00:00")
    with psycopg.connect(db_url) as connection:
        series_ids = [
            connection.execute(
                "INSERT INTO projects_metricseries (project_id, metric_id, metric_type, params, "
                "field, created_at) VALUES (%s, %s, %s, %s, %s, now()) RETURNING id",
                (project, metric, kind, json.dumps(params), field),
            ).fetchall()[0][0]  # the one row RETURNING gives
            for metric, kind, params, field in SERIES
        ]
        fails = rng.random(snapshots) < 0.05
        with connection.cursor().copy(
            "COPY projects_snapshot (project_id, uuid, timestamp, name, metadata, status, "
            "tests_success, tests_fail, tests_warning, tests_error, tests_skipped, metric_count, "
            "point_count, size_bytes, body_sha256, created_at, processed_at) FROM STDIN"
        ) as copy:
            for i in range(snapshots):
                when = f"{start + np.timedelta64(5 * i, 'm')}+00:00"
                fail = int(fails[i])
                copy.write_row(
                    (project, uuid.uuid4(), when, "", "{}", "FAIL" if fail else "SUCCESS",
                     10 - fail, fail, 0, 0, 0, len(SERIES), len(SERIES), 1000, "0" * 64, when,
                     when)
                )  # fmt: skip
        rows = connection.execute(
            "SELECT id, timestamp FROM projects_snapshot WHERE project_id = %s ORDER BY timestamp",
            (project,),
        ).fetchall()
        with connection.cursor().copy(
            "COPY projects_metricpoint (series_id, snapshot_id, timestamp, value) FROM STDIN"
        ) as copy:
            for k, series_id in enumerate(series_ids):
                values = rng.normal(0.5 + k, 0.1, len(rows))
                for (snapshot_id, when), value in zip(rows, values, strict=True):
                    copy.write_row((series_id, snapshot_id, when, float(value)))
        edges = np.linspace(0, 200_000, 21).tolist()
        with connection.cursor().copy(
            "COPY projects_snapshotdocument (snapshot_id, body) FROM STDIN"
        ) as copy:
            for snapshot_id, _ in rows:
                counts = rng.multinomial(2000, np.full(20, 0.05)).tolist()
                body = {
                    "metrics": [
                        {
                            "id": DISTRIBUTION,
                            "distribution": {
                                "kind": "histogram",
                                "edges": edges,
                                "current": counts,
                                "reference": counts,
                            },
                        }
                    ]
                }
                copy.write_row((snapshot_id, zlib.compress(json.dumps(body).encode(), 1)))
        connection.execute(
            "INSERT INTO projects_dashboard (project_id, spec, version, updated_at) "
            "VALUES (%s, %s, 1, now())",
            (project, json.dumps(clean({"tabs": [TAB]}))),
        )
    with psycopg.connect(db_url, autocommit=True) as connection:
        for table in ("projects_metricpoint", "projects_snapshot", "projects_snapshotdocument"):
            connection.execute(f"VACUUM ANALYZE {table}")
    return series_ids[6]


def clean(spec: dict) -> dict:
    """Ids for the tab's panels, as the API would give them."""
    for i, panel in enumerate(spec["tabs"][0]["panels"]):
        panel["id"] = f"p{i}"
    return spec


def timed(connection: http.client.HTTPConnection, path: str, token: str) -> tuple[float, float]:
    """(wall ms, server ms) of one GET."""
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    wall = (time.perf_counter() - started) * 1000
    assert response.status == 200, body[:500]
    timing = response.getheader("Server-Timing") or "dur=nan"
    return wall, float(timing.split("dur=")[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database for profiling")
    args = parser.parse_args()
    admin_url, db_url = bench_ingest.database_urls()
    bench_ingest.recreate_database(admin_url)
    env = environment(db_url)
    server = None
    try:
        ids = bench_ingest.prepare(env, bench_ingest.SETUP)
        project, token = ids["series"], ids["token"]
        started = time.perf_counter()
        accuracy = load(db_url, project, args.snapshots)
        print(
            f"loaded {args.snapshots:,} snapshots, {args.snapshots * len(SERIES):,} points in "
            f"{time.perf_counter() - started:.0f} s"
        )
        port = 18766
        server = start_server(port, env, 1, "/tmp/bench-dashboard-server.log")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        base = f"/api/v1/projects/{project}"
        cases = {
            f"tab of 8 panels, all {args.snapshots:,} snapshots": (
                f"{base}/dashboard/data?tab=bench&range=all"
            ),
            "tab of 8 panels, last 30 days": f"{base}/dashboard/data?tab=bench&range=30d",
            f"baseline: one series, all {args.snapshots:,}": (
                f"{base}/series?id={accuracy}&points=600"
            ),
        }
        results = {}
        for name, path in cases.items():
            for _ in range(3):
                timed(connection, path, token)  # warm up
            runs = [timed(connection, path, token) for _ in range(args.repeat)]
            wall = [w / 1000 for w, _ in runs]
            server_ms = [s for _, s in runs if s == s]
            results[name] = percentile(wall, 50)
            server_text = (
                f"; server p50 {np.percentile(server_ms, 50):.0f} ms, "
                f"p95 {np.percentile(server_ms, 95):.0f} ms"
                if server_ms
                else ""
            )
            print(
                f"{name}: wall p50 {percentile(wall, 50):.0f} ms, p95 {percentile(wall, 95):.0f} ms"
                + server_text
            )
        baseline = results[f"baseline: one series, all {args.snapshots:,}"]
        whole = results[f"tab of 8 panels, all {args.snapshots:,} snapshots"]
        print(f"the 8-panel tab costs {whole / baseline:.1f}x one series read (11 series in all)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if not args.keep:
            bench_ingest.drop_database(admin_url)


if __name__ == "__main__":
    main()
