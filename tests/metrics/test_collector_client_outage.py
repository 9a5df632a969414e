"""CollectorClient through an outage of the platform, against a real HTTP server on loopback that
stores batches by their Idempotency-Key as the collector does: it is busy (503 with Retry-After),
then loses an answer, then is stopped (connection refused), then comes back on the same port.
Every row arrives exactly once and in order; with the on-disk spool, rows outlive a killed process
and what the spool cannot hold is dropped and counted."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from metrics import CollectorClient
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = "0b9c7d3e-5f1a-4c2b-8d6e-7f8091a2b3c4"
TOKEN = "mlp_ingest_test_secret"
DATA_PATH = f"/api/v1/collectors/{COLLECTOR}/data"
# Retries in milliseconds, not seconds: the outage is short and nothing sleeps long.
FAST: dict[str, Any] = {"backoff": 0.01, "max_backoff": 0.05, "flush_interval": 0.05, "timeout": 2}


class Platform:
    """A collector's intake on a fixed port: stores each batch once per Idempotency-Key (a known
    key is answered 200 with nothing stored, as collector/intake.py does), in arrival order.

    `mode` scripts it: "ok"; "busy" (503 with `Retry-After: 1`); "lose" (store, then close the
    connection without an answer: the client cannot know it was stored). `stop` and `start`
    take it off the port and back (connections refused meanwhile)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.mode = "ok"
        self.busy_left = 0  # "busy" answers before going back to "ok"
        self.lose_left = 0  # "lose" answers before going back to "ok"
        self.stored: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.requests: list[tuple[float, str, str]] = []  # (when, key, what was done)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                with platform.lock:
                    if platform.busy_left > 0:
                        platform.busy_left -= 1
                        platform.requests.append((time.monotonic(), key, "busy"))
                        self._answer(503, {"error": "unavailable"}, {"Retry-After": "1"})
                        return
                    repeated = key in platform.keys
                    if not repeated:
                        platform.keys.add(key)
                        platform.stored.extend(json.loads(raw))
                    lose = platform.lose_left > 0
                    platform.lose_left -= lose
                    platform.requests.append(
                        (
                            time.monotonic(),
                            key,
                            "lost" if lose else "repeated" if repeated else "ok",
                        )
                    )
                if lose:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._answer(200 if repeated else 202, {"accepted": 0, "repeated": repeated})

            def _answer(
                self, status: int, body: Any, headers: dict[str, str] | None = None
            ) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform(free_port())
    yield server
    server.stop()


def rows(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"prediction_id": f"p{i}", "score": i / 100} for i in range(start, start + count)]


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_it_rides_out_an_outage_and_every_row_arrives_once_in_order(platform):
    platform.start()
    client = CollectorClient(
        COLLECTOR, url=platform.url, token=TOKEN, batch_size=10, retry_for=60, **FAST
    )
    try:
        client.send_many(rows(20))
        assert client.flush(timeout=10)

        # Busy twice (503, Retry-After: 1), then a batch stored whose answer is lost...
        platform.busy_left, platform.lose_left = 2, 1
        client.send_many(rows(10, start=20))
        assert wait_until(lambda: any(what == "lost" for _, _, what in platform.requests))
        # ...then down: connections refused while the service goes on sending.
        platform.stop()
        client.send_many(rows(30, start=30))
        time.sleep(1.0)
        assert client.stats["sent"] < 60
        platform.start()
        assert client.flush(timeout=20)
    finally:
        client.close(timeout=5)

    assert platform.stored == rows(60)  # every row once, in order
    stats = client.stats
    assert (stats["sent"], stats["failed"], stats["dropped"]) == (60, 0, 0)
    busy = [at for at, _, what in platform.requests if what == "busy"]
    assert busy[1] - busy[0] >= 1.0  # Retry-After honoured, though the backoff is 10 ms
    lost = next(key for _, key, what in platform.requests if what == "lost")
    assert [what for _, key, what in platform.requests if key == lost][-1] == "repeated"


SPOOLING_PROCESS = """
import os, signal, sys, time
from metrics import CollectorClient
client = CollectorClient(
    {collector!r}, url={url!r}, token={token!r}, batch_size=10, spool_dir={spool!r},
    backoff=0.01, max_backoff=0.05, flush_interval=0.05, timeout=2,
)
client.send_many({{"prediction_id": f"p{{i}}", "score": i / 100}} for i in range(35))
deadline = time.monotonic() + 20
while client.stats["spooled"] < 35 and time.monotonic() < deadline:
    time.sleep(0.02)
print(client.stats["spooled"], flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no atexit: a crash
"""


@pytest.mark.slow
def test_spooled_rows_survive_a_killed_process_and_arrive_once_in_order(platform, tmp_path):
    spool = tmp_path / "spool"
    # The platform stores the first batches but every answer is lost: the process cannot know.
    platform.lose_left = 10**6
    platform.start()
    code = SPOOLING_PROCESS.format(
        collector=COLLECTOR, url=platform.url, token=TOKEN, spool=str(spool)
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == -9, result.stderr
    assert result.stdout.strip() == "35"  # all of it on disk when it died
    stored_before = len(platform.stored)
    assert stored_before >= 10  # at least one batch went through, unacknowledged

    platform.lose_left = 0
    client = CollectorClient(
        COLLECTOR, url=platform.url, token=TOKEN, batch_size=10, spool_dir=spool, **FAST
    )
    try:
        assert client.flush(timeout=10)
        assert client.stats["sent"] == 35
        assert client.stats["spooled"] == 0
    finally:
        assert client.close(timeout=5)
    assert platform.stored == rows(35)  # once each, in order, though some were sent twice
    assert list((spool / "rows").glob("*.jsonl")) == []


def test_rows_beyond_the_spool_cap_are_dropped_and_counted(platform, tmp_path, caplog):
    # Nothing listens yet: every connection is refused.
    client = CollectorClient(
        COLLECTOR,
        url=platform.url,
        token=TOKEN,
        batch_size=5,
        max_queue=5,
        spool_dir=tmp_path / "spool",
        spool_max_bytes=2000,
        **FAST,
    )
    try:
        with caplog.at_level(logging.WARNING, "metrics.client.collector_client"):
            accepted = sum(client.send(row) for row in rows(200))
        stats = client.stats
        assert stats["dropped"] == 200 - accepted > 0
        assert stats["spooled"] + stats["queued"] == accepted
        assert stats["spool_bytes"] <= 2000
        assert any("dropped" in r.message and "spool" in r.message for r in caplog.records)

        platform.start()
        assert client.flush(timeout=10)
        assert client.stats["sent"] == accepted
    finally:
        client.close(timeout=5)
    # What was kept is what came first, in order; the rest was dropped, and counted.
    assert platform.stored == rows(accepted)


def test_a_spool_directory_is_used_by_one_client_at_a_time(platform, tmp_path):
    platform.start()
    first = CollectorClient(COLLECTOR, url=platform.url, token=TOKEN, spool_dir=tmp_path, **FAST)
    try:
        with pytest.raises(ValueError, match="in use by another client"):
            CollectorClient(COLLECTOR, url=platform.url, token=TOKEN, spool_dir=tmp_path)
    finally:
        first.close(timeout=5)


# The child only sends, on its own new thread: the warning is about locks held at the fork.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_leaves_the_parents_rows_to_the_parent(platform, tmp_path):
    # Nothing listens yet: the parent's rows wait in its queue and its spool.
    client = CollectorClient(
        COLLECTOR,
        url=platform.url,
        token=TOKEN,
        batch_size=5,
        max_queue=5,
        spool_dir=tmp_path / "spool",
        **FAST,
    )
    try:
        assert sum(client.send(row) for row in rows(20)) == 20
        platform.start()
        pid = os.fork()
        if pid == 0:  # the child: its own rows only, and a flush that finishes
            code = 1
            try:
                signal.alarm(20)  # a hang fails the test rather than the suite
                client.send({"prediction_id": "child", "score": 9})
                code = 0 if client.flush(timeout=10) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert client.flush(timeout=10)
    finally:
        client.close(timeout=5)
    assert [r for r in platform.stored if r["prediction_id"] != "child"] == rows(20)
    assert platform.stored.count({"prediction_id": "child", "score": 9}) == 1
