"""The metric picker on the alert-rule form (real chromium, the seeded demo): the series come
grouped by metric with the useful fields first, the words typed narrow them (the count agrees with
the project's series counted in the database), the first match is chosen, and the rule saved is
the series picked."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from alerts.models import AlertRule
from mlplatform.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD
from projects import series_choices
from projects.models import MetricSeries, Project
from tests.browser.conftest import shoot
from tests.browser.test_dashboard import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", url=live_server.url, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Project.objects.get(name="Credit scoring")


def _matching(project: Project, words: list[str]) -> int:
    """How many of the project's series have every word in their field, metric label or type."""
    count = 0
    for series in MetricSeries.objects.filter(project=project):
        label = series_choices.group_label(series.metric_type, series.params, series.metric_id)
        text = f"{series.field} {label} {series.metric_type}".lower()
        count += all(word in text for word in words)
    return count


def test_the_alert_form_picks_a_series_by_searching(live_server, new_page, demo):
    page = new_page()
    _log_in(page, live_server.url, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/{demo.organization.slug}/projects/{demo.pk}/alerts/")
    form = page.locator("#add-metric")
    form.locator("summary").click()
    search = form.get_by_test_id("picker-search")
    count = form.get_by_test_id("picker-count")
    total = MetricSeries.objects.filter(project=demo).count()
    assert count.text_content() == f"{total} fields"
    select = form.locator("select[name=series]")
    groups = select.evaluate("s => [...s.querySelectorAll('optgroup')].map((g) => g.label)")
    assert (
        len(groups)
        == len(set(groups))
        == MetricSeries.objects.filter(project=demo).values("metric_id").distinct().count()
    )
    # The metrics the pre-built tabs draw come first: the dataset summary before any column's.
    assert groups[0].startswith("Dataset summary")

    search.fill("drift income")
    expected = _matching(demo, ["drift", "income"])
    assert 0 < expected < total
    assert count.text_content() == f"{expected} of {total} fields match"
    visible = select.evaluate(
        "s => [...s.options].filter((o) => !o.hidden && o.value).map((o) => o.text)"
    )
    assert len(visible) == expected
    picked = select.evaluate(
        "s => [s.selectedOptions[0].parentElement.label, s.selectedOptions[0].text]"
    )
    # The first match: the column drift of income, its score (a named field) before the rest.
    assert picked[0].startswith("Column drift")
    assert "income" in picked[0]
    assert picked[1] == "score"
    shoot(page, "metric-picker-alert-form")

    form.locator("input[name=name]").fill("Income drift score")
    form.locator("input[name=threshold]").fill("0.1")
    with page.expect_navigation():
        form.get_by_role("button", name="Add rule").click()
    assert page.get_by_text("Added the rule Income drift score.").is_visible()
    rule = AlertRule.objects.get(name="Income drift score")
    series = MetricSeries.objects.get(
        project=demo, metric_id=rule.config["metric"], field=rule.config["field"]
    )
    assert series.metric_type == "ColumnDrift"
    assert series.params.get("column") == "income"
    assert series.field == "score"

    # No word matches: nothing left, said so.
    page.goto(f"{live_server.url}/o/{demo.organization.slug}/projects/{demo.pk}/alerts/")
    form.locator("summary").click()
    form.get_by_test_id("picker-search").fill("no-such-metric-anywhere")
    assert form.get_by_test_id("picker-count").text_content() == f"0 of {total} fields match"
