"""The health check reports the database and the cache, for load balancers and compose."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from mlplatform.settings.base import redis_cache


@pytest.mark.django_db
def test_it_is_ok_when_postgres_and_redis_answer():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_is_503_when_the_cache_is_down():
    # A port nothing listens on, with a short timeout.
    caches = redis_cache("redis://127.0.0.1:1/0", "down")
    caches["default"]["OPTIONS"] = {"socket_connect_timeout": 0.5}
    with override_settings(CACHES=caches):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"].startswith("error: ")
    assert response.json()["database"] == "ok"
    assert response["Retry-After"] == "1"
