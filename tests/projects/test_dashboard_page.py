"""The dashboard page as the server renders it: tabs and panels from the document, the window from the
URL, editing offered to those who may edit, the chart library served from the npm install."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from mlplatform.apps import chart_library_installed
from projects.dashboards.store import save_dashboard
from tests.factories import make_project, make_snapshot

pytestmark = pytest.mark.django_db

SPEC = {
    "tabs": [
        {
            "id": "first",
            "title": "First tab",
            "panels": [
                {"type": "text", "title": "Read me", "text": "Hello <b>there</b>\n\nSecond"},
                {
                    "type": "line",
                    "title": "Mean age",
                    "series": [{"metric": 'ColumnSummary(column="age")', "field": "current.mean"}],
                },
            ],
        },
        {"id": "second", "title": "Second tab", "panels": []},
    ]
}


def _config(page: str) -> dict:
    start = page.index('<script id="dashboard-config" type="application/json">')
    body = page[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_it_renders_the_tabs_and_panels_of_the_document(client_for, acme, alice):
    project = make_project(acme, "Churn")
    make_snapshot(project)
    save_dashboard(project, SPEC)
    url = reverse("project_detail", args=[acme.slug, project.pk])
    page = client_for(alice).get(url).content.decode()
    assert "First tab" in page
    assert "Second tab" in page
    assert 'data-panel-type="line"' in page
    assert "Mean age" in page
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in page  # text panels are escaped
    assert "<p>Second</p>" in page
    config = _config(page)
    assert config["tab"] == "first"
    assert config["api"] == f"/api/v1/projects/{project.pk}/dashboard"
    assert config["live"] == f"/ws/projects/{project.pk}/live"
    assert config["window"]["range"] == "30d"
    assert "vendor/uplot/uPlot.iife.min.js" in page
    second = client_for(alice).get(url, {"tab": "second", "range": "7d", "tag": "prod"})
    config = _config(second.content.decode())
    assert config["tab"] == "second"
    assert config["window"]["range"] == "7d"
    assert config["window"]["tags"] == ["prod"]
    assert "This tab has no panels yet" in second.content.decode()


def test_a_bad_window_falls_back_with_a_message(client_for, acme, alice):
    project = make_project(acme, "Churn")
    save_dashboard(project, SPEC)
    url = reverse("project_detail", args=[acme.slug, project.pk])
    page = client_for(alice).get(url, {"range": "custom", "since": "soon"}).content.decode()
    assert "is not a date" in page
    assert _config(page)["window"]["range"] == "30d"


def test_editing_is_offered_to_members_not_viewers(client_for, acme, bob, vera):
    project = make_project(acme, "Churn")
    save_dashboard(project, SPEC)
    url = reverse("project_detail", args=[acme.slug, project.pk])
    assert 'id="edit-toggle"' in client_for(bob).get(url).content.decode()
    page = client_for(vera).get(url).content.decode()
    assert 'id="edit-toggle"' not in page
    assert _config(page)["canEdit"] is False


def test_a_new_project_says_how_to_push_its_first_snapshot(client_for, acme, alice):
    project = make_project(acme, "Empty")
    page = client_for(alice).get(reverse("project_detail", args=[acme.slug, project.pk]))
    assert "Push the first snapshot" in page.content.decode()


def test_the_chart_library_comes_from_the_npm_install():
    found = finders.find("vendor/uplot/uPlot.iife.min.js")
    assert found
    assert str(settings.CHART_LIBRARY_DIR) in found
    assert chart_library_installed() == []


def test_a_missing_chart_library_is_reported_at_start_up(settings, tmp_path):
    settings.CHART_LIBRARY_DIR = tmp_path
    (warning,) = chart_library_installed()
    assert warning.hint is not None
    assert "scripts/setup" in warning.hint


def test_pre_built_tabs_the_data_now_allows_are_offered_in_one_click(client_for, acme, bob, vera):
    project = make_project(acme, "Churn")
    make_snapshot(project)  # summary and drift metrics, two tests
    save_dashboard(project, SPEC)
    url = reverse("project_detail", args=[acme.slug, project.pk])
    page = client_for(bob).get(url).content.decode()
    offered = set(re.findall(r'data-add-preset="([a-z_]+)"', page))
    assert offered == {"data_quality", "data_drift", "tests"}  # no model metrics pushed
    assert "data-add-preset" not in client_for(vera).get(url).content.decode()
    save_dashboard(project, {"tabs": [*SPEC["tabs"], {"title": "Data drift", "panels": []}]})
    page = client_for(bob).get(url).content.decode()
    assert set(re.findall(r'data-add-preset="([a-z_]+)"', page)) == {"data_quality", "tests"}
