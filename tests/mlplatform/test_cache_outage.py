"""The cache with Redis down or hung: requests never wait on it. A failure opens its circuit
breaker: Redis is skipped (reads miss, counts are 1) until, some seconds later, one call probes it
again, and the cache is back as soon as Redis answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from mlplatform import cache as resilient
from mlplatform.cache import ResilientRedisCache
from mlplatform.settings.base import redis_cache
from tests.processes import free_port
from tests.projects.outage import redis_server


def _cache(url: str) -> ResilientRedisCache:
    config = redis_cache(url, "outage")["default"]
    return ResilientRedisCache(config["LOCATION"], {"KEY_PREFIX": "outage", **config})


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A port that accepts connections and never answers (a Redis stuck, or a network black
    hole past the handshake)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_a_hung_redis_costs_one_timeout_then_is_skipped(hung_redis):
    cache = _cache(hung_redis)
    started = time.monotonic()
    assert cache.get("k", "missing") == "missing"
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(50):
        assert cache.count_in_window("hits", 60) == 1
        assert cache.get("k") is None
        cache.set("k", "v")
        assert cache.add("new", 1) is False
    skipped = time.monotonic() - started
    assert first < 2  # the socket timeout, not a wait per retry
    assert skipped < 0.5, skipped  # 200 calls without one round trip to the hung Redis


def test_after_the_skip_one_call_probes_and_the_cache_comes_back(monkeypatch):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    cache = _cache(url)
    assert cache.get("k") is None  # Redis is not running: the breaker opens
    assert cache.breaker.is_open
    monkeypatch.setattr(cache.breaker, "seconds", 0.5)
    cache.breaker.failed(ConnectionError("still down"))  # re-opened for the short test skip
    redis = redis_server(port)
    try:
        cache.set("k", "skipped")  # the breaker is open: not sent
        time.sleep(0.6)
        assert cache.get("k") is None  # the probe: Redis answers, and holds nothing
        assert not cache.breaker.is_open
        cache.set("k", "v")
        assert cache.get("k") == "v"
        assert cache.count_in_window("hits", 60) == 1
        assert cache.count_in_window("hits", 60) == 2
    finally:
        redis.stop()
        resilient._breakers.pop(cache._client_key, None)
        resilient._clients.pop(cache._client_key, None)
