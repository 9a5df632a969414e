"""The snapshot viewer in a real browser: the distribution charts draw their bars, on a laptop and on
a phone, and follow the page's width when it changes."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from projects.ingestion import ingest_snapshot
from tests.browser.conftest import shoot
from tests.factories import make_org, make_project, make_user
from tests.projects.test_snapshot_pages import drifting_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The current side's bar colour (--chart-current in app.css), as canvas pixels.
CURRENT_RGB = (0x25, 0x63, 0xEB)
COUNT_COLOURED_PIXELS = """([canvas, rgb]) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let found = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - rgb[0]) < 8 && Math.abs(data[i + 1] - rgb[1]) < 8
        && Math.abs(data[i + 2] - rgb[2]) < 8 && data[i + 3] > 200) found++;
  }
  return found;
}"""


def _signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def _bars_drawn(page, selector: str) -> int:
    canvas = page.locator(f"{selector} canvas")
    canvas.wait_for()
    return canvas.evaluate(
        "(canvas, rgb) => (" + COUNT_COLOURED_PIXELS + ")([canvas, rgb])", list(CURRENT_RGB)
    )


def test_the_viewer_draws_distribution_charts_on_a_laptop_and_a_phone(live_server, new_page):
    alice = make_user("alice@example.com", name="Alice")
    project = make_project(make_org("Acme", alice), "Churn")
    document = drifting_document()
    snapshot = ingest_snapshot(project, json.dumps(document).encode()).snapshot
    url = live_server.url + reverse(
        "snapshot_detail", args=[project.organization.slug, project.pk, snapshot.uuid]
    )
    age_chart = next(
        m["id"]
        for m in document["metrics"]
        if m["type"] == "ColumnDistribution" and m["params"]["column"] == "age"
    )
    figure = f'figure[data-metric="{age_chart.replace(chr(34), chr(92) + chr(34))}"]'

    laptop = new_page(width=1280, height=900)
    _signed_in(laptop, live_server, alice)
    laptop.goto(url)
    laptop.get_by_role("heading", name="nightly batch").wait_for()
    assert _bars_drawn(laptop, figure) > 200
    # The legend names both sides; the canvas names itself for screen readers.
    legend = laptop.locator(f"{figure} .u-legend").inner_text()
    assert "current" in legend
    assert "reference" in legend
    assert "age" in laptop.locator(f"{figure} canvas").get_attribute("aria-label")
    wide = laptop.locator(f"{figure} canvas").bounding_box()["width"]
    shoot(laptop, "snapshot-viewer-1280")

    # The same page narrowed to a phone's width: the chart follows it.
    laptop.set_viewport_size({"width": 375, "height": 800})
    laptop.wait_for_function(
        "([selector, wide]) => document.querySelector(selector).getBoundingClientRect().width"
        " < wide - 100",
        arg=[f"{figure} canvas", wide],
    )
    assert _bars_drawn(laptop, figure) > 100

    phone = new_page(width=375, height=812)
    phone.context.add_cookies(laptop.context.cookies())
    phone.goto(url)
    phone.locator(figure).scroll_into_view_if_needed()
    assert _bars_drawn(phone, figure) > 100
    box = phone.locator(f"{figure} canvas").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 375
    # Nothing pushes the page sideways on a phone: wide tables scroll inside their cards.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    # The categorical column draws too.
    plan_chart = next(
        m["id"]
        for m in document["metrics"]
        if m["type"] == "ColumnDistribution" and m["params"]["column"] == "plan"
    )
    plan = f'figure[data-metric="{plan_chart.replace(chr(34), chr(92) + chr(34))}"]'
    phone.locator(plan).scroll_into_view_if_needed()
    assert _bars_drawn(phone, plan) > 100
    phone.evaluate("window.scrollTo(0, 0)")
    shoot(phone, "snapshot-viewer-375")

    listing = new_page(width=375, height=812)
    listing.context.add_cookies(laptop.context.cookies())
    listing.goto(
        live_server.url + reverse("snapshot_list", args=[project.organization.slug, project.pk])
    )
    listing.get_by_role("link", name="nightly batch").click()
    listing.get_by_role("heading", name="nightly batch").wait_for()
    shoot(listing, "snapshot-viewer-from-the-list-375")
