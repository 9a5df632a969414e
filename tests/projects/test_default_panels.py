"""The default panels show what matters: the drift panel the most drifted columns (drifted first,
checked against SciPy's own p-values), the missing panel the columns with the most missing values
(checked against pandas), means one small chart per column; p-values and distances never share an
axis; the choice follows the range; each ranked panel says which columns it shows and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from scipy import stats

from metrics import DataDriftPreset, DataSummaryPreset, Report
from metrics.presets import DriftOptions
from projects.dashboards.document import clean_spec
from projects.dashboards.prebuilt_tabs import default_spec
from projects.ingestion import ingest_snapshot
from projects.processing import process_snapshot
from tests.factories import make_project

pytestmark = pytest.mark.django_db

START = datetime(2026, 10, 1, 6, tzinfo=UTC)
COLUMNS = [f"c{i:02d}" for i in range(12)]


def frames(rows: int, drifted: list[str], missing: dict[str, float], seed: int = 0):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({c: rng.normal(0, 1, rows) for c in COLUMNS})
    current = pd.DataFrame({c: rng.normal(0, 1, rows) for c in COLUMNS})
    for shift, column in enumerate(drifted, start=1):
        current[column] += 0.4 * shift  # the later in `drifted`, the stronger
    for column, share in missing.items():
        current.loc[: int(rows * share) - 1, column] = np.nan
    return current, reference


def push(project, current, reference, day: int = 0, drift: DataDriftPreset | None = None):
    run = Report([drift or DataDriftPreset(), DataSummaryPreset()], progress=False).run(
        current, reference, timestamp=START + timedelta(days=day)
    )
    found = ingest_snapshot(project, json.dumps(run.dict()).encode())
    process_snapshot(found.snapshot.pk)
    return run


def panels_of(project) -> dict[str, dict[str, Any]]:
    return {p["title"]: p for tab in default_spec(project)["tabs"] for p in tab["panels"]}


def data(client, project, panel_id: str, **window: str) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/projects/{project.pk}/dashboard/data",
        {"panel": panel_id, "range": "all", **window},
    )
    assert response.status_code == 200, response.content
    return response.json()["panels"][panel_id]


@pytest.fixture
def project(acme):
    return make_project(acme, "Churn")


def test_the_drift_panel_shows_the_drifted_columns_first(project, api_for, alice):
    # The drifted columns sort last alphabetically: the first 8 by name would hide them all.
    drifted = ["c09", "c10", "c11"]
    current, reference = frames(500, drifted, {})
    push(project, current, reference)
    panel = panels_of(project)["Drift p-value per column"]
    assert panel["columns"] == {"rank": "drift", "limit": 8, "kind": "p_value"}
    found = data(api_for(alice), project, panel["id"])
    labels = [line["label"] for line in found["series"]]
    p_values = {c: stats.ks_2samp(reference[c], current[c]).pvalue for c in COLUMNS}
    really_drifted = sorted((c for c in COLUMNS if p_values[c] <= 0.05), key=lambda c: p_values[c])
    assert set(drifted) <= set(really_drifted)
    assert labels[: len(really_drifted)] == really_drifted  # most drifted (lowest p) first
    assert len(labels) == 8
    assert [line["v"][-1] for line in found["series"][:3]] == pytest.approx(
        [p_values[c] for c in really_drifted[:3]], rel=1e-9, abs=1e-300
    )
    assert found["thresholds"] == [{"value": 0.05, "label": "drift threshold", "color": "#dc2626"}]
    caption = found["caption"]
    assert caption.startswith("P-values: lower means more drift.")
    assert f"{len(really_drifted)} of 12 columns drifted" in caption
    assert caption.endswith("the 8 most drifted are shown.")
    assert all(c in caption for c in really_drifted)
    assert [c["drifted"] for c in found["columns"]][: len(really_drifted)] == [True] * len(
        really_drifted
    )


def test_the_missing_panel_shows_the_most_missing_columns(project, api_for, alice):
    missing = {"c11": 0.3, "c07": 0.1, "c10": 0.02}
    current, reference = frames(400, [], missing)
    push(project, current, reference)
    panel = panels_of(project)["Missing values per column"]
    found = data(api_for(alice), project, panel["id"])
    shares = current.isna().mean()
    expected = sorted(COLUMNS, key=lambda c: (-shares[c], c))[:8]
    assert [line["label"] for line in found["series"]] == expected
    assert [line["v"][-1] for line in found["series"]] == pytest.approx(
        [shares[c] for c in expected]
    )
    assert found["caption"] == (
        "3 of 12 columns have missing values, c11 the most (30%); the 8 with the most are shown."
    )


def test_column_means_get_a_chart_each_drifted_first(project):
    current, reference = frames(300, ["c05"], {})
    current["c05"] = current["c05"] * 100 + 650  # a column on another scale entirely
    push(project, current, reference)
    means = [p for title, p in panels_of(project).items() if title.startswith("Mean of ")]
    assert 1 < len(means) <= 6
    assert means[0]["title"] == "Mean of c05"
    assert all(len(p["series"]) == 1 and p["size"] == "third" for p in means)
    assert "Column means" not in panels_of(project)


def test_p_values_and_distances_never_share_an_axis(project, api_for, alice):
    # 1,500 rows: numerical columns get the (normed) Wasserstein distance (the default for large
    # data); a categorical column is given a chi-square test, a p-value.
    current, reference = frames(1500, ["c03"], {})
    rng = np.random.default_rng(3)
    reference["flag"] = rng.choice(["yes", "no"], 1500, p=[0.5, 0.5])
    current["flag"] = rng.choice(["yes", "no"], 1500, p=[0.8, 0.2])
    options = DriftOptions(per_column_method={"flag": "chisquare"})
    run = push(project, current, reference, drift=DataDriftPreset(options=options))
    kinds = {
        r["params"]["column"]: r["details"]["kind"]
        for r in run.dict()["metrics"]
        if r["type"] == "ColumnDrift"
    }
    assert kinds["flag"] == "p_value"
    assert kinds["c03"] == "distance"
    panels = panels_of(project)
    client = api_for(alice)
    p_panel = data(client, project, panels["Drift p-value per column"]["id"])
    d_panel = data(client, project, panels["Drift distance per column"]["id"])
    assert [line["label"] for line in p_panel["series"]] == ["flag"]
    assert {c["kind"] for c in d_panel["columns"]} == {"distance"}
    assert d_panel["series"][0]["label"] == "c03"
    assert d_panel["caption"].startswith("Distances: higher means more drift.")
    assert p_panel["thresholds"][0]["value"] == 0.05
    assert d_panel["thresholds"][0]["value"] == 0.1
    assert "Drift score per column" not in panels


def test_the_columns_follow_the_range(project, api_for, alice):
    older, reference = frames(500, ["c00"], {}, seed=1)
    push(project, older, reference, day=0)
    newer, reference = frames(500, ["c11"], {}, seed=2)
    push(project, newer, reference, day=5)
    panel = panels_of(project)["Drift p-value per column"]
    client = api_for(alice)
    latest = data(client, project, panel["id"])
    earlier = data(
        client, project, panel["id"], range="custom", since="2026-10-01", until="2026-10-03"
    )
    assert latest["series"][0]["label"] == "c11"
    assert earlier["series"][0]["label"] == "c00"
    assert len(earlier["series"][0]["t"]) == 1


def test_a_rule_is_checked_and_named_by_field():
    line = {"type": "line", "title": "Drift", "series": []}
    assert clean_spec(
        {
            "tabs": [
                {
                    "id": "t",
                    "title": "T",
                    "panels": [{**line, "columns": {"rank": "drift", "kind": "distance"}}],
                }
            ]
        }
    )["tabs"][0]["panels"][0]["columns"] == {"rank": "drift", "limit": 8, "kind": "distance"}
    bad = [
        ({"rank": "best"}, "columns.rank"),
        ({"rank": "drift", "limit": 0}, "columns.limit"),
        ({"rank": "drift", "limit": True}, "columns.limit"),
        ({"rank": "missing", "kind": "p_value"}, "columns.kind"),
        ({"rank": "drift", "colour": "red"}, "columns.colour"),
        ("drift", "columns"),
    ]
    for rule, path in bad:
        with pytest.raises(ValidationError) as caught:
            clean_spec({"tabs": [{"id": "t", "title": "T", "panels": [{**line, "columns": rule}]}]})
        assert f"tabs[0].panels[0].{path}" in caught.value.message_dict, rule
    with pytest.raises(ValidationError) as caught:
        clean_spec(
            {
                "tabs": [
                    {
                        "id": "t",
                        "title": "T",
                        "panels": [
                            {
                                "type": "counter",
                                "title": "C",
                                "series": [],
                                "columns": {"rank": "drift"},
                            }
                        ],
                    }
                ]
            }
        )
    assert "tabs[0].panels[0].columns" in caught.value.message_dict


def test_an_outsider_gets_404_for_a_ranked_panel(project, api_for, charlie, globex):
    push(project, *frames(200, ["c01"], {}))
    panel = panels_of(project)["Drift p-value per column"]
    response = api_for(charlie).get(
        f"/api/v1/projects/{project.pk}/dashboard/data", {"panel": panel["id"]}
    )
    assert response.status_code == 404
