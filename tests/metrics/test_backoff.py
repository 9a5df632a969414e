"""The clients' one retry policy (metrics/client/backoff.py): by default RemoteWorkspace and
CollectorClient ride out minutes of a platform that does not answer (0.5 s doubling to a 30 s cap,
with jitter, for 5 minutes), against a refused port on loopback with a clock that the waits
advance instead of sleeping."""

from __future__ import annotations

import pytest

from metrics import CollectorClient, RemoteWorkspace
from metrics.client import backoff as backoff_module
from metrics.client import remote as remote_module
from metrics.client.backoff import Backoff
from metrics.client.remote import RemoteError
from tests.processes import free_port

PROJECT = "7d3f4c1e-2b5a-4e8f-9c0d-1a2b3c4d5e6f"
COLLECTOR = "0b9c7d3e-5f1a-4c2b-8d6e-7f8091a2b3c4"
TOKEN = "mlp_org_test_secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(backoff_module, "_now", fake.monotonic)
    monkeypatch.setattr(remote_module, "_sleep", fake.sleep)
    return fake


def _check_schedule(sleeps: list[float]) -> None:
    assert sum(sleeps) >= 180  # a few minutes of outage ridden out
    assert sum(sleeps) <= 300  # and then it gives up: the default budget
    assert 0.25 <= sleeps[0] <= 0.5
    assert max(sleeps) <= 30  # the cap
    assert max(sleeps) >= 15  # reached: the delays grew
    # Doubling until the cap: each delay's ceiling is 0.5 * 2**n, and it is at least half of it.
    for n, delay in enumerate(sleeps):
        ceiling = min(30.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling


def test_the_remote_workspace_retries_for_minutes_by_default(clock):
    workspace = RemoteWorkspace(f"http://127.0.0.1:{free_port()}", TOKEN)
    with pytest.raises(RemoteError, match=r"Connection refused.*gave up after"):
        workspace.get_project(PROJECT)
    _check_schedule(clock.sleeps)


def test_the_collector_client_retries_for_minutes_by_default(clock):
    client = CollectorClient(COLLECTOR, url=f"http://127.0.0.1:{free_port()}", token=TOKEN)
    try:
        client.send({"prediction_id": "a1"})
        assert client.flush(timeout=30)
        assert client.stats["failed"] == 1
    finally:
        client.close(timeout=5)
    _check_schedule(clock.sleeps)


def test_a_retry_after_is_waited_for_even_past_the_cap():
    policy = Backoff(first=0.01, cap=0.05, retry_for=600)
    delay = policy.start().next_delay(retry_after=120)
    assert delay is not None
    assert 120 <= delay <= 120.01
    # However long the server asks, at most ten minutes.
    delay = Backoff(retry_for=float("inf")).start().next_delay(retry_after=10**9)
    assert delay is not None
    assert delay <= 601


def test_the_retry_count_limits_too():
    attempts = Backoff(first=0, retries=2).start()
    assert [attempts.next_delay() for _ in range(3)] == [0, 0, None]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"first": -1}, "first=-1"),
        ({"cap": float("inf")}, "cap=inf"),
        ({"retry_for": float("nan")}, "retry_for=nan"),
        ({"retries": -1}, "retries=-1"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        Backoff(**options)
