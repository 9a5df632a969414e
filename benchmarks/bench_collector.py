"""Collector benchmark (not a test): rows/s accepted by the intake endpoint on loopback, in batches
of 1,000 JSON records, and the time to compute a snapshot of 100k rows; each beside a baseline run
in the same process.

It creates a database of its own (`bench_mlp_collector_<pid>`, dropped at the end), starts the web server
as compose runs it (production settings, uvicorn with --workers processes) and posts from
concurrent keep-alive clients.

    .venv/bin/python benchmarks/bench_collector.py [--seconds 15] [--clients 8] [--workers 4]

Targets on a 2-core machine: at least 50k rows/s accepted in batches of 1,000.
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
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
import bench_ingest  # noqa: E402
from bench_ingest import BIN, environment, start_server  # noqa: E402

bench_ingest.DB = f"bench_mlp_collector_{os.getpid()}"

SETUP = """
import django, json
django.setup()
from mlplatform.accounts.models import User, TokenScope
from mlplatform.accounts.services import create_organization, create_token
from mlplatform.accounts.access import access_for_user
from projects.models import Project
from collector.models import Collector
from collector.intake import accept_reference
user = User.objects.create_user(email="bench@example.com", password=None)
org = create_organization(name="Bench", owner=user)
access = access_for_user(user, org_id=org.pk)
project = Project.objects.create(organization=org, name="collector")
collector = Collector.objects.create(project=project, name="bench", every_minutes=10_000,
    config={"presets": ["data_drift", "data_summary"], "quality_presets": ["classification"],
            "definition": {"prediction": "prediction", "categorical_columns": ["plan", "prediction"]}})
_, token = create_token(access, name="bench", scope=TokenScope.INGEST, project_id=project.pk)
print(json.dumps({"collector": str(collector.pk), "token": token}))
"""


def rows(count: int, seed: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {f"x{i}": rng.normal(i, 1, count) for i in range(8)}
    data["plan"] = rng.choice(["basic", "plus", "pro"], count)
    data["prediction"] = rng.integers(0, 2, count)
    frame = pd.DataFrame(data)
    frame.insert(0, "prediction_id", [f"p{start + i}" for i in range(count)])
    return frame


def post_for(
    port: int, path: str, token: str, bodies: list[bytes], seconds: float, clients: int
) -> int:
    sent = [0] * clients
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        i = k
        while time.monotonic() < stop:
            connection.request("POST", path, body=bodies[i % len(bodies)], headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 202:
                raise SystemExit(f"intake answered {response.status}: {answer[:300]!r}")
            sent[k] += 1000
            i += clients

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    admin_url, db_url = bench_ingest.database_urls()
    bench_ingest.recreate_database(admin_url)
    env = {**environment(db_url), "COLLECTOR_MAX_BODY_BYTES": str(50 * 1024 * 1024)}
    server = None
    try:
        ids = bench_ingest.prepare(env, SETUP)
        reference = rows(20_000, seed=0).drop(columns=["prediction_id"])
        port = 18767
        server = start_server(port, env, args.workers, "/tmp/bench-collector-server.log")
        # The reference, as its owner uploads it (an ingest token may not).
        subprocess.run(
            [
                str(BIN / "python"),
                "-c",
                "import django,sys; django.setup();"
                "from collector.models import Collector; from collector.intake import accept_reference;"
                f"accept_reference(Collector.objects.get(pk='{ids['collector']}'), sys.stdin.buffer.read(), 'text/csv', 'ref.csv')",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            input=reference.to_csv(index=False).encode(),
        )
        bodies = [
            orjson.dumps(rows(1000, seed=s, start=1000 * s).to_dict(orient="records"))
            for s in range(50)
        ]
        print(f"batch: 1,000 rows, {len(bodies[0]) // 1024} KB of JSON, 11 columns")
        # Baseline, in this process: what storing a batch costs at the least (parse, frame,
        # Parquet), with none of the web.
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        started = time.perf_counter()
        for body in bodies:
            table = pa.Table.from_pandas(
                pd.DataFrame.from_records(orjson.loads(body)), preserve_index=False
            )
            pq.write_table(table, io.BytesIO(), compression="zstd")
        floor = 1000 * len(bodies) / (time.perf_counter() - started)
        post_for(
            port, f"/api/v1/collectors/{ids['collector']}/data", ids["token"], bodies, 2, 2
        )  # warm up
        sent = post_for(
            port,
            f"/api/v1/collectors/{ids['collector']}/data",
            ids["token"],
            bodies,
            args.seconds,
            args.clients,
        )
        rate = sent / args.seconds
        print(
            f"intake: {rate:,.0f} rows/s accepted over {args.seconds:.0f} s from {args.clients} clients "
            f"({args.workers} server processes); baseline (parse + Parquet, one core, no web): "
            f"{floor:,.0f} rows/s; ratio {rate / floor:.2f}"
        )
        # Computing a snapshot of 100k rows: the collector's run against the library alone.
        code = f"""
import django, time, json
django.setup()
from collector.models import Collector, RowBatch
from collector import runs
from collector.intake import read_parquet, current_reference
c = Collector.objects.get(pk='{ids["collector"]}')
keep = list(RowBatch.objects.filter(collector=c, consumed_at__isnull=True).order_by('id').values_list('id', flat=True)[:100])
RowBatch.objects.filter(collector=c, consumed_at__isnull=True).exclude(id__in=keep).update(consumed_at=django.utils.timezone.now())
import pandas as pd
frames = pd.concat([read_parquet(b.parquet) for b in RowBatch.objects.filter(id__in=keep)], ignore_index=True)
reference = read_parquet(current_reference(c).parquet)
started = time.perf_counter()
runs._report(c, c.config['presets'], frames.columns).run(frames.drop(columns=['prediction_id', 'timestamp']), reference)
library = time.perf_counter() - started
started = time.perf_counter()
run = runs.compute(c.pk, force=True)
total = time.perf_counter() - started
print(json.dumps({{"rows": run.rows, "library": library, "total": total}}))
"""
        result = json.loads(
            subprocess.run(
                [str(BIN / "python"), "-c", code],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(
            f"snapshot of {result['rows']:,} rows: {result['total']:.2f} s for the run (read the batches, "
            f"compute, store through ingestion, consume); the library alone on the same rows: "
            f"{result['library']:.2f} s; ratio {result['total'] / result['library']:.2f}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        bench_ingest.drop_database(admin_url)


if __name__ == "__main__":
    main()
