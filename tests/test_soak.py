"""The soak test: a real server with the production settings (uvicorn, a pool of four connections)
under concurrent mixed traffic for SOAK_SECONDS (20 by default; `SOAK_SECONDS=600 scripts/test
tests/test_soak.py -s` for a long run): snapshot pushes, series and dashboard reads, malformed
bodies, a slow body left open, clients that hang up mid-push. It never answers a 500 (a 503 only
with Retry-After), and afterwards /healthz answers 200 within a second with every connection back
in the pool, every acknowledged snapshot is stored exactly once, and the server printed no
traceback."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from mlplatform.accounts.models import TokenScope
from projects.models import MetricSeries, Snapshot
from projects.processing import process_snapshot
from tests.factories import make_project, make_snapshot, make_token, snapshot_document
from tests.processes import (
    Process,
    free_port,
    production_environment,
    raw_request,
    wait_until_serving,
    web_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))
POOL_SIZE = 4


class Client:
    """One keep-alive HTTP client; reconnects when the server closed the connection."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                return response.status, {
                    "retry_after": response.getheader("Retry-After"),
                    "json": data[:1] in (b"{", b"["),
                }
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def test_the_server_holds_up_under_mixed_traffic(acme):
    project = make_project(acme, "Soak")
    _, ingest = make_token(acme, TokenScope.INGEST, project=project)
    _, read = make_token(acme, TokenScope.READ)
    template = snapshot_document()
    # One snapshot stored and processed first, so that the series read has a series.
    first = make_snapshot(project, seed=1)
    process_snapshot(first.pk)
    series = MetricSeries.objects.get(
        project=project, metric_type="DatasetSummary", field="current.row_count"
    )
    pushes = f"/api/v1/projects/{project.pk}/snapshots"

    def document() -> tuple[str, bytes]:
        snapshot_id = str(uuid.uuid4())
        return snapshot_id, json.dumps({**template, "id": snapshot_id}).encode()

    port = free_port()
    env = production_environment(
        DJANGO_SETTINGS_MODULE="tests.mlplatform.serving_settings",
        DATABASE_POOL_SIZE=str(POOL_SIZE),
        HTTP_BODY_READ_TIMEOUT="1",
    )
    server = Process(web_server(port), env)
    statuses: Counter[str] = Counter()
    acknowledged: list[str] = []
    aborted: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()
    stop_at = 0.0

    def note(kind: str, status: int, info: dict[str, Any]) -> None:
        with lock:
            statuses[f"{kind} {status}"] += 1
            if status >= 500 and not (status == 503 and info.get("retry_after")):
                problems.append(f"{kind}: {status} {info}")
            if status >= 400 and not info.get("json"):
                problems.append(f"{kind}: {status} without a JSON body")

    def pusher() -> None:
        client = Client(port, ingest)
        while time.monotonic() < stop_at:
            snapshot_id, body = document()
            status, info = client.request("POST", pushes, body)
            note("push", status, info)
            if status in (200, 201):
                with lock:
                    acknowledged.append(snapshot_id)
            elif status == 503:
                time.sleep(float(info["retry_after"] or 1) / 10)

    def reader() -> None:
        client = Client(port, read)
        paths = [
            f"/api/v1/projects/{project.pk}/metrics",
            f"/api/v1/projects/{project.pk}/snapshots",
            f"/api/v1/projects/{project.pk}/dashboard/data?range=all",
            f"/api/v1/projects/{project.pk}/series?id={series.pk}",
        ]
        while time.monotonic() < stop_at:
            for path in paths:
                status, info = client.request("GET", path)
                note("read", status, info)
                if status not in (200, 503):
                    with lock:
                        problems.append(f"read {path}: {status}")

    def malformed() -> None:
        client = Client(port, ingest)
        bodies = [b"{", b'{"id": "\\u0000"}', b"[" * 5000, b'{"schema_version": "x"}', b"null"]
        while time.monotonic() < stop_at:
            for body in bodies:
                status, info = client.request("POST", pushes, body)
                note("malformed", status, info)
                if not 400 <= status < 500 and status != 503:
                    with lock:
                        problems.append(f"malformed {body[:20]!r}: {status}")

    def slow_body() -> None:
        _, body = document()
        head = (
            f"POST {pushes} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ingest}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        ).encode()
        while time.monotonic() < stop_at:
            answer = raw_request(port, head + body[:1000], wait=1.5)
            status = int(answer.split()[1]) if answer.startswith(b"HTTP/") else 0
            with lock:
                statuses[f"slow-body {status}"] += 1

    def hang_up() -> None:
        while time.monotonic() < stop_at:
            snapshot_id, body = document()
            head = (
                f"POST {pushes} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ingest}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            raw_request(port, head + body, wait=0.01, read=False)  # gone before the answer
            with lock:
                aborted.append(snapshot_id)
                statuses["hang-up"] += 1
            time.sleep(0.1)  # a client that gives up now and then, not a flood

    try:
        wait_until_serving(port, server)
        stop_at = time.monotonic() + SOAK_SECONDS
        workers = [pusher] * 3 + [reader, malformed, slow_body, hang_up]
        threads = [threading.Thread(target=work) for work in workers]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SOAK_SECONDS + 60)
        elapsed = time.monotonic() - started
        requests = sum(statuses.values())
        print(
            f"\nsoak: {requests} requests in {elapsed:.1f} s ({requests / elapsed:.0f}/s), "
            f"{len(acknowledged)} snapshots acknowledged ({len(acknowledged) / elapsed:.0f}/s); "
            + ", ".join(f"{key}: {n}" for key, n in sorted(statuses.items()))
        )
        assert not problems, problems[:20]
        assert len(acknowledged) > 10, statuses

        # The load has stopped: healthy at once, every connection back (views the hung-up
        # clients left finish first: a few seconds at most).
        deadline = time.monotonic() + 15
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            answer = raw_request(
                port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            body = json.loads(answer.partition(b"\r\n\r\n")[2] or b"{}")
            pool = body.get("pool") or {}
            if body.get("status") == "ok" and pool["available"] == pool["size"]:
                break
            time.sleep(0.25)
        for _ in range(3):
            began = time.monotonic()
            answer = raw_request(
                port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert time.monotonic() - began < 1
            assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
            body = json.loads(answer.partition(b"\r\n\r\n")[2])
            assert body["pool"]["available"] == body["pool"]["size"] <= POOL_SIZE, body
            assert body["pool"]["waiting"] == 0, body

        # Every acknowledged snapshot is stored exactly once; a hung-up push at most once.
        stored = Counter(
            str(u) for u in Snapshot.objects.filter(project=project).values_list("uuid", flat=True)
        )
        assert all(stored[snapshot_id] == 1 for snapshot_id in acknowledged)
        assert max(stored.values()) == 1
        assert set(stored) - {str(first.uuid)} <= set(acknowledged) | set(aborted)
        assert "Traceback" not in server.output, server.output[-4000:]
        assert "CurrentThreadExecutor" not in server.output
    finally:
        server.stop()
