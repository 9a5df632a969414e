"""A circuit breaker for the services a request may use but must not wait on (Redis as cache and
as broker): after a failure the service is skipped for a while, then one call probes it again.

While open, callers take their fallback at once (a cache miss, a publish left to the sweeper), so
an outage costs one timeout per `seconds`, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """`allows()` before each call, `failed(exc)` or `succeeded()` after it."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self._open_until = 0.0
        self._lock = threading.Lock()

    def allows(self) -> bool:
        """Whether to try the service: it is closed, or open long enough for a probe (one caller
        probes; the others keep skipping while it does)."""
        if not self._open_until:
            return True
        now = time.monotonic()
        if now < self._open_until:
            return False
        with self._lock:
            if self._open_until and now >= self._open_until:
                self._open_until = now + self.seconds  # hold the others off while it probes
                return True
            return not self._open_until

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            was_closed = not self._open_until
            self._open_until = time.monotonic() + self.seconds
        if was_closed:
            logger.warning(
                "%s unavailable (%s): skipped, then tried again every %s s until it answers.",
                self.name,
                exc,
                self.seconds,
            )

    def succeeded(self) -> None:
        if self._open_until:
            with self._lock:
                self._open_until = 0.0
            logger.warning("%s answers again.", self.name)

    @property
    def is_open(self) -> bool:
        return bool(self._open_until)
