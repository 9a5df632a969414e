"""The Content-Security-Policy in a real browser: the dashboard (with its live websocket), the
snapshot viewer and the API docs load without one violation, and still draw."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from projects.ingestion import ingest_snapshot
from projects.processing import process_snapshot
from tests.browser.conftest import shoot
from tests.browser.test_dashboard import _log_in, _wait_drawn
from tests.factories import PASSWORD, make_project, snapshot_document
from tests.processes import BIN, child_environment, free_port, running
from tests.projects.test_snapshot_pages import drifting_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collected in the page before any of its own scripts run (playwright's init scripts are not
# subject to the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def _watched(page) -> list[str]:
    """The page's console errors about the policy (chromium logs each blocked load)."""
    messages: list[str] = []
    page.on(
        "console",
        lambda m: (
            messages.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    return messages


def _violations(page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__cspViolations"), *console]


def test_the_pages_load_under_the_policy_with_no_violation(new_page, acme, alice):
    project = make_project(acme, "Churn")
    for day in (2, 1):
        document = snapshot_document(seed=day, timestamp=datetime.now(UTC) - timedelta(days=day))
        process_snapshot(ingest_snapshot(project, json.dumps(document).encode()).snapshot.pk)
    drifting = ingest_snapshot(project, json.dumps(drifting_document()).encode()).snapshot
    port = free_port()
    args = [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--port", str(port)]
    with running(args, child_environment(), ready="Uvicorn running on"):
        base = f"http://127.0.0.1:{port}"
        page = new_page()
        console = _watched(page)
        _log_in(page, base, alice.email, PASSWORD)

        response = page.goto(f"{base}/o/{acme.slug}/projects/{project.pk}/?tab=")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        _wait_drawn(page)
        assert page.locator("[data-testid=panel] canvas").count() >= 1
        # The live websocket connects: connect-src 'self' covers ws: to the same host.
        page.locator("#live-status[data-state=open]").wait_for()
        assert _violations(page, console) == []
        shoot(page, "csp-dashboard")

        page.goto(f"{base}/o/{acme.slug}/projects/{project.pk}/snapshots/{drifting.uuid}/")
        page.get_by_role("heading", name="nightly batch").wait_for()
        canvas = page.locator("figure[data-metric] canvas").first
        canvas.wait_for()
        assert canvas.bounding_box()["width"] > 100
        assert _violations(page, console) == []

        page.goto(f"{base}/api/docs/", wait_until="load")
        assert _violations(page, console) == []
        page.locator(".swagger-ui .opblock").first.wait_for()
        assert page.locator(".swagger-ui .opblock").count() > 20
        assert _violations(page, console) == []
        shoot(page, "csp-api-docs")
