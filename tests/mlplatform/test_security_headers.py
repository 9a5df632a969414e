"""Every page, API response and error page carries the browser protections: a Content-Security-Policy
without inline script or style, nosniff, a same-origin referrer policy and no framing. The pages
themselves hold no inline script or style that the policy would block."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.processes import ROOT

pytestmark = pytest.mark.django_db

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self' ws://testserver",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def _policy(header: str) -> dict[str, str]:
    directives = [part.strip() for part in header.split(";") if part.strip()]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in directives}


def assert_protected(response) -> None:
    assert _policy(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_a_page_has_them(client_for, acme, alice):
    response = client_for(alice).get(f"/o/{acme.slug}/")
    assert response.status_code == 200
    assert_protected(response)


def test_the_login_page_has_them(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_protected(response)


def test_an_api_response_has_them(api_for, alice, acme):
    response = api_for(alice).get("/api/v1/orgs")
    assert response.status_code == 200
    assert_protected(response)


@pytest.mark.parametrize("path", ["/no/such/page/", "/api/v1/no-such-thing"])
def test_a_404_has_them(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert_protected(response)


@pytest.mark.urls("tests.mlplatform.failing_urls")
@pytest.mark.parametrize("path", ["/broken", "/api/v1/broken"])
def test_the_500_page_has_them_and_no_inline_style(path):
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    assert_protected(response)
    assert b"style=" not in response.content
    assert b"<style" not in response.content


def test_the_api_docs_have_them_with_no_inline_script_or_style(client_for, alice):
    response = client_for(alice).get("/api/docs/")
    assert response.status_code == 200
    assert_protected(response)
    html = response.content.decode()
    assert not INLINE.findall(html), INLINE.findall(html)
    script = client_for(alice).get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


# A <script> without src, a <style> block or a style="" attribute: all blocked by the policy.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=", re.IGNORECASE)


def test_no_template_served_to_browsers_has_inline_script_or_style():
    # Emails are not served by the site: their inline styles are what mail clients need.
    served = [
        path
        for path in (ROOT / "templates").rglob("*.html")
        if "emails" not in path.relative_to(ROOT / "templates").parts
    ]
    assert len(served) > 20
    offenders = {
        str(path.relative_to(ROOT)): INLINE.findall(path.read_text())
        for path in served
        if INLINE.findall(path.read_text())
    }
    assert not offenders, offenders
