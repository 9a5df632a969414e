"""API rate limits: per token, and per signed-in user, in fixed windows counted in the cache.

Over the limit the API answers 429 with `Retry-After` (seconds until the window resets). A
fixed-window counter costs one cache increment per request, where a sliding log would move
thousands of timestamps at high rates. Without the cache (Redis down) nothing is throttled.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from mlplatform.accounts.models import ApiToken

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(
            f"{rate!r} is not a rate such as 600/min (periods: s, min, hour)."
        ) from None


class _FixedWindowThrottle(BaseThrottle):
    scope = ""

    def rate(self) -> tuple[int, int]:
        raise NotImplementedError

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.identity(request)
        if ident is None:
            return True
        limit, period = self.rate()
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{window}"
        if hasattr(cache, "count_in_window"):  # Redis: one round trip
            count = cache.count_in_window(key, period + 1)
        else:  # another cache (the embedded default's local memory)
            try:
                count = cache.incr(key)
            except ValueError:  # the window's first request
                count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        self._wait = period - (now - window * period)
        return count <= limit

    def wait(self) -> float:
        return max(1.0, self._wait)


class TokenRateThrottle(_FixedWindowThrottle):
    scope = "token"

    def rate(self) -> tuple[int, int]:
        return parse_rate(settings.API_RATE_LIMIT_TOKEN)

    def identity(self, request: Request) -> str | None:
        return str(request.auth.pk) if isinstance(request.auth, ApiToken) else None


class UserRateThrottle(_FixedWindowThrottle):
    scope = "user"

    def rate(self) -> tuple[int, int]:
        return parse_rate(settings.API_RATE_LIMIT_USER)

    def identity(self, request: Request) -> str | None:
        if isinstance(request.auth, ApiToken) or not request.user.is_authenticated:
            return None
        return str(request.user.pk)
