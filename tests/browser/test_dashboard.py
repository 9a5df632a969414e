"""The dashboard in a real browser: the demo's month drawn in every panel type (at desktop and phone
widths), a panel added through the editor, the time range changed and kept in the URL, and a
snapshot pushed over the API appearing on an open dashboard over the live websocket."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from mlplatform.accounts.models import TokenScope
from mlplatform.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD
from projects.dashboards.document import PANEL_TYPES
from projects.ingestion import ingest_snapshot
from projects.models import Dashboard, Project
from projects.processing import process_snapshot
from tests.browser.conftest import shoot
from tests.factories import PASSWORD, make_project, make_token, snapshot_document
from tests.processes import BIN, celery_worker, child_environment, free_port, running

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def _wait_drawn(page) -> None:
    """Every panel of the tab has been drawn (or says it has no data)."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=panel]')]
              .every((p) => p.dataset.panelType === 'text' || p.dataset.state)"""
    )


def _picked(row) -> tuple[str, str]:
    """The chosen option of a series row's picker: its metric group's label and its field."""
    return tuple(
        row.locator("select[name=series]").evaluate(
            "s => [s.selectedOptions[0].parentElement.label, s.selectedOptions[0].text]"
        )
    )


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", url=live_server.url, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Project.objects.get(name="Credit scoring")


def test_the_demo_dashboard_draws_every_panel_type_with_data(live_server, new_page, demo):
    page = new_page()
    _log_in(page, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Credit scoring").first.click()
    page.get_by_test_id("dashboard-tabs").wait_for()
    _wait_drawn(page)
    panels = page.get_by_test_id("panel")
    kinds: dict[str | None, int] = {}
    for i in range(panels.count()):
        panel = panels.nth(i)
        kind = panel.get_attribute("data-panel-type")
        kinds[kind] = kinds.get(kind, 0) + 1
        assert panel.get_attribute("data-state") in (None, "drawn"), (
            f"{kind} panel {panel.locator('h3').inner_text()!r} has no data"
        )
        if kind in ("line", "bar", "scatter", "distribution", "test_status"):
            assert panel.locator("canvas").count() >= 1
    assert set(kinds) == set(PANEL_TYPES)
    counters = page.get_by_test_id("counter-value").all_inner_texts()
    assert counters
    assert all(text not in ("", "—") for text in counters)
    assert page.get_by_text("SUCCESS").first.is_visible() or page.locator(".status-count").count()
    # The demo's income drift fires: its chart is marked, and the banner says so.
    badge = page.get_by_test_id("alert-badge")
    assert badge.count() >= 1
    assert badge.first.inner_text() == "firing: Income drifts"
    marked = page.locator(".panel.alerting h3").all_inner_texts()
    assert "Drift scores (grouped)" in marked
    assert "Income drifts" in page.get_by_test_id("firing-alerts").inner_text()
    shoot(page, "dashboard-demo-1280")
    phone = new_page(width=390, height=844)
    _log_in(phone, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    phone.goto(page.url)
    _wait_drawn(phone)
    # On a phone the panels stack and the charts fit the screen.
    widths = phone.evaluate(
        "[...document.querySelectorAll('.panel canvas')].map((c) => c.getBoundingClientRect().right)"
    )
    assert widths
    assert max(widths) <= 390
    shoot(phone, "dashboard-demo-phone")
    # Every pre-built tab draws too.
    for title in ("Data quality", "Data drift", "Model quality", "Tests"):
        page.get_by_role("link", name=title, exact=True).click()
        _wait_drawn(page)
        assert page.locator("[data-state=empty]").count() == 0, title
    shoot(page, "dashboard-demo-model-quality-tab")


def test_a_panel_is_added_through_the_editor(live_server, new_page, demo):
    page = new_page()
    _log_in(page, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/acme-ml/projects/{demo.pk}/")
    _wait_drawn(page)
    before = len(Dashboard.objects.get(project=demo).spec["tabs"][0]["panels"])
    page.get_by_role("button", name="Edit").click()
    page.get_by_test_id("add-panel").click()
    dialog = page.locator("#panel-editor")
    dialog.locator("select[name=type]").select_option("line")
    dialog.locator("input[name=title]").fill("Recall over time")
    # The metric picker: the words typed pick the first match, the useful fields first.
    row = dialog.get_by_test_id("series-row").first
    row.get_by_test_id("picker-search").fill("classification quality recall")
    assert _picked(row) == ("Classification quality", "current.recall")
    row.locator("input[name=label]").fill("recall")
    dialog.get_by_test_id("add-series").click()
    second = dialog.get_by_test_id("series-row").nth(1)
    second.get_by_test_id("picker-search").fill("classification quality precision")
    assert _picked(second) == ("Classification quality", "current.precision")
    shoot(page, "dashboard-editor")
    with page.expect_navigation():
        page.get_by_role("button", name="Save panel").click()
    new_panel = page.get_by_test_id("panel").filter(has_text="Recall over time")
    new_panel.wait_for()
    _wait_drawn(page)
    assert new_panel.get_attribute("data-state") == "drawn"
    assert new_panel.locator("canvas").count() >= 1
    panels = Dashboard.objects.get(project=demo).spec["tabs"][0]["panels"]
    assert len(panels) == before + 1
    added = panels[-1]
    assert added["title"] == "Recall over time"
    assert [(s["metric"], s["field"]) for s in added["series"]] == [
        ("ClassificationQuality()", "current.recall"),
        ("ClassificationQuality()", "current.precision"),
    ]
    # Moving it up and deleting it go through the same document.
    with page.expect_navigation():
        new_panel.get_by_role("button", name="Move panel Recall over time up").click()
    _wait_drawn(page)
    panels = Dashboard.objects.get(project=demo).spec["tabs"][0]["panels"]
    assert panels[-2]["title"] == "Recall over time"
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_test_id("panel").filter(has_text="Recall over time").get_by_role(
            "button", name="Delete panel Recall over time"
        ).click()
    _wait_drawn(page)
    assert len(Dashboard.objects.get(project=demo).spec["tabs"][0]["panels"]) == before


def test_the_time_range_changes_and_stays_in_the_url(live_server, new_page, demo):
    page = new_page()
    _log_in(page, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/acme-ml/projects/{demo.pk}/")
    _wait_drawn(page)
    rows = page.get_by_test_id("panel").filter(has_text="Rows scored this month")
    assert "of 30 values" in rows.inner_text()
    page.get_by_test_id("range").select_option("7d")
    page.wait_for_url(lambda url: "range=7d" in url)
    _wait_drawn(page)
    # Daily snapshots at 06:00: the last 7 days hold 6 or 7 of them, depending on the hour now.
    text = page.get_by_test_id("panel").filter(has_text="Rows scored this month").inner_text()
    assert "of 7 values" in text or "of 6 values" in text, text
    shared = page.url
    other = new_page()
    _log_in(other, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    other.goto(shared)
    assert other.get_by_test_id("range").input_value() == "7d"
    # A range with no snapshots says so in every panel.
    other.get_by_test_id("range").select_option("custom")
    other.fill("input[name=since]", "2020-01-01")
    other.fill("input[name=until]", "2020-01-31")
    other.get_by_role("button", name="Apply").click()
    other.wait_for_url(lambda url: "since=2020-01-01" in url)
    _wait_drawn(other)
    assert other.get_by_test_id("no-data").count() >= 8
    shoot(other, "dashboard-no-data")


def test_a_pushed_snapshot_appears_on_an_open_dashboard(new_page, acme, alice):
    """uvicorn and a Celery worker as in production, Redis between them: the time from the POST to
    the point drawn in the browser is printed."""
    project = make_project(acme, "Live")
    first = snapshot_document(seed=1, timestamp=datetime.now(UTC) - timedelta(days=1))
    process_snapshot(ingest_snapshot(project, json.dumps(first).encode()).snapshot.pk)
    assert Dashboard.objects.filter(project=project).exists()  # the default one
    secret = make_token(acme, TokenScope.INGEST, project=project)[1]
    port = free_port()
    args = [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--port", str(port)]
    with running(args, child_environment(), ready="Uvicorn running on"):
        base = f"http://127.0.0.1:{port}"
        # The web process queues to the test run's queue: a worker consumes it.
        with celery_worker(settings.CELERY_TASK_DEFAULT_QUEUE):
            page = new_page()
            _log_in(page, base, alice.email, PASSWORD)
            page.goto(f"{base}/o/{acme.slug}/projects/{project.pk}/?tab=")
            _wait_drawn(page)
            page.locator("#live-status[data-state=open]").wait_for()
            tab_links = page.get_by_test_id("dashboard-tabs").get_by_role("link")
            assert tab_links.count() >= 1
            document = snapshot_document(seed=2, timestamp=datetime.now(UTC))
            request = urllib.request.Request(
                f"{base}/api/v1/projects/{project.pk}/snapshots",
                data=json.dumps(document).encode(),
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 201
            page.wait_for_function(
                "(id) => document.body.dataset.lastLiveSnapshot === id", arg=document["id"]
            )
            elapsed = time.perf_counter() - started
            print(
                f"\nlive update: POST to the point drawn in the browser in {elapsed * 1000:.0f} ms"
            )
            panel = page.locator(f"[data-last-snapshot='{document['id']}']").first
            assert panel.locator("canvas").count() >= 1
            shoot(page, "dashboard-live-update")


def test_a_tab_deleted_comes_back_in_one_click(live_server, new_page, demo):
    page = new_page()
    _log_in(page, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/acme-ml/projects/{demo.pk}/")
    _wait_drawn(page)
    assert page.get_by_test_id("preset-offers").count() == 0  # every pre-built tab is there
    page.get_by_role("button", name="Edit").click()
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Delete tab Model quality").click()
    titles = [t["title"] for t in Dashboard.objects.get(project=demo).spec["tabs"]]
    assert "Model quality" not in titles
    offer = page.get_by_test_id("preset-offers").get_by_role("button", name="+ Model quality")
    with page.expect_navigation():
        offer.click()
    _wait_drawn(page)
    assert (
        page.get_by_role("link", name="Model quality", exact=True).get_attribute("aria-current")
        == "page"
    )
    assert page.locator("[data-state=drawn]").count() >= 4
    titles = [t["title"] for t in Dashboard.objects.get(project=demo).spec["tabs"]]
    assert titles[-1] == "Model quality"
