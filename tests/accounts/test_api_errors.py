"""Bad input gets a 4xx JSON error naming the field, never a 500 or an HTML page."""

from __future__ import annotations

import json

import pytest

from mlplatform.accounts.models import Organization

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_parse_error(api_for, alice):
    response = api_for(alice).post("/api/v1/orgs", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Ok", "slug": "Not A Slug!"}, "slug"),
        ({"name": ["a list"]}, "name"),
        ({"name": "Ok", "owner": "me"}, "owner"),
    ],
)
def test_invalid_fields_are_named(api_for, alice, body, field):
    before = Organization.objects.count()
    response = api_for(alice).post("/api/v1/orgs", body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "validation_error"
    assert field in payload["fields"]
    assert payload["detail"].startswith(f"{field}: ")
    assert Organization.objects.count() == before


@pytest.mark.parametrize("body", ["[]", "42", '"text"', "null"])
def test_a_body_that_is_not_an_object_is_a_400(api_for, alice, body):
    response = api_for(alice).post("/api/v1/orgs", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] in ("validation_error", "parse_error")


def test_an_oversized_body_is_a_json_413_before_it_is_read(api_for, alice):
    body = json.dumps({"name": "x" * 2_000_000})
    response = api_for(alice).post("/api/v1/orgs", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_a_body_without_length_is_a_411(api_for, alice):
    response = api_for(alice).generic(
        "POST",
        "/api/v1/orgs",
        b'{"name": "x"}',
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert response.json()["error"] == "length_required"


def test_a_wrong_content_type_is_a_415(api_for, alice):
    response = api_for(alice).post("/api/v1/orgs", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_an_unknown_api_url_is_a_json_404(api_for, alice):
    for url in ["/api/v1/nope", "/api/v2/orgs", "/api/"]:
        response = api_for(alice).get(url)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_a_wrong_method_is_a_json_405(api_for, alice):
    response = api_for(alice).put("/api/v1/orgs", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_creating_an_organisation_over_the_api(api_for, alice):
    response = api_for(alice).post(
        "/api/v1/orgs", {"name": "Initech", "slug": "initech"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "initech"
    org = Organization.objects.get(slug="initech")
    assert org.memberships.get().user == alice
