"""Ingestion and series benchmark against real web servers on loopback (not a test).

It creates a database of its own (`bench_mlp_<pid>` on the PostgreSQL of DATABASE_URL, dropped at
the end) and, with the production settings:

1. for each serving model of `--models` (the first is the baseline: uvicorn, the serving model
   before issue 14), starts its server with `--workers` processes and pushes 42 KB snapshots of
   530 points (a 51-metric report) from concurrent clients (one keep-alive connection each),
   printing snapshots/s accepted, the p50/p99 latency and the web processes' CPU per snapshot,
   then each model's ratio against the baseline; and checks that every push was stored once;
2. loads a project with 100k snapshots (a point each for one series, written with COPY) and times
   the series endpoint over all of them (the dashboard's benchmark is bench_dashboard.py).

    .venv/bin/python benchmarks/bench_ingest.py [--snapshots 2000] [--clients 8] [--models uvicorn,gunicorn,granian-asgi,granian-wsgi]

Targets on a 2-core machine: 200 snapshots/s with p99 under 250 ms; series under 100 ms.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
# A name per run: benchmarks of several checkouts may share one PostgreSQL.
DB = f"bench_mlp_{os.getpid()}"


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


def numbers_in(values: Any) -> int:
    """How many points a metric's values make (one per number)."""
    if isinstance(values, dict):
        return sum(numbers_in(v) for v in values.values())
    return int(isinstance(values, (int, float)))


@functools.cache
def snapshot_document() -> dict[str, Any]:
    """One 50-metric report (summary and drift over 15 columns): about 42 KB and 530 points."""
    from metrics import DataDriftPreset, DataSummaryPreset, Report

    rng = np.random.default_rng(0)
    columns: dict[str, np.ndarray] = {f"num{i}": rng.normal(i, 1, 2000) for i in range(12)}
    columns |= {f"cat{i}": rng.choice(list("abcde"), 2000) for i in range(3)}
    frame = pd.DataFrame(columns)
    document = (
        Report([DataSummaryPreset(), DataDriftPreset()], progress=False).run(frame, frame).dict()
    )
    points = sum(numbers_in(m["values"]) for m in document["metrics"])
    print(
        f"snapshot: {len(document['metrics'])} metrics, {points} points, "
        f"{len(json.dumps(document)) // 1024} KB"
    )
    return document


def snapshot_bodies(count: int) -> list[bytes]:
    """`count` copies of the benchmark's snapshot, each with its own id and time."""
    document = dict(snapshot_document())
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


SERVING_MODELS = {
    # The serving model before issue 14: every request through uvicorn's ASGI, Django's sync
    # views in its one thread per process.
    "uvicorn": "uvicorn mlplatform.asgi:application --host 127.0.0.1 --port {port} "
    "--workers {workers} --no-access-log",
    # HTTP on a WSGI server, threads per process (websockets would go to an ASGI process).
    "gunicorn": "gunicorn mlplatform.wsgi:application --bind 127.0.0.1:{port} --workers {workers} "
    "--worker-class gthread --threads 4 --backlog 2048",
    # Granian (a Rust HTTP server) on the same ASGI application: websockets included.
    "granian-asgi": "granian mlplatform.asgi:application --interface asgi --host 127.0.0.1 "
    "--port {port} --workers {workers} --log-level warning",
    # Granian on the WSGI application, 4 blocking threads a process (no websockets).
    "granian-wsgi": "granian mlplatform.wsgi:application --interface wsgi --host 127.0.0.1 "
    "--port {port} --workers {workers} --blocking-threads 4 --log-level warning",
}


def server_command(model: str, port: int, workers: int) -> list[str]:
    args = SERVING_MODELS[model].format(port=port, workers=workers).split()
    return [str(BIN / args[0]), *args[1:]]


def start_server(
    port: int, env: dict[str, str], workers: int, log_path: str, model: str = "uvicorn"
) -> subprocess.Popen:
    """The web server of `model` on loopback, once it answers."""
    log = open(log_path, "w")  # noqa: SIM115 - kept open while the server runs
    server = subprocess.Popen(
        server_command(model, port, workers),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(150):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        raise SystemExit(f"the {model} server did not answer; see {log_path}")
    return server


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)


def cpu_seconds(root_pid: int) -> float:
    """User and system CPU time of a process and its children (the server's workers) so far."""
    pids = [root_pid]
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def count_stored(db_url: str, project: str) -> tuple[int, int]:
    """(snapshots, distinct snapshot ids) stored in the project."""
    with psycopg.connect(db_url) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT uuid) FROM projects_snapshot WHERE project_id = %s",
            (project,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def measure_model(
    model: str,
    env: dict[str, str],
    ids: dict[str, str],
    bodies: list[bytes],
    args: argparse.Namespace,
) -> tuple[float, float, float]:
    """(snapshots/s, p50 ms, p99 ms) of pushing `bodies` to the server of `model`."""
    port = free_port()
    server = start_server(port, env, args.workers, f"{args.server_log}.{model}", model)
    try:
        push(port, ids["push"], ids["token"], bodies[:50], 2)  # warm up
        cpu = cpu_seconds(server.pid)
        started = time.perf_counter()
        latencies = push(port, ids["push"], ids["token"], bodies[50:], args.clients)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu
    finally:
        stop_server(server)
    count = len(bodies) - 50
    rate = count / elapsed
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"{model:>9}: {count} snapshots from {args.clients} clients in {elapsed:.1f} s = "
        f"{rate:.0f} snapshots/s; latency p50 {p50:.0f} ms, p99 {p99:.0f} ms; "
        f"web CPU {1000 * cpu / count:.1f} ms a snapshot"
    )
    return rate, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=2000, help="per serving model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--series-snapshots", type=int, default=100_000)
    parser.add_argument(
        "--models",
        default="uvicorn,gunicorn",
        help="serving models to compare, the first the baseline: " + ", ".join(SERVING_MODELS),
    )
    parser.add_argument("--workers", type=int, default=4, help="web processes (2 per core)")
    parser.add_argument(
        "--server-log", default="/tmp/bench-server.log", help="where the servers' output goes"
    )
    args = parser.parse_args()
    models = args.models.split(",")

    admin_url, db_url = database_urls()
    recreate_database(admin_url)
    env = environment(db_url)
    try:
        ids = prepare(env, SETUP)
        results = {}
        for model in models:
            bodies = snapshot_bodies(args.snapshots + 50)
            results[model] = measure_model(model, env, ids, bodies, args)
        stored, distinct = count_stored(db_url, ids["push"])
        expected = len(models) * (args.snapshots + 50)
        print(f"stored {stored} snapshots ({distinct} distinct ids) of {expected} pushed")
        baseline = results[models[0]]
        for model in models[1:]:
            rate, _, p99 = results[model]
            print(
                f"{model} against {models[0]}: {rate / baseline[0]:.2f}x the snapshots/s, "
                f"{p99 / baseline[2]:.2f}x the p99"
            )
        best = models[-1]
        port = free_port()
        server = start_server(port, env, args.workers, f"{args.server_log}.series", best)
        try:
            series_id = load_series(db_url, ids["series"], args.series_snapshots)
            timings = time_series(port, ids["series"], ids["token"], series_id, 30)
        finally:
            stop_server(server)
        print(
            f"series endpoint ({best}) over {args.series_snapshots:,} snapshots: "
            f"p50 {percentile(timings[5:], 50):.0f} ms, p99 {percentile(timings[5:], 99):.0f} ms"
        )
    finally:
        drop_database(admin_url)


if __name__ == "__main__":
    main()
