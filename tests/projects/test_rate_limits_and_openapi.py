"""Rate limits per token and per user (429 with Retry-After), and the OpenAPI schema documenting
every status code the endpoints answer."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
import yaml
from django.test import Client
from django.utils import timezone

from mlplatform.cache import ResilientRedisCache
from tests.factories import snapshot_document
from tests.projects.conftest import post_snapshot

pytestmark = pytest.mark.django_db


def test_a_token_over_its_rate_gets_429_with_retry_after(api_for, world, settings):
    settings.API_RATE_LIMIT_TOKEN = "3/min"
    api = api_for(token=world.read)
    url = f"/api/v1/projects/{world.p1.pk}/snapshots"
    assert [api.get(url).status_code for _ in range(3)] == [200] * 3
    limited = api.get(url)
    assert limited.status_code == 429
    assert limited.json()["error"] == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Another token has its own allowance.
    assert api_for(token=world.write).get(url).status_code == 200


def test_a_user_over_the_rate_gets_429(api_for, world, alice, settings):
    settings.API_RATE_LIMIT_USER = "2/min"
    api = api_for(alice)
    assert [api.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]


def test_without_the_cache_nothing_is_throttled(api_for, world, settings):
    from mlplatform.settings.base import redis_cache

    settings.API_RATE_LIMIT_TOKEN = "1/min"
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0", "down")
    api = api_for(token=world.read)
    assert [api.get(f"/api/v1/projects/{world.p1.pk}").status_code for _ in range(3)] == [200] * 3


def test_window_counters_count_and_expire_with_their_window():
    from django.core.cache import cache as default_cache

    cache = cast(ResilientRedisCache, default_cache)

    assert [cache.count_in_window("window-test", 30) for _ in range(3)] == [1, 2, 3]
    full_key = cache.make_and_validate_key("window-test")
    client = cache._cache.get_client(full_key)
    assert 0 < client.ttl(full_key) <= 30
    client.expire(full_key, 5)
    cache.count_in_window("window-test", 30)
    assert client.ttl(full_key) <= 5  # a later count does not extend the window
    cache.delete("window-test")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operation(schema, path, method):
    return schema["paths"][path][method]


def test_the_schema_covers_the_api_and_its_errors(schema):
    paths = schema["paths"]
    assert "/api/v1/projects/{project_id}/snapshots" in paths
    assert "/api/v1/projects/{project_id}/series" in paths
    assert "/api/v1/orgs/{org_id}/tokens" in paths
    for path, methods in paths.items():
        for method, op in methods.items():
            codes = set(op["responses"])
            assert {"401", "403", "429"} <= codes, (path, method)
            if "{" in path:
                assert "404" in codes, (path, method)
            if method in ("post", "put", "patch"):
                assert {"400", "411", "413", "415"} <= codes, (path, method)
    ingest = operation(schema, "/api/v1/projects/{project_id}/snapshots", "post")
    assert {"200", "201", "409"} <= set(ingest["responses"])
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert (
        operation(schema, "/api/v1/projects/{project_id}", "get")["parameters"][0]["schema"][
            "format"
        ]
        == "uuid"
    )


def test_every_status_the_api_answers_is_documented(api_for, world, schema, alice, settings):
    """Drive the API into each of its answers and look each up in the schema."""
    document = snapshot_document()
    base = f"/api/v1/projects/{world.p1.pk}"
    api = api_for(token=world.write)
    checks = [
        (
            "post",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: post_snapshot(api, world.p1, document),
        ),
        (
            "post",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: post_snapshot(api, world.p1, document),
        ),
        (
            "post",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: post_snapshot(api, world.p1, {**document, "name": "x"}),
        ),
        (
            "post",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: post_snapshot(api, world.p1, b"{"),
        ),
        (
            "post",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: post_snapshot(api, world.p1, b"{}", content_type="text/plain"),
        ),
        (
            "get",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: api_for().get(f"{base}/snapshots"),
        ),
        (
            "get",
            "/api/v1/projects/{project_id}/snapshots",
            lambda: api_for(token=world.ingest).get(f"{base}/snapshots"),
        ),
        (
            "get",
            "/api/v1/projects/{project_id}",
            lambda: api.get("/api/v1/projects/00000000-0000-0000-0000-000000000000"),
        ),
        (
            "delete",
            "/api/v1/projects/{project_id}/snapshots/{snapshot_id}",
            lambda: api.delete(f"{base}/snapshots/{document['id']}"),
        ),
        (
            "delete",
            "/api/v1/projects/{project_id}/snapshots/{snapshot_id}",
            lambda: api_for(alice).delete(f"{base}/snapshots/{document['id']}"),
        ),
        ("get", "/api/v1/projects/{project_id}/series", lambda: api.get(f"{base}/series")),
        ("get", "/api/v1/me", lambda: api.get("/api/v1/me")),
    ]
    seen = set()
    for method, path, call in checks:
        response = call()
        code = str(response.status_code)
        assert code in operation(schema, path, method)["responses"], (method, path, code)
        seen.add(code)
    settings.API_RATE_LIMIT_TOKEN = "1/min"
    limited = api.get("/api/v1/me")
    limited = api.get("/api/v1/me") if limited.status_code != 429 else limited
    assert str(limited.status_code) in operation(schema, "/api/v1/me", "get")["responses"]
    seen.add(str(limited.status_code))
    assert {"200", "201", "204", "400", "401", "403", "404", "409", "415", "429"} <= seen


def test_the_interactive_docs_are_served_without_a_cdn():
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


def conforms(schema, method: str, path: str, response) -> None:
    """The answer's status is documented for the operation and its body matches the schema
    (schemathesis's own check, as the fuzzing gate in tests/test_fuzz_api.py runs it)."""
    import requests
    import schemathesis

    assert str(response.status_code) in operation(schema, path, method)["responses"], (
        method,
        path,
        response.status_code,
    )
    loaded = schemathesis.openapi.from_dict(schema)
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={"content-type": [response["Content-Type"]]},
        content=response.content,
        request=requests.Request(method.upper(), f"http://testserver{path}").prepare(),
        elapsed=0.0,
        verify=True,
    )
    loaded[path][method].validate_response(answer)


def test_the_answers_match_the_schema(api_for, world, schema, alice):
    """Answers the fuzzing gate found off the schema: a page documented as a list, lists
    documented as objects, links and names documented as never null, undocumented 409s."""
    from alerts.models import AlertRule, Silence
    from collector.models import Collector

    api = api_for(token=world.write)
    base = f"/api/v1/projects/{world.p1.pk}"
    post_snapshot(api, world.p1, snapshot_document())  # no name: null
    AlertRule.objects.create(project=world.p1, name="r", kind="tests_failed", config={})
    Silence.objects.create(project=world.p1, ends_at=timezone.now() + timedelta(hours=1))
    collector = Collector.objects.create(
        project=world.p1, name="c", config={"presets": ["data_drift"]}, every_minutes=60
    )
    project = "/api/v1/projects/{project_id}"
    for path, url in [
        ("/snapshots", "/snapshots"),
        ("/metrics", "/metrics"),
        ("/collectors", "/collectors"),
        ("/alert-rules", "/alert-rules"),  # last_snapshot: null
        ("/silences", "/silences"),  # created_by: null
    ]:
        conforms(schema, "get", project + path, api.get(base + url))
    # Nothing to run: 409.
    ran = api.post(f"/api/v1/collectors/{collector.pk}/run")
    assert ran.status_code == 409
    conforms(schema, "post", "/api/v1/collectors/{collector_id}/run", ran)
    # A stale dashboard version: 409.
    stale = api.put(f"{base}/dashboard", {"version": 7, "tabs": []}, format="json")
    assert stale.status_code == 409
    conforms(schema, "put", project + "/dashboard", stale)
