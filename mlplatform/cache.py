"""The Redis cache, failing open: when Redis cannot be reached, reads miss and writes are dropped
(logged), so rate limits and throttles stop counting instead of every request failing.

A request never waits on a Redis that is down: the sockets time out quickly (settings), a pooled
connection is not retried (redis-py's default), and after a failure a circuit breaker skips Redis
for `SKIP_SECONDS` before one call probes it again. Everything the cache holds can be lost:
rate-limit counters and such, never data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mlplatform.circuit import CircuitBreaker

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# How long the cache is skipped after a failure before one call tries Redis again.
SKIP_SECONDS = 5.0


def _fail_open(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            breaker = self.breaker
            if breaker.allows():
                try:
                    result = method(self, *args, **kwargs)
                except _UNAVAILABLE as exc:
                    breaker.failed(exc)  # logged once an outage, not once a request
                else:
                    breaker.succeeded()
                    return result
            return default(self, *args, **kwargs) if callable(default) else default

        wrapper.__name__ = method.__name__
        wrapper.__doc__ = method.__doc__
        return wrapper

    return decorator


_clients: dict[tuple[Any, ...], Any] = {}
_breakers: dict[tuple[Any, ...], CircuitBreaker] = {}
_clients_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    # Set by RedisCache.__init__; django-stubs leave these private attributes out.
    _class: Any
    _servers: list[str]
    _options: dict[str, Any]

    @property
    def _cache(self) -> Any:
        # Django makes a cache object per thread and per async context, that is per request under
        # ASGI, and each would open its own Redis connection pool: a TCP connection per request.
        # One client (and pool, which is thread-safe) per process and configuration instead.
        client = _clients.get(self._client_key)
        if client is None:
            with _clients_lock:
                client = _clients.setdefault(
                    self._client_key, self._class(self._servers, **self._options)
                )
        return client

    @cached_property
    def _client_key(self) -> tuple[Any, ...]:
        return (tuple(self._servers), repr(sorted(self._options.items())))

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker of this Redis, shared by the cache objects of every thread."""
        breaker = _breakers.get(self._client_key)
        if breaker is None:
            with _clients_lock:
                breaker = _breakers.setdefault(
                    self._client_key, CircuitBreaker("The cache (Redis)", SKIP_SECONDS)
                )
        return breaker

    add = _fail_open(False)(RedisCache.add)
    get = _fail_open(lambda self, key, default=None, version=None: default)(RedisCache.get)
    set = _fail_open(None)(RedisCache.set)
    touch = _fail_open(False)(RedisCache.touch)
    delete = _fail_open(False)(RedisCache.delete)
    get_many = _fail_open({})(RedisCache.get_many)
    has_key = _fail_open(False)(RedisCache.has_key)
    set_many = _fail_open([])(RedisCache.set_many)
    delete_many = _fail_open(None)(RedisCache.delete_many)
    clear = _fail_open(False)(RedisCache.clear)

    def count_in_window(self, key: Any, period: int, version: int | None = None) -> int:
        """Add one to a counter that expires `period` seconds after its first count, and return
        it: INCR and EXPIRE NX pipelined, one round trip (Django's incr costs two). Without
        Redis, 1: nothing is counted."""
        return self._count_in_window(key, period, version)

    @_fail_open(1)
    def _count_in_window(self, key: Any, period: int, version: int | None) -> int:
        full_key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(full_key, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, period, nx=True)
        count, _ = pipeline.execute()
        return int(count)

    @_fail_open(lambda self, key, delta=1, version=None: delta)
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return super().incr(key, delta, version)
