"""What a new user sees after their first pushes, in a real browser: a new project with 1, 2 (16 ms
apart) and 5 snapshots. Every chart's x axis spans the selected range (plus a small margin, never
years nor milliseconds), no bar is cut by the plot's edge, integer series get unique whole-number
ticks and no "-0", threshold labels are not doubled, and the default drift panel shows the drifted
columns (which sort last by name) and says so. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from metrics import DataDriftPreset, DataSummaryPreset, Report
from projects.ingestion import ingest_snapshot
from projects.processing import process_snapshot
from tests.browser.conftest import shoot
from tests.factories import PASSWORD, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLUMNS = [f"c{i:02d}" for i in range(12)]
DRIFTED = ["c09", "c10", "c11"]
CHARTS = ("line", "bar", "scatter")


def push(project, when: datetime, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({c: rng.normal(0, 1, 400) for c in COLUMNS})
    current = pd.DataFrame({c: rng.normal(0, 1, rows) for c in COLUMNS})
    for shift, column in enumerate(DRIFTED, start=2):
        current[column] += shift
    run = Report([DataSummaryPreset(), DataDriftPreset()], progress=False).run(
        current, reference, timestamp=when
    )
    found = ingest_snapshot(project, json.dumps(run.dict()).encode())
    process_snapshot(found.snapshot.pk)


def open_dashboard(page, base: str, project, query: str = "") -> None:
    if "/accounts/login" in page.url or page.url == "about:blank":
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", "alice@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login" not in url)
    page.goto(f"{base}/o/{project.organization.slug}/projects/{project.pk}/{query}")
    page.get_by_test_id("dashboard-tabs").wait_for()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=panel]')]
              .every((p) => p.dataset.panelType === 'text' || p.dataset.state)"""
    )


def charts(page) -> list[dict]:
    """What each chart drew, as uPlot and the bar and threshold hooks left it on the chart."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=panel]')].flatMap((panel) => {
            const holder = panel.querySelector('.chart');
            if (!holder || !holder.dataset.xScale) return [];
            const read = (key) => JSON.parse(holder.dataset[key] || 'null');
            return [{
              title: panel.querySelector('h3').textContent.trim(),
              type: panel.dataset.panelType,
              range: [Number(holder.dataset.rangeFrom), Number(holder.dataset.rangeTo)],
              x: read('xScale'), plot: read('plot'), bars: read('bars') || [],
              ticks: read('yTicks'), labels: read('thresholdLabels') || [],
              legend: [...panel.querySelectorAll('.u-legend .u-series .u-label')]
                .map((n) => n.textContent).slice(1),
              caption: panel.querySelector('[data-testid=panel-caption]')?.textContent || '',
            }];
        })"""
    )


def check_charts(found: list[dict], since: float, until: float) -> None:
    assert found
    for chart in found:
        title = chart["title"]
        low, high = chart["range"]
        assert low == pytest.approx(since, abs=120), title
        assert high == pytest.approx(until, abs=120), title
        margin = (high - low) * 0.05
        assert low - margin <= chart["x"][0] <= low, title  # the range, plus a margin
        assert high <= chart["x"][1] <= high + margin, title
        left, right = chart["plot"]
        for bar in chart["bars"]:
            assert left - 0.5 <= bar[0] < bar[1] <= right + 0.5, (title, bar, chart["plot"])
        ticks = chart["ticks"]
        assert len(ticks) == len(set(ticks)), (title, ticks)
        assert not [t for t in ticks if re.fullmatch(r"-0(\.0*)?%?", t)], (title, ticks)
        for label in chart["labels"]:
            words = label["text"].split()
            assert len(words) == len(set(words)), label  # no "5% 5%"


def whole_ticks(found: list[dict], title: str) -> list[str]:
    chart = next(c for c in found if c["title"] == title)
    assert chart["ticks"], title
    assert all(t.replace(",", "").lstrip("-").isdigit() for t in chart["ticks"]), chart["ticks"]
    return chart["ticks"]


@pytest.fixture
def project(acme):
    return make_project(acme, "First steps")


def test_one_snapshot(live_server, new_page, project):
    now = datetime.now(UTC)
    push(project, now - timedelta(hours=1), 120, 1)
    page = new_page()
    open_dashboard(page, live_server.url, project)
    found = charts(page)
    check_charts(found, (now - timedelta(days=30)).timestamp(), time.time())
    whole_ticks(found, "Rows per snapshot")
    shoot(page, "first-snapshots-1")
    # "All time" with one snapshot: an hour around it, not years.
    open_dashboard(page, live_server.url, project, "?range=all")
    for chart in charts(page):
        assert chart["range"][1] - chart["range"][0] == pytest.approx(3600), chart["title"]
        assert chart["range"][0] < (now - timedelta(hours=1)).timestamp() < chart["range"][1]
    shoot(page, "first-snapshots-1-all-time")


def test_two_snapshots_milliseconds_apart(live_server, new_page, project):
    now = datetime.now(UTC)
    first = now - timedelta(minutes=5)
    push(project, first, 120, 1)
    push(project, first + timedelta(milliseconds=16), 80, 2)
    page = new_page()
    open_dashboard(page, live_server.url, project, "?range=24h")
    found = charts(page)
    check_charts(found, (now - timedelta(hours=24)).timestamp(), time.time())
    rows = next(c for c in found if c["title"] == "Rows per snapshot")
    assert len(rows["bars"]) == 2
    shoot(page, "first-snapshots-2")
    open_dashboard(page, live_server.url, project, "?range=all")
    found = charts(page)
    for chart in found:
        span = chart["range"][1] - chart["range"][0]
        assert span == pytest.approx(3600, abs=1), chart["title"]  # not a millisecond axis
    rows = next(c for c in found if c["title"] == "Rows per snapshot")
    assert all(right <= rows["plot"][1] + 0.5 for _, right in rows["bars"])
    shoot(page, "first-snapshots-2-all-time")


def test_five_snapshots_and_the_drifted_columns(live_server, new_page, project):
    now = datetime.now(UTC)
    for day in range(5):
        push(project, now - timedelta(days=4 - day, hours=1), 60 + 10 * day, day)
    page = new_page()
    open_dashboard(page, live_server.url, project, "?range=7d")
    found = charts(page)
    check_charts(found, (now - timedelta(days=7)).timestamp(), time.time())
    whole_ticks(found, "Rows per snapshot")
    shoot(page, "first-snapshots-5")
    page.get_by_role("link", name="Data drift", exact=True).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=panel]')]
              .every((p) => p.dataset.panelType === 'text' || p.dataset.state)"""
    )
    found = charts(page)
    check_charts(found, (now - timedelta(days=7)).timestamp(), time.time())
    ticks = whole_ticks(found, "Drifted columns per snapshot")
    assert len(ticks) == len(set(ticks))
    drift = next(c for c in found if c["title"] == "Drift p-value per column")
    assert drift["legend"][:3] == ["c11", "c10", "c09"]  # the strongest drift first
    assert "lower means more drift" in drift["caption"]
    assert "3 of 12 columns drifted (c11, c10, c09)" in drift["caption"]
    assert [label["text"] for label in drift["labels"]] == ["drift threshold 0.05"]
    shoot(page, "first-snapshots-5-drift")
