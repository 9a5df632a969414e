"""Ingestion and series benchmark against the running ASGI server on loopback (not a test).

It creates a database of its own (`bench_mlp` on the PostgreSQL of DATABASE_URL, dropped at the
end), starts the web server as docker-compose runs it (uvicorn, --workers processes), and then:

1. pushes 50-metric snapshots from concurrent clients (one keep-alive connection each) and prints
   snapshots/s accepted and the p50/p99 latency;
2. loads a project with 100k snapshots (a point each for one series, written with COPY) and times
   the series endpoint over all of them.

    .venv/bin/python benchmarks/bench_ingest.py [--snapshots 2000] [--clients 8]

Targets on a 2-core machine: 200 snapshots/s with p99 under 250 ms; series under 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DB = "bench_mlp"


def database_urls() -> tuple[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    parts = urlsplit(base)
    return base, parts._replace(path=f"/{DB}").geturl()


def recreate_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DB}"')


def drop_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def environment(db_url: str) -> dict[str, str]:
    """The production settings, as docker-compose gives them, on this machine's services."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mlplatform.settings.production",
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "SECRET_KEY": "benchmark-only-" + "k" * 40 + "0123456789",
        "SITE_URL": "http://127.0.0.1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_BACKEND": "console",
        # The benchmark measures the server's capacity, not the per-token rate limit.
        "API_RATE_LIMIT_TOKEN": "100000000/min",
        "PYTHONUNBUFFERED": "1",
    }


SETUP = """
import django, json
django.setup()
from mlplatform.accounts.models import User, TokenScope
from mlplatform.accounts.services import create_organization, create_token
from mlplatform.accounts.access import access_for_user
from projects.models import Project
user = User.objects.create_user(email="bench@example.com", password=None)
org = create_organization(name="Bench", owner=user)
access = access_for_user(user, org_id=org.pk)
push = Project.objects.create(organization=org, name="push")
series = Project.objects.create(organization=org, name="series")
_, token = create_token(access, name="bench", scope=TokenScope.WRITE)
print(json.dumps({"push": str(push.pk), "series": str(series.pk), "token": token}))
"""


def snapshot_bodies(count: int) -> list[bytes]:
    """`count` documents of one 50-metric report (summary and drift over 15 columns), each with
    its own id and time."""
    from metrics import DataDriftPreset, DataSummaryPreset, Report

    rng = np.random.default_rng(0)
    columns: dict[str, np.ndarray] = {f"num{i}": rng.normal(i, 1, 2000) for i in range(12)}
    columns |= {f"cat{i}": rng.choice(list("abcde"), 2000) for i in range(3)}
    frame = pd.DataFrame(columns)
    document = (
        Report([DataSummaryPreset(), DataDriftPreset()], progress=False).run(frame, frame).dict()
    )
    print(f"snapshot: {len(document['metrics'])} metrics, {len(json.dumps(document)) // 1024} KB")
    bodies = []
    start = pd.Timestamp("2026-01-01T00:00:00Z")
    for i in range(count):
        document["id"] = str(uuid.uuid4())
        document["timestamp"] = (start + pd.Timedelta(minutes=i)).isoformat()
        bodies.append(json.dumps(document).encode())
    return bodies


def push(port: int, project: str, token: str, bodies: list[bytes], clients: int) -> list[float]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]

    def client(chunk: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for body in chunk:
            started = time.perf_counter()
            connection.request("POST", f"/api/v1/projects/{project}/snapshots", body, headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status != 201:
                    failures.append(str(response.status))

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} pushes failed: {sorted(set(failures))}")
    return latencies


def load_series(db_url: str, project: str, snapshots: int) -> int:
    """`snapshots` snapshots in a project, one point each of one series, written with COPY."""
    start = pd.Timestamp("2025-01-01T00:00:00Z")
    with psycopg.connect(db_url) as connection:
        series_id = connection.execute(
            "INSERT INTO projects_metricseries (project_id, metric_id, metric_type, params, field, created_at) "
            "VALUES (%s, 'ColumnSummary(column=\"x\")', 'ColumnSummary', '{\"column\": \"x\"}', 'current.mean', now()) RETURNING id",
            (project,),
        ).fetchall()[0][0]  # the one row RETURNING gives
        with connection.cursor().copy(
            "COPY projects_snapshot (project_id, uuid, timestamp, name, metadata, status, tests_success, tests_fail, "
            "tests_warning, tests_error, tests_skipped, metric_count, point_count, size_bytes, body_sha256, created_at, "
            "processed_at) FROM STDIN"
        ) as copy:
            for i in range(snapshots):
                when = start + pd.Timedelta(minutes=5 * i)
                copy.write_row(
                    (
                        project,
                        uuid.uuid4(),
                        when,
                        "",
                        "{}",
                        "NO_TESTS",
                        0,
                        0,
                        0,
                        0,
                        0,
                        1,
                        1,
                        1000,
                        "0" * 64,
                        when,
                        when,
                    )
                )
        rows = connection.execute(
            "SELECT id, timestamp FROM projects_snapshot WHERE project_id = %s ORDER BY timestamp",
            (project,),
        ).fetchall()
        values = np.random.default_rng(0).normal(40, 3, len(rows))
        with connection.cursor().copy(
            "COPY projects_metricpoint (series_id, snapshot_id, timestamp, value) FROM STDIN"
        ) as copy:
            for (snapshot_id, when), value in zip(rows, values, strict=True):
                copy.write_row((series_id, snapshot_id, when, float(value)))
    # What autovacuum does to a table loaded this fast (within a minute, at its 1% threshold): mark
    # the pages all-visible, so that series reads are index-only scans.
    with psycopg.connect(db_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE projects_metricpoint")
        connection.execute("VACUUM ANALYZE projects_snapshot")
    return series_id


def time_series(port: int, project: str, token: str, series_id: int, repeat: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        connection.request(
            "GET", f"/api/v1/projects/{project}/series?id={series_id}&points=1000", headers=headers
        )
        response = connection.getresponse()
        body = json.loads(response.read())
        timings.append(time.perf_counter() - started)
        assert response.status == 200, body
    found = body["series"][0]
    print(f"series: {found['total']:,} points, {len(found['points']['v'])} returned (downsampled)")
    return timings


def prepare(env: dict[str, str], setup: str) -> dict[str, str]:
    """Migrate the benchmark's database, then run `setup` (Python printing JSON) against it."""
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    done = subprocess.run(
        [str(BIN / "python"), "-c", setup],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def start_server(port: int, env: dict[str, str], workers: int, log_path: str) -> subprocess.Popen:
    """uvicorn as compose runs it, on loopback, once it answers."""
    log = open(log_path, "w")  # noqa: SIM115 - kept open while the server runs
    server = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "mlplatform.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            break
        except OSError:
            time.sleep(0.2)
    return server


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--series-snapshots", type=int, default=100_000)
    parser.add_argument(
        "--workers", type=int, default=4, help="uvicorn worker processes (2 per core)"
    )
    parser.add_argument(
        "--server-log", default="/tmp/bench-server.log", help="where the server's output goes"
    )
    args = parser.parse_args()

    admin_url, db_url = database_urls()
    recreate_database(admin_url)
    env = environment(db_url)
    server = None
    try:
        ids = prepare(env, SETUP)
        port = 18765
        server = start_server(port, env, args.workers, args.server_log)
        bodies = snapshot_bodies(args.snapshots + 50)
        push(port, ids["push"], ids["token"], bodies[:50], 2)  # warm up
        started = time.perf_counter()
        latencies = push(port, ids["push"], ids["token"], bodies[50:], args.clients)
        elapsed = time.perf_counter() - started
        print(
            f"ingestion: {args.snapshots} snapshots from {args.clients} clients in {elapsed:.1f} s = "
            f"{args.snapshots / elapsed:.0f} snapshots/s; latency p50 {percentile(latencies, 50):.0f} ms, "
            f"p99 {percentile(latencies, 99):.0f} ms"
        )
        series_id = load_series(db_url, ids["series"], args.series_snapshots)
        timings = time_series(port, ids["series"], ids["token"], series_id, 30)
        print(
            f"series endpoint over {args.series_snapshots:,} snapshots: p50 {percentile(timings[5:], 50):.0f} ms, "
            f"p99 {percentile(timings[5:], 99):.0f} ms"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        drop_database(admin_url)


if __name__ == "__main__":
    main()
