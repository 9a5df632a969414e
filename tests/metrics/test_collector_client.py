"""CollectorClient against a scripted collector on loopback: batches and their JSON, a send that never
waits for the server, a full queue, refusals, retries (503, 429, timeouts, 413), flush, close and
the interpreter's exit, labels. The collector's own API is tested in tests/collector."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from metrics import CollectorClient
from metrics.client import remote as remote_module
from metrics.workspaces.base import WorkspaceError

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = "0b9c7d3e-5f1a-4c2b-8d6e-7f8091a2b3c4"
TOKEN = "mlp_ingest_test_secret"
DATA_PATH = f"/api/v1/collectors/{COLLECTOR}/data"
LABELS_PATH = f"/api/v1/collectors/{COLLECTOR}/labels"


@dataclass
class Answer:
    status: int = 202
    body: Any = None  # default: {"accepted": <rows>, "batch": <n>}
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class FakeCollector:
    """Answers POSTs from a script, then 202; records every request, answered or not."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with collector.lock:
                    collector.received.append(
                        Received(self.path, dict(self.headers), json.loads(raw))
                    )
                    answer = collector.script.pop(0) if collector.script else Answer()
                    number = len(collector.received)
                time.sleep(answer.delay)
                body = answer.body
                if body is None and answer.status == 202:
                    body = {"accepted": len(json.loads(raw)), "batch": number}
                payload = json.dumps(body).encode() if body is not None else b""
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (the timeout tests)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def batches(self, path: str = DATA_PATH) -> list[list[dict[str, Any]]]:
        with self.lock:
            return [one.body for one in self.received if one.path == path]

    def rows(self, path: str = DATA_PATH) -> list[dict[str, Any]]:
        return [row for batch in self.batches(path) for row in batch]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[FakeCollector]:
    server = FakeCollector()
    yield server
    server.close()


@pytest.fixture
def make_client(collector) -> Iterator[Any]:
    """Clients of the fake collector, with short intervals; closed at the end of the test."""
    made: list[CollectorClient] = []

    def make(**options: Any) -> CollectorClient:
        defaults = {"url": collector.url, "token": TOKEN, "flush_interval": 60, "backoff": 0.01}
        client = CollectorClient(COLLECTOR, **{**defaults, **options})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close(timeout=2)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The waits between retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(remote_module, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def warnings_logged() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logger = logging.getLogger("metrics.client.collector_client")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"prediction_id": f"p{i}", "age": 20 + i % 50, "plan": "pro"} for i in range(start, n)]


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# ---- batches --------------------------------------------------------------------------------------


def test_it_sends_rows_in_batches_of_batch_size_with_the_token(collector, make_client):
    client = make_client(batch_size=3)
    assert client.send_many(rows(7)) == 7
    assert client.flush(timeout=5)

    assert [len(batch) for batch in collector.batches()] == [3, 3, 1]
    assert collector.rows() == rows(7)
    first = collector.received[0]
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["Content-Type"] == "application/json"
    stats = client.stats
    assert (stats["sent"], stats["batches"], stats["failed"], stats["dropped"]) == (7, 3, 0, 0)
    assert stats["last_error"] is None


def test_a_full_batch_goes_at_once_and_a_partial_one_after_the_flush_interval(
    collector, make_client
):
    client = make_client(batch_size=2, flush_interval=0.3)
    started = time.monotonic()
    client.send_many(rows(3))
    wait_for(lambda: len(collector.batches()) == 1)  # the full batch, without waiting
    assert time.monotonic() - started < 0.25
    wait_for(lambda: len(collector.batches()) == 2)  # the rest, once the interval passed
    assert time.monotonic() - started >= 0.3
    assert collector.rows() == rows(3)


def test_the_thread_starts_on_the_first_send(make_client):
    client = make_client()
    assert client._thread is None
    client.send({"x": 1})
    assert client._thread.is_alive()  # type: ignore[attr-defined]  # mypy keeps the `is None` above
    assert client._thread.daemon  # type: ignore[attr-defined]  # mypy keeps the `is None` above


def test_send_returns_at_once_while_the_server_is_slow(collector, make_client):
    collector.answer(Answer(delay=1.0))
    client = make_client(batch_size=1000)
    client.send_many(rows(1000))
    wait_for(lambda: collector.received)  # the server is now sitting on the first batch

    many = rows(11_000, start=1000)
    started = time.perf_counter()
    assert all(client.send(row) for row in many)
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5, f"10,000 sends took {elapsed:.2f} s"
    assert len(collector.received) == 1  # still waiting for the answer
    assert client.flush(timeout=10)
    assert collector.rows() == rows(11_000)  # everything, once, in order


def test_a_full_queue_drops_rows_counts_them_and_warns_once(
    collector, make_client, warnings_logged
):
    client = make_client(max_queue=5, batch_size=100)
    results = [client.send(row) for row in rows(8)]
    assert client.send_many(rows(10, start=8)) == 0

    assert results == [True] * 5 + [False] * 3
    assert client.stats["dropped"] == 5
    assert client.stats["queued"] == 5
    assert len(warnings_logged) == 1  # at most one a minute
    assert "dropped 1 rows" in warnings_logged[0].getMessage()
    assert client.flush(timeout=5)
    assert collector.rows() == rows(5)


def test_send_many_queues_what_fits(make_client):
    client = make_client(max_queue=3, batch_size=100)
    assert client.send_many(rows(5)) == 3
    assert client.stats["dropped"] == 2


# ---- failures -------------------------------------------------------------------------------------


def test_a_refused_batch_is_dropped_with_the_servers_detail_and_not_retried(
    collector, make_client, sleeps
):
    collector.answer(
        Answer(
            400,
            {
                "error": "validation_error",
                "detail": "Row 1, column 'age': expected a number, got 'old'.",
                "fields": {"rows[1].age": ["Expected a number."]},
            },
        )
    )
    client = make_client(batch_size=2)
    client.send_many(rows(4))
    assert client.flush(timeout=5)

    assert len(collector.received) == 2  # the refused batch was not sent again
    assert collector.rows()[2:] == rows(4, start=2)
    stats = client.stats
    assert (stats["sent"], stats["failed"], stats["batches"]) == (2, 2, 1)
    assert "Row 1, column 'age': expected a number" in stats["last_error"]
    assert sleeps == []


def test_503_and_429_are_retried_after_retry_after_and_delivered_once(
    collector, make_client, sleeps
):
    collector.answer(
        Answer(503, {"error": "unavailable", "detail": "Restarting."}),
        Answer(429, {"error": "throttled", "detail": "Slow down."}, {"Retry-After": "7"}),
    )
    client = make_client()
    client.send_many(rows(3))
    assert client.flush(timeout=5)

    assert len(collector.received) == 3
    assert all(batch == rows(3) for batch in collector.batches())  # the same batch, resent
    assert client.stats["sent"] == 3
    assert client.stats["batches"] == 1
    assert client.stats["failed"] == 0
    assert len(sleeps) == 2
    assert 7 <= sleeps[1] < 7.1  # the server's Retry-After, plus jitter


def test_a_batch_is_dropped_when_the_retries_run_out_and_the_next_one_goes(
    collector, make_client, sleeps
):
    collector.answer(*[Answer(503, {"error": "unavailable", "detail": "Down."})] * 3)
    client = make_client(batch_size=2, retries=2)
    client.send_many(rows(4))
    assert client.flush(timeout=5)

    assert client.stats["failed"] == 2
    assert client.stats["sent"] == 2
    assert "Down." in client.stats["last_error"]
    assert collector.batches()[-1] == rows(4, start=2)


def test_a_retry_after_a_timeout_carries_the_same_idempotency_key(collector, make_client):
    # The server stored the batch but answered too late: the retry repeats its key, so the
    # platform answers with the stored batch instead of storing it again.
    collector.answer(Answer(delay=1.0))
    client = make_client(timeout=0.3, batch_size=2)
    client.send_many(rows(2))
    assert client.flush(timeout=5)
    client.send_many(rows(4, start=2))
    assert client.flush(timeout=5)

    assert collector.batches() == [rows(2), rows(2), rows(4, start=2)]
    keys = [r.headers["Idempotency-Key"] for r in collector.received]
    assert keys[0] == keys[1]
    assert keys[2] != keys[0]
    assert client.stats["sent"] == 4
    assert client.stats["failed"] == 0


def test_a_batch_over_the_size_limit_is_split(collector, make_client):
    too_large = Answer(413, {"error": "too_large", "detail": "The body is over 20 MiB."})
    collector.answer(too_large)
    client = make_client(batch_size=4)
    client.send_many(rows(4))
    assert client.flush(timeout=5)

    assert collector.batches() == [rows(4), rows(2), rows(4, start=2)]
    assert client.stats["sent"] == 4
    assert client.stats["batches"] == 2


def test_a_single_row_over_the_size_limit_is_dropped(collector, make_client):
    collector.answer(Answer(413, {"error": "too_large", "detail": "The body is over 20 MiB."}))
    client = make_client()
    client.send({"text": "x" * 1000})
    assert client.flush(timeout=5)

    assert client.stats["failed"] == 1
    assert "20 MiB" in client.stats["last_error"]


def test_flush_gives_up_after_its_timeout(collector, make_client):
    collector.answer(Answer(delay=1.0))
    client = make_client()
    client.send({"x": 1})
    started = time.monotonic()
    assert not client.flush(timeout=0.1)
    assert time.monotonic() - started < 0.5


# ---- closing --------------------------------------------------------------------------------------


def test_close_delivers_everything_and_stops_the_thread(collector, make_client):
    client = make_client(batch_size=100)
    client.send_many(rows(5))
    client.send_labels({"p1": 1})
    assert client.close(timeout=5)

    assert collector.rows() == rows(5)
    assert collector.rows(LABELS_PATH) == [{"prediction_id": "p1", "target": 1}]
    assert not client._thread.is_alive()
    assert client.send({"x": 1}) is False
    assert client.stats["dropped"] == 1
    assert client.close(timeout=1)  # twice is harmless


def test_the_with_block_closes_the_client(collector):
    with CollectorClient(COLLECTOR, url=collector.url, token=TOKEN, flush_interval=60) as client:
        client.send_many(rows(3))
    assert collector.rows() == rows(3)
    assert client._thread is not None
    assert not client._thread.is_alive()


@pytest.mark.slow
def test_rows_still_queued_are_sent_when_the_interpreter_exits(collector):
    code = (
        "from metrics import CollectorClient\n"
        f"client = CollectorClient({COLLECTOR!r}, url={collector.url!r}, token={TOKEN!r}, "
        "flush_interval=60)\n"
        "client.send_many({'prediction_id': f'p{i}'} for i in range(3))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert collector.rows() == [{"prediction_id": f"p{i}"} for i in range(3)]


# ---- labels ---------------------------------------------------------------------------------------


def test_labels_go_to_the_labels_endpoint_in_batches(collector, make_client):
    client = make_client(batch_size=2)
    client.send_labels({"p1": 1, "p2": 0})
    client.send_labels([("p3", "churned"), (uuid.UUID(int=4), np.bool_(True))])
    assert client.flush(timeout=5)

    assert collector.batches(LABELS_PATH) == [
        [{"prediction_id": "p1", "target": 1}, {"prediction_id": "p2", "target": 0}],
        [
            {"prediction_id": "p3", "target": "churned"},
            {"prediction_id": str(uuid.UUID(int=4)), "target": True},
        ],
    ]
    assert collector.batches() == []
    assert client.stats["labels_sent"] == 4
    assert client.stats["sent"] == 0


def test_a_label_without_a_target_is_refused(make_client):
    client = make_client()
    with pytest.raises(ValueError, match="no target"):
        client.send_labels({"p1": float("nan")})
    with pytest.raises(ValueError, match="prediction_id"):
        client.send_labels([(None, 1)])


# ---- values ---------------------------------------------------------------------------------------


def test_values_are_sent_as_json(collector, make_client):
    client = make_client()
    client.send(
        {
            "timestamp": datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
            "pandas_time": pd.Timestamp("2026-11-28T09:30:00Z"),
            "numpy_time": np.datetime64("2026-11-28T09:30:00"),
            "day": date(2026, 11, 28),
            "count": np.int64(3),
            "score": np.float32(0.5),
            "flag": np.bool_(False),
            "price": Decimal("9.90"),
            "id": uuid.UUID(int=1),
            "missing": float("nan"),
            "missing_time": pd.NaT,
            "missing_value": pd.NA,
            "none": None,
        }
    )
    assert client.flush(timeout=5)

    assert collector.rows() == [
        {
            "timestamp": "2026-11-28T09:30:00+00:00",
            "pandas_time": "2026-11-28T09:30:00+00:00",
            "numpy_time": "2026-11-28T09:30:00",
            "day": "2026-11-28",
            "count": 3,
            "score": 0.5,
            "flag": False,
            "price": 9.9,
            "id": str(uuid.UUID(int=1)),
            "missing": None,
            "missing_time": None,
            "missing_value": None,
            "none": None,
        }
    ]


@pytest.mark.parametrize(
    ("row", "error", "message"),
    [
        ({"tags": ["a", "b"]}, TypeError, "its own column"),
        ({"nested": {"a": 1}}, TypeError, "its own column"),
        ({"blob": b"\x00"}, TypeError, "JSON cannot carry"),
        ({"thing": object()}, TypeError, "JSON cannot carry"),
        ({1: "a"}, TypeError, "Column names are strings"),
        ({"x": float("inf")}, ValueError, "no infinity"),
        ([("x", 1)], TypeError, "mapping"),
    ],
)
def test_values_json_cannot_carry_are_refused_at_send(make_client, row, error, message):
    client = make_client()
    with pytest.raises(error, match=message):
        client.send(row)
    with pytest.raises(error, match=message):
        client.send_many([{"fine": 1}, row])
    assert client.stats["queued"] == 0  # nothing queued, not even the good row
    assert client._thread is None


# ---- configuration --------------------------------------------------------------------------------


def test_url_and_token_come_from_the_environment(collector, monkeypatch):
    monkeypatch.setenv("MLP_URL", collector.url)
    monkeypatch.setenv("MLP_TOKEN", TOKEN)
    client = CollectorClient(COLLECTOR, flush_interval=60)
    client.send({"x": 1})
    assert client.close(timeout=5)
    assert collector.received[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(client)


def test_a_missing_url_names_the_variable_to_set(monkeypatch):
    monkeypatch.delenv("MLP_URL", raising=False)
    with pytest.raises(WorkspaceError, match="MLP_URL"):
        CollectorClient(COLLECTOR, token=TOKEN)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 100_001}, "batch_size"),
        ({"max_queue": 0}, "max_queue"),
        ({"flush_interval": 0}, "flush_interval"),
        ({"timeout": -1}, "timeout"),
        ({"retries": -1}, "retries"),
    ],
)
def test_bad_options_are_refused_at_once(options, message):
    with pytest.raises(ValueError, match=message):
        CollectorClient(COLLECTOR, url="http://127.0.0.1:9", token=TOKEN, **options)


def test_a_collector_id_that_is_not_a_uuid_is_refused():
    with pytest.raises(ValueError, match="UUID"):
        CollectorClient("churn-model", url="http://127.0.0.1:9", token=TOKEN)
