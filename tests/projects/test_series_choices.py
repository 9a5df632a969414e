"""The series pickers offer: every series of the project once, grouped by metric (one group per
metric id, titled by its type and parameters), the fields `metrics.names` names first in each
group and the reference's last, the named metrics' groups first; the alert form and the editor's
choices offer the same order."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from alerts.forms import MetricRuleForm
from metrics import (
    ClassificationPreset,
    DataDefinition,
    DataDriftPreset,
    DataSummaryPreset,
    Report,
    names,
)
from projects import series_choices
from projects.ingestion import ingest_snapshot
from projects.models import MetricSeries
from projects.processing import process_snapshot
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(acme):
    project = make_project(acme, "Churn")
    rng = np.random.default_rng(3)

    def frame(shift: float) -> pd.DataFrame:
        target = rng.integers(0, 2, 400)
        return pd.DataFrame(
            {
                "age": rng.normal(40 + shift, 5, 400),
                "plan": rng.choice(["a", "b", "c"], 400),
                "target": target,
                "prediction": np.where(rng.random(400) < 0.8, target, 1 - target),
            }
        )

    run = Report(
        [DataDriftPreset(), DataSummaryPreset(), ClassificationPreset()],
        definition=DataDefinition(target="target", prediction="prediction"),
        progress=False,
    ).run(frame(3), frame(0), timestamp=datetime(2026, 11, 1, tzinfo=UTC))
    process_snapshot(ingest_snapshot(project, json.dumps(run.dict()).encode()).snapshot.pk)
    return project


def test_every_series_once_grouped_by_metric(project, api_for, alice):
    metrics = (
        api_for(alice).get(f"/api/v1/projects/{project.pk}/dashboard/choices").json()["metrics"]
    )
    offered = [(m["metric"], f) for m in metrics for f in m["fields"]]
    stored = list(MetricSeries.objects.filter(project=project).values_list("metric_id", "field"))
    assert len(offered) == len(set(offered)) == len(stored) > 50
    assert set(offered) == set(stored)
    assert len({m["metric"] for m in metrics}) == len(metrics)
    labels = [m["label"] for m in metrics]
    assert len(labels) == len(set(labels))  # each group reads apart from the others
    drift_age = next(m for m in metrics if m["type"] == "ColumnDrift" and "age" in m["label"])
    assert drift_age["label"].startswith("Column drift · column=age")


def test_useful_fields_first_and_the_reference_last(project, api_for, alice):
    metrics = (
        api_for(alice).get(f"/api/v1/projects/{project.pk}/dashboard/choices").json()["metrics"]
    )
    for metric in metrics:
        fields = metric["fields"]
        named = [f for f in series_choices.NAMED_FIELDS.get(metric["type"], []) if f in fields]
        assert fields[: len(named)] == named, metric["metric"]
        first_reference = next(
            (i for i, f in enumerate(fields) if f.startswith("reference.")), len(fields)
        )
        assert all(f.startswith("reference.") for f in fields[first_reference:]), fields
    quality = next(m for m in metrics if m["type"] == names.ClassificationQuality.TYPE)
    assert quality["fields"][:4] == [
        names.ClassificationQuality.ACCURACY,
        names.ClassificationQuality.PRECISION,
        names.ClassificationQuality.RECALL,
        names.ClassificationQuality.F1,
    ]
    # The named metrics' groups come first, in `metrics.names`' order.
    ranks = [
        series_choices.NAMED_TYPES.index(m["type"])
        for m in metrics
        if m["type"] in series_choices.NAMED_TYPES
    ]
    assert ranks == sorted(ranks)
    named_first = [m["type"] in series_choices.NAMED_TYPES for m in metrics]
    assert named_first == sorted(named_first, reverse=True)
    assert any(named_first)
    assert not all(named_first)


def test_the_alert_form_offers_the_same_groups_in_the_same_order(project, api_for, alice):
    metrics = (
        api_for(alice).get(f"/api/v1/projects/{project.pk}/dashboard/choices").json()["metrics"]
    )
    form = MetricRuleForm(project=project)
    choices: list[Any] = list(cast(Any, form.fields["series"]).choices)
    assert choices[0] == ("", "—")
    groups = choices[1:]
    assert [label for label, _ in groups] == [m["label"] for m in metrics]
    assert [[field for _, field in options] for _, options in groups] == [
        m["fields"] for m in metrics
    ]
    keys = [key for _, options in groups for key, _ in options]
    assert sorted(keys) == sorted(
        str(pk) for pk in MetricSeries.objects.values_list("pk", flat=True)
    )
    html = form["series"].as_widget()
    assert 'data-picker="metric"' in html
    assert len(re.findall("<optgroup", html)) == len(metrics)
