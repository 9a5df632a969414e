"""Firing alerts on the dashboard: a banner naming them, and for metric rules the metric field and
threshold the charts mark."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from alerts.evaluation import evaluate_project
from tests.alerts.conftest import ACCURACY, metric_rule, push

pytestmark = pytest.mark.django_db


def _marks(page: str) -> list[dict]:
    found = re.search(r'<script id="firing-alerts" type="application/json">(.*?)</script>', page)
    return json.loads(found.group(1)) if found else []


def test_a_firing_metric_rule_is_marked_for_the_charts(client_for, acme, alice, project):
    rule = metric_rule(project, severity="critical")
    url = reverse("project_detail", args=[acme.slug, project.pk])
    push(project, 0.9, 0)
    evaluate_project(project.pk)
    assert _marks(client_for(alice).get(url).content.decode()) == []
    push(project, 0.5, 1)
    evaluate_project(project.pk)
    page = client_for(alice).get(url).content.decode()
    assert "1 alert firing" in page
    (mark,) = _marks(page)
    assert mark["rule"] == rule.name
    assert (mark["metric"], mark["field"]) == (ACCURACY["metric"], ACCURACY["field"])
    assert mark["threshold"] == 0.8
    assert mark["severity"] == "critical"
    assert mark["url"] == reverse("alert_rule_detail", args=[acme.slug, project.pk, rule.pk])
