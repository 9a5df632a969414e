"""When to retry a transient failure: exponential backoff with jitter and a cap, the server's
Retry-After honoured, for as long as a time budget allows. Shared by `RemoteWorkspace` and
`CollectorClient`."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# The defaults ride out a restart or a failover of a few minutes: 0.5 s doubling to 30 s between
# attempts, for 5 minutes (about 15 attempts).
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
RETRY_FOR_SECONDS = 300.0
# However long a server asks us to wait, we come back within this.
MAX_RETRY_AFTER_SECONDS = 600.0


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class Backoff:
    """A retry policy.

    Parameters
    ----------
    first
        The first retry's delay in seconds; it doubles on each retry up to `cap`. Each delay is
        drawn between half and all of that ("equal jitter"), so that many clients failed by the
        same outage do not come back at the same moment.
    cap
        The longest wait between two attempts, in seconds (unless the server asks for longer).
    retry_for
        Seconds after the first attempt during which failures are retried; `math.inf` retries
        for ever. A retry that could not start before this time is not made.
    retries
        The most retries, or None for as many as `retry_for` allows.
    """

    first: float = FIRST_DELAY_SECONDS
    cap: float = MAX_DELAY_SECONDS
    retry_for: float = RETRY_FOR_SECONDS
    retries: int | None = None

    def __post_init__(self) -> None:
        for name in ("first", "cap", "retry_for"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}={value!r}: expected 0 or more seconds.")
            if math.isnan(value) or (name != "retry_for" and math.isinf(value)):
                raise ValueError(f"{name}={value!r}: expected a finite number of seconds.")
        if self.retries is not None and (isinstance(self.retries, bool) or self.retries < 0):
            raise ValueError(f"retries={self.retries!r}: expected 0 or more, or None.")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0 for the first): the server's
        Retry-After when it gave one (plus a little jitter), else the backoff."""
        if retry_after is not None:
            wait = min(retry_after, MAX_RETRY_AFTER_SECONDS)
            return wait + random.uniform(0, min(self.first, 1.0))
        ceiling = min(self.cap, self.first * 2.0 ** min(retry, 64))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def start(self) -> Attempts:
        """The retries of one request, timed from now."""
        return Attempts(self)


class Attempts:
    """The retries of one request under a `Backoff`: ask `next_delay` after each failure."""

    def __init__(self, policy: Backoff) -> None:
        self.policy = policy
        self.started = _now()
        self.retries = 0  # made so far

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retrying, or None when the policy says to give up (the retries
        are used up, or the wait would end past `retry_for`)."""
        policy = self.policy
        if policy.retries is not None and self.retries >= policy.retries:
            return None
        delay = policy.delay(self.retries, retry_after)
        if _now() + delay - self.started > policy.retry_for:
            return None
        self.retries += 1
        return delay


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: a number of seconds, or an HTTP date; None if absent or
    unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; old forms may omit the zone
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None
