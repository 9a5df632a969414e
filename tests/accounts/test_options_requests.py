"""OPTIONS on every API route answers what the endpoint is and the methods it allows, never a 500:
the routes come from the URL configuration (as in test_cross_tenant), so a new route is covered
the day it is added."""

from __future__ import annotations

import pytest

from mlplatform.accounts.models import TokenScope
from tests.accounts.test_cross_tenant import api_routes, collector_api_routes
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def test_every_api_route_answers_options(api_for, furnished, alice, bob):
    _, write = make_token(furnished.org, TokenScope.WRITE)
    urls = {url for _, _, url in api_routes(furnished, bob) + collector_api_routes(furnished)}
    urls |= {"/api/v1/me", "/api/v1/orgs"}
    assert len(urls) > 30
    for caller in (api_for(alice), api_for(token=write)):
        for url in sorted(urls):
            response = caller.options(url)
            assert response.status_code == 200, f"OPTIONS {url}: {response.content[:300]!r}"
            body = response.json()
            assert body["name"], url
            assert "application/json" in body["renders"], url
            assert "OPTIONS" in response["Allow"], url


def test_options_describes_no_fields_and_reads_no_object(api_for, furnished, alice):
    # The request and response shapes are in the OpenAPI schema; OPTIONS does not guess them from
    # a serializer (ours validate input in each app's validation module).
    response = api_for(alice).options(f"/api/v1/projects/{furnished.project.pk}/dashboard")
    assert response.status_code == 200
    assert "actions" not in response.json()
    assert {"GET", "PUT"} <= {m.strip() for m in response["Allow"].split(",")}


def test_an_outsider_gets_404_for_options_too(api_for, furnished, charlie, globex):
    response = api_for(charlie).options(f"/api/v1/projects/{furnished.project.pk}/dashboard")
    assert response.status_code == 404
