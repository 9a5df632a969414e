"""Memory of one big snapshot push: the web worker's RSS before, at its peak and after (not a test).

It starts uvicorn as docker-compose runs it (production settings, one worker process, so the
server's pid is the worker's), pushes a valid snapshot of about 49 MiB (histograms and values of
a few thousand metrics), and reads the worker's /proc/<pid>/status: VmRSS before the push, VmHWM
(the peak, reset just before the push through /proc/<pid>/clear_refs) and VmRSS a few seconds
after the answer. It does the same with the body gzipped.

The baseline runs in the same run: the same pushes against a server running the code of another
git ref (`--baseline main`, exported with `git archive` into a temporary directory, served with
this checkout's virtualenv). Each server has a database of its own, dropped at the end. Then, in
one process per tree, the RSS around `ingest_snapshot(project, raw)` itself (parse, validate and
store, no HTTP), for both trees.

    .venv/bin/python benchmarks/bench_big_body.py [--mib 49] [--baseline main] [--arena-max 2]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_ingest import SETUP, environment  # noqa: E402

BIN = Path(sys.executable).parent
MIB = 1024 * 1024


def admin_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def database(name: str) -> str:
    from urllib.parse import urlsplit

    with psycopg.connect(admin_url(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(admin_url())._replace(path=f"/{name}").geturl()


def drop(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def big_document(target_bytes: int, seed: int = 0) -> dict[str, Any]:
    """A valid snapshot of about `target_bytes` of JSON: metrics of a wide dataset, each with 24
    values (points) and a 1,000-bin histogram of current and reference data."""
    rng = np.random.default_rng(seed)
    metrics: list[dict[str, Any]] = []
    size = 400
    while size < target_bytes:
        column = f"col{len(metrics)}"
        stats = rng.normal(0, 1, 24).tolist()
        metric = {
            "id": f'ColumnSummary(column="{column}")',
            "type": "ColumnSummary",
            "params": {"column": column},
            "status": "ok",
            "values": {
                "current": {f"q{i}": stats[i] for i in range(12)},
                "reference": {f"q{i}": stats[12 + i] for i in range(12)},
            },
            "distribution": {
                "kind": "histogram",
                "current": rng.integers(0, 100_000, 1000).tolist(),
                "reference": rng.integers(0, 100_000, 1000).tolist(),
                "edges": np.sort(rng.normal(0, 10, 1001)).tolist(),
            },
        }
        metrics.append(metric)
        size += len(json.dumps(metric)) + 2
    return {
        "schema_version": 1,
        "id": str(uuid.uuid4()),
        "timestamp": "2026-01-01T00:00:00Z",
        "name": "big",
        "tags": ["big"],
        "metadata": {"model": "wide"},
        "data": {"current": {"rows": 10**6, "columns": len(metrics)}},
        "metrics": metrics,
    }


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in MB (10^6 bytes)."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0]) * 1024 // 10**6
    return figures


def start_server(tree: Path, port: int, env: dict[str, str], log_path: str) -> subprocess.Popen:
    """uvicorn as compose runs it, one worker process, serving the code of `tree`."""
    log = open(log_path, "w")  # noqa: SIM115 - kept open while the server runs
    server = subprocess.Popen(
        [
            *(str(BIN / "uvicorn"), "mlplatform.asgi:application", "--host", "127.0.0.1"),
            *("--port", str(port), "--workers", "1", "--no-access-log"),
        ],
        cwd=tree,  # uvicorn puts its working directory first on sys.path
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(150):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start: see {log_path}")


def post(port: int, project: str, token: str, body: bytes, gzipped: bool = False) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    connection.request("POST", f"/api/v1/projects/{project}/snapshots", body, headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status not in (200, 201):
        raise SystemExit(f"push answered {response.status}: {answer[:300]!r}")
    return response.status


def measure_server(
    label: str,
    tree: Path,
    extra_env: dict[str, str],
    db_name: str,
    bodies: list[tuple[str, bytes, bool]],
    port: int,
) -> list[str]:
    db_url = database(db_name)
    env = environment(db_url)
    env["PYTHONPATH"] = str(tree)
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "-v", "0", "--skip-checks"],
        cwd=tree,
        env=env,
        check=True,
    )
    ids = json.loads(
        subprocess.run(
            [str(BIN / "python"), "-c", SETUP],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    lines = []
    server = start_server(tree, port, env | extra_env, f"/tmp/bench-big-body-{label}.log")
    try:
        small = json.dumps(big_document(40_000, seed=1)).encode()
        post(port, ids["push"], ids["token"], small)  # warm up: imports, connections, caches
        for name, body, gzipped in bodies:
            time.sleep(1)
            before = status(server.pid)["VmRSS"]
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            started = time.perf_counter()
            post(port, ids["push"], ids["token"], body, gzipped)
            elapsed = time.perf_counter() - started
            peak = status(server.pid)["VmHWM"]
            time.sleep(3)
            after = status(server.pid)["VmRSS"]
            size = len(gzip.decompress(body)) if gzipped else len(body)
            lines.append(
                f"{label:>20} {name:<9} RSS before {before:4d} MB, peak {peak:4d} MB "
                f"(+{peak - before} MB = {(peak - before) * 10**6 / size:.1f}x the body), "
                f"after {after:4d} MB (+{after - before} MB); {elapsed:.1f} s"
            )
            print(lines[-1], flush=True)
    finally:
        server.terminate()
        server.wait(20)
        drop(db_name)
    return lines


TRACE = """
import json, sys, django
from pathlib import Path
django.setup()
from projects.models import Project
from projects.ingestion import ingest_snapshot

def rss(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

raw = open(sys.argv[1], "rb").read()
project = Project.objects.get(name="push")
before = rss("VmRSS")
Path("/proc/self/clear_refs").write_text("5")
ingest_snapshot(project, raw)
print(json.dumps({"before": before, "peak": rss("VmHWM"), "after": rss("VmRSS")}))
"""


def measure_in_process(label: str, tree: Path, db_name: str, path: str, size: int) -> str:
    """The RSS of one process around `ingest_snapshot(project, raw)` (tracemalloc's peak would
    be orjson's reservation for the parse tree, 15 times the body, mostly never touched)."""
    db_url = database(db_name)
    env = environment(db_url)
    env["PYTHONPATH"] = str(tree)
    try:
        subprocess.run(
            [str(BIN / "python"), "manage.py", "migrate", "-v", "0", "--skip-checks"],
            cwd=tree,
            env=env,
            check=True,
        )
        subprocess.run(
            [str(BIN / "python"), "-c", SETUP], cwd=tree, env=env, check=True, capture_output=True
        )
        done = subprocess.run(
            [str(BIN / "python"), "-c", TRACE, path],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        drop(db_name)
    f = {k: v // 10**6 for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    return (
        f"{label:>20} ingest_snapshot(raw) in-process RSS before {f['before']:4d} MB, peak "
        f"{f['peak']:4d} MB (+{f['peak'] - f['before']} MB), after {f['after']:4d} MB "
        f"(+{f['after'] - f['before']} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=49, help="size of the snapshot's JSON")
    parser.add_argument("--baseline", default="main", help="git ref to compare with ('' for none)")
    parser.add_argument(
        "--arena-max", default="2", help="also run the new code with this MALLOC_ARENA_MAX"
    )
    args = parser.parse_args()

    document = big_document(int(args.mib * MIB))
    raw = json.dumps(document).encode()
    points = sum(24 for _ in document["metrics"])
    other = dict(document, id=str(uuid.uuid4()))
    zipped = gzip.compress(json.dumps(other).encode(), compresslevel=6)
    print(
        f"snapshot: {len(raw) / MIB:.1f} MiB of JSON, {len(document['metrics'])} metrics, "
        f"{points} points; gzipped {len(zipped) / MIB:.1f} MiB"
    )
    bodies = [("identity", raw, False), ("gzip", zipped, True)]
    trees: list[tuple[str, Path, dict[str, str]]] = [("new", ROOT, {})]
    if args.arena_max:
        trees.append(
            (f"new ARENA_MAX={args.arena_max}", ROOT, {"MALLOC_ARENA_MAX": args.arena_max})
        )
    with tempfile.TemporaryDirectory() as scratch:
        if args.baseline:
            old = Path(scratch) / "baseline"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.baseline],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            trees.insert(0, (args.baseline, old, {}))
        results = []
        for i, (label, tree, extra_env) in enumerate(trees):
            results += measure_server(label, tree, extra_env, f"bench_big_{i}", bodies, 18790 + i)
        body_path = Path(scratch) / "body.json"
        body_path.write_bytes(raw)
        for i, (label, tree, _) in enumerate(trees[:2]):
            results.append(
                measure_in_process(label, tree, f"bench_big_t{i}", str(body_path), len(raw))
            )
    print("\n".join(["", *results]))


if __name__ == "__main__":
    main()
