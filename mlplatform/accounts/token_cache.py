"""API tokens remembered per process for a few seconds, so a request costs no token lookup.

Ingestion runs hundreds of requests a second on a few tokens; each looked its token up (with its
organisation and project) in PostgreSQL. A token found is kept for `API_TOKEN_CACHE_SECONDS`;
a revocation is announced in the shared cache (a new revocation mark, see `revoked`), which each
process reads at most once a second and then forgets every token it holds. So a revoked token is
refused within about a second, and within `API_TOKEN_CACHE_SECONDS` even when Redis is down.
Expiry is checked on every request against the remembered `expires_at`. Unknown secrets are never
remembered: each costs its lookup, as before.
"""

from __future__ import annotations

import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache

from mlplatform.accounts.models import ApiToken

REVOCATION_KEY = "api-tokens:revocation"
REVOCATION_CHECK_SECONDS = 1.0
_LIMIT = 10_000  # tokens per process; past it, all are forgotten and looked up again

_lock = threading.Lock()
_tokens: dict[str, tuple[ApiToken, float]] = {}  # key hash -> (token, when it was read)
_mark: str | None = None
_mark_checked = float("-inf")


def find(secret: str) -> ApiToken | None:
    """The token of `secret` (revoked and expired ones too, for their messages), or None."""
    ttl = settings.API_TOKEN_CACHE_SECONDS
    if ttl <= 0:
        return ApiToken.find(secret)
    now = time.monotonic()
    _check_revocations(now)
    key_hash = ApiToken.hash_secret(secret)
    entry = _tokens.get(key_hash)
    if entry is not None and now - entry[1] < ttl:
        return entry[0]
    token = ApiToken.find(secret)
    with _lock:
        if token is None or token.is_revoked:
            _tokens.pop(key_hash, None)
        else:
            if len(_tokens) >= _LIMIT:
                _tokens.clear()
            _tokens[key_hash] = (token, now)
    return token


def revoked() -> None:
    """Announce a revocation (after it commits): every process forgets its tokens within about
    `REVOCATION_CHECK_SECONDS`, this one at once."""
    global _mark, _mark_checked
    mark = uuid.uuid4().hex
    cache.set(REVOCATION_KEY, mark, timeout=None)
    with _lock:
        _tokens.clear()
        _mark, _mark_checked = mark, time.monotonic()


def _check_revocations(now: float) -> None:
    global _mark, _mark_checked
    if now - _mark_checked < REVOCATION_CHECK_SECONDS:
        return
    _mark_checked = now  # first, so that concurrent requests do not all ask
    mark = cache.get(REVOCATION_KEY)
    if mark != _mark:
        with _lock:
            _tokens.clear()
            _mark = mark
