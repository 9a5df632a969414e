"""A Content-Length that is not a plain ASCII number, or one too long to be real, is a JSON 4xx
from the API's guard, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _post(client, length: str):
    return client.generic(
        "POST",
        "/api/v1/orgs",
        b'{"name": "Lengthy"}',
        content_type="application/json",
        CONTENT_LENGTH=length,
    )


@pytest.mark.parametrize(
    "length", ["\u00b2", "\u0661\u0662", "\uff11\uff12", "12 ", "-5", "+5", "0x10", "1e3"]
)
def test_a_content_length_that_is_not_ascii_digits_is_a_400(api_for, alice, length):
    response = _post(api_for(alice), length)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert "Content-Length" in body["detail"]


@pytest.mark.parametrize("digits", [25, 5000])
def test_a_huge_content_length_is_a_413_without_reading_it(api_for, alice, digits):
    response = _post(api_for(alice), "9" * digits)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_a_plain_content_length_still_works(api_for, alice):
    body = b'{"name": "Lengthy"}'
    response = _post(api_for(alice), str(len(body)))
    assert response.status_code == 201, response.content
