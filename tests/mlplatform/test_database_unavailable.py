"""When the database cannot serve a request (the pool timed out, PostgreSQL went away), every route
answers 503 with Retry-After, so clients retry, instead of a 500."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from mlplatform.urls import handler400, handler404, handler500
from mlplatform.urls import urlpatterns as site_urlpatterns


def pool_timeout(request: HttpRequest) -> HttpResponse:
    raise OperationalError("couldn't get a connection after 0.50 sec")


def connection_closed(request: HttpRequest) -> HttpResponse:
    raise InterfaceError("connection already closed")


def bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, on purpose")


urlpatterns = [
    path("api/v1/down", pool_timeout),
    path("down", pool_timeout),
    path("closed", connection_closed),
    path("api/v1/bug", bug),
    *site_urlpatterns,
]
__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def _client() -> Client:
    return Client(raise_request_exception=False)


def test_it_answers_an_api_request_503_json_with_retry_after():
    response = _client().get("/api/v1/down")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["error"] == "database_unavailable"


@pytest.mark.parametrize("url", ["/down", "/closed"])
def test_it_answers_a_page_503_without_touching_the_database(url, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = _client().get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert b"Try again in a few seconds" in response.content


def test_a_bug_is_still_a_500():
    response = _client().get("/api/v1/bug")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert response.json()["error"] == "server_error"
