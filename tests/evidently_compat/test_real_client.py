"""The real Evidently 0.7.23 client (in its own virtual environment, in a subprocess) against a live
server of ours on loopback: `RemoteWorkspace` creates a project, pushes the four presets and a run
of tests, writes its dashboard; `CloudWorkspace` logs in and pushes. The numbers Evidently
reported are our points under our metric ids, its test results our test outcomes, and the
dashboard's pre-built tabs are drawn from them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mlplatform.accounts.models import TokenScope
from projects.dashboards.prebuilt_tabs import available_presets
from projects.models import MetricPoint, Project, Snapshot, TestOutcome
from projects.processing import process_snapshot
from tests.evidently_compat.conftest import run_side
from tests.factories import make_token

pytestmark = pytest.mark.django_db(transaction=True)

# Evidently metric (type, component) -> our field, checked by hand for each preset's headline
# numbers (the mapping module's tables are not read here).
HEADLINES = {
    ("ValueDrift", "value"): ("ColumnDrift", "score"),
    ("RowCount", "value"): ("DatasetSummary", "current.row_count"),
    ("MeanValue", "value"): ("ColumnSummary", "current.mean"),
    ("MissingValueCount", "share"): ("ColumnSummary", "current.missing_share"),
    ("Accuracy", "value"): ("ClassificationQuality", "current.accuracy"),
    ("F1Score", "value"): ("ClassificationQuality", "current.f1"),
    ("RocAuc", "value"): ("ClassificationQuality", "current.roc_auc"),
    ("MAE", "mean"): ("RegressionQuality", "current.mae"),
    ("RMSE", "value"): ("RegressionQuality", "current.rmse"),
    ("MAPE", "mean"): ("RegressionQuality", "current.mape"),
}


def our_id(kind: str, params: dict[str, Any]) -> str:
    column = params.get("column")
    return f'{kind}(column="{column}")' if kind in ("ColumnDrift", "ColumnSummary") else f"{kind}()"


def points_of(snapshot: Snapshot) -> dict[tuple[str, str], float]:
    return {
        (p.series.metric_id, p.series.field): p.value
        for p in MetricPoint.objects.filter(snapshot_id=snapshot.pk).select_related("series")
    }


def test_remote_workspace_pushes_every_preset_unchanged(
    live_server, acme, globex, evidently_python
):
    _, secret = make_token(acme, TokenScope.WRITE)
    # The base URL as a user would write it; the client drops its path (urljoin), see the docs.
    out = run_side(evidently_python, "push", f"{live_server.url}/evidently", secret)
    project = Project.objects.get(pk=out["project"])
    assert (project.organization, project.name) == (acme, "Evidently pushes")
    assert not Project.objects.filter(organization=globex).exists()
    runs = out["runs"]
    assert set(runs) == {"drift", "summary", "classification", "regression", "tests"}
    stored = {str(s.uuid): s for s in Snapshot.objects.filter(project=project)}
    assert set(stored) == {run["snapshot_id"] for run in runs.values()}
    checked: Counter[str] = Counter()
    for name, run in runs.items():
        snapshot = stored[run["snapshot_id"]]
        assert snapshot.name == f"evidently {name}"
        points = points_of(snapshot)
        values = Counter(points.values())
        for entry in run["numbers"].values():
            for component, number in entry["numbers"].items():
                if number is None:
                    continue
                # Every number Evidently reported is a point of this snapshot...
                assert values[float(number)] > 0, (name, entry["type"], component, number)
                # ...and the headline ones are under our metric id and field.
                headline = HEADLINES.get((entry["type"], component))
                if headline is not None:
                    key = (our_id(headline[0], entry["params"]), headline[1])
                    assert points[key] == float(number), (name, key)
                    checked[headline[0]] += 1
        # Evidently's test results are our test outcomes.
        outcomes = Counter(
            (o.name, o.status) for o in TestOutcome.objects.filter(snapshot=snapshot)
        )
        assert outcomes == Counter((t["name"], t["status"]) for t in run["tests"])
        assert sum(outcomes.values()) > 0
    assert checked["ColumnDrift"] == 7
    assert checked["ClassificationQuality"] == 3
    assert checked["RegressionQuality"] == 3
    assert checked["ColumnSummary"] >= 7
    assert out["dashboard"] == {"tabs": [], "panels": []}

    # Processed as our own snapshots are; the pre-built tabs are drawn from them.
    for snapshot in stored.values():
        assert process_snapshot(snapshot.pk)
    available = {p["id"]: p["available"] for p in available_presets(project)}
    assert available == dict.fromkeys(available, True), available
    assert len(available) == 4


def test_cloud_workspace_logs_in_with_our_token_and_pushes(live_server, acme, evidently_python):
    _, secret = make_token(acme, TokenScope.WRITE)
    out = run_side(evidently_python, "cloud", live_server.url, secret)
    project = Project.objects.get(pk=out["project"], organization=acme)
    (snapshot,) = Snapshot.objects.filter(project=project)
    assert str(snapshot.uuid) == out["runs"]["drift"]["snapshot_id"]
    assert points_of(snapshot)[('ColumnDrift(column="age")', "drifted")] in (0.0, 1.0)
