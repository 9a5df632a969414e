"""Tokens are looked up once per process for a few seconds; a revocation still takes effect
within a second everywhere (through the cache), and within the cache's time without it."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mlplatform.accounts import token_cache
from mlplatform.accounts.models import ApiToken, TokenScope
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def _token_reads(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "accounts_apitoken" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
    ]


def _status_within(api, url: str, wanted: int, seconds: float) -> float:
    """Seconds until `url` answers `wanted`, asking every 50 ms; fails after `seconds`."""
    started = time.monotonic()
    while True:
        status = api.get(url).status_code
        elapsed = time.monotonic() - started
        if status == wanted:
            return elapsed
        assert elapsed < seconds, f"still {status} after {elapsed:.1f} s"
        time.sleep(0.05)


def test_it_reads_a_token_from_the_database_once(api_for, acme):
    _, secret = make_token(acme, TokenScope.READ)
    api = api_for(token=secret)
    assert api.get(f"/api/v1/orgs/{acme.pk}").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert api.get(f"/api/v1/orgs/{acme.pk}").status_code == 200
    assert _token_reads(queries) == []


def test_a_revocation_in_another_process_is_refused_within_a_second(api_for, acme, settings):
    settings.API_TOKEN_CACHE_SECONDS = 30
    token, secret = make_token(acme, TokenScope.READ)
    api = api_for(token=secret)
    url = f"/api/v1/orgs/{acme.pk}"
    assert api.get(url).status_code == 200
    # What revoke_token does in another web process: the row, then the shared revocation mark.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    cache.set(token_cache.REVOCATION_KEY, "another process's mark", timeout=None)
    elapsed = _status_within(api, url, 401, seconds=4)
    # Well inside the 30 s the process remembers a token for: the mark refused it.
    assert elapsed <= token_cache.REVOCATION_CHECK_SECONDS + 1.5


def test_without_the_mark_a_revocation_is_refused_within_the_cache_time(api_for, acme, settings):
    settings.API_TOKEN_CACHE_SECONDS = 1
    token, secret = make_token(acme, TokenScope.READ)
    api = api_for(token=secret)
    url = f"/api/v1/orgs/{acme.pk}"
    assert api.get(url).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # Redis lost the mark
    assert _status_within(api, url, 401, seconds=4) <= 2.5


def test_a_revocation_through_the_api_is_refused_at_once(api_for, acme, alice):
    token, secret = make_token(acme, TokenScope.READ)
    api = api_for(token=secret)
    assert api.get(f"/api/v1/orgs/{acme.pk}").status_code == 200
    revoked = api_for(alice).delete(f"/api/v1/orgs/{acme.pk}/tokens/{token.pk}")
    assert revoked.status_code == 204
    assert api.get(f"/api/v1/orgs/{acme.pk}").status_code == 401


def test_an_unknown_secret_is_looked_up_every_time(api_for, acme):
    api = api_for(token="mlp_org_" + "x" * 43)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/api/v1/orgs/{acme.pk}").status_code == 401
        assert len(_token_reads(queries)) == 1
