"""The dashboard as code from Python (RemoteWorkspace against a live server), and the dashboard data
read with several connections at once, as production does outside a transaction."""

from __future__ import annotations

import json
import threading

import pytest

from metrics.client.remote import RemoteConflict, RemoteError, RemoteNotFound, RemoteWorkspace
from mlplatform.accounts.models import TokenScope
from projects import panel_data
from projects.dashboards.store import save_dashboard
from projects.ingestion import ingest_snapshot
from projects.models import Dashboard
from tests.factories import make_project, make_token, snapshot_document

AGE = {"metric": 'ColumnSummary(column="age")', "field": "current.mean", "label": "age"}


@pytest.mark.django_db(transaction=True)
def test_the_python_client_reads_writes_and_adds_panels(live_server, acme):
    project = make_project(acme, "Churn")
    other = make_project(acme, "Other")
    ingest_snapshot(project, json.dumps(snapshot_document()).encode())
    workspace = RemoteWorkspace(live_server.url, make_token(acme, TokenScope.WRITE)[1], backoff=0)
    first = workspace.get_dashboard(str(project.pk))
    assert first["version"] == 0  # the default, from what the project received
    assert [t["title"] for t in first["tabs"]] == ["Data quality", "Data drift", "Tests"]

    saved = workspace.set_dashboard(
        str(project.pk),
        {
            "tabs": [
                {"title": "Main", "panels": [{"type": "line", "title": "Age", "series": [AGE]}]}
            ]
        },
        version=0,
    )
    assert saved["version"] == 1
    assert saved["tabs"][0]["panels"][0]["id"]
    with pytest.raises(RemoteConflict):
        workspace.set_dashboard(str(project.pk), {"tabs": []}, version=0)

    panel = workspace.add_panel(
        str(project.pk), {"type": "counter", "title": "Mean age", "series": [AGE]}, tab="Main"
    )
    assert panel["aggregate"] == "last"
    assert panel["size"] == "third"
    stored = Dashboard.objects.get(project=project).spec["tabs"][0]["panels"]
    assert [p["title"] for p in stored] == ["Age", "Mean age"]

    with pytest.raises(RemoteError) as refused:
        workspace.add_panel(str(project.pk), {"type": "line", "title": "No series"})
    assert refused.value.status == 400
    assert "panel.series" in refused.value.fields

    workspace.delete_panel(str(project.pk), panel["id"])
    assert len(Dashboard.objects.get(project=project).spec["tabs"][0]["panels"]) == 1
    with pytest.raises(RemoteNotFound):
        workspace.delete_panel(str(project.pk), panel["id"])
    # An ingest token of another project sees neither the project nor its dashboard.
    ingest = RemoteWorkspace(
        live_server.url, make_token(acme, TokenScope.INGEST, project=other)[1], backoff=0
    )
    with pytest.raises(RemoteNotFound):
        ingest.get_dashboard(str(project.pk))


@pytest.mark.django_db(transaction=True)
def test_panels_read_with_several_connections_match_one_connection(acme, monkeypatch):
    project = make_project(acme, "Parallel")
    for day in range(4):
        document = snapshot_document(seed=day, timestamp=f"2026-10-0{day + 1}T06:00:00+00:00")
        ingest_snapshot(project, json.dumps(document).encode())
    series = [
        AGE,
        {"metric": 'ColumnSummary(column="age")', "field": "current.std"},
        {"metric": 'ColumnDrift(column="age")', "field": "score"},
    ]
    saved = save_dashboard(
        project,
        {
            "tabs": [
                {
                    "title": "T",
                    "panels": [
                        {"type": "line", "title": "L", "series": series},
                        {"type": "counter", "title": "C", "aggregate": "max", "series": [AGE]},
                        {"type": "test_status", "title": "S"},
                        {"type": "test_counts", "title": "N"},
                        {
                            "type": "distribution",
                            "title": "D",
                            "metric": 'ColumnDistribution(bins=20,column="age",top=20)',
                        },
                    ],
                }
            ]
        },
    )
    panels = saved.spec["tabs"][0]["panels"]
    window = panel_data.parse_window({"range": "all"})
    threads: set[int] = set()
    original = panel_data._in_thread

    def spy(job):
        threads.add(threading.get_ident())
        return original(job)

    monkeypatch.setattr(panel_data, "_in_thread", spy)
    parallel = panel_data.panel_data(project, panels, window)
    assert threads
    assert threading.get_ident() not in threads
    monkeypatch.setattr(panel_data, "PARALLEL_READS", 1)
    threads.clear()
    serial = panel_data.panel_data(project, panels, window)
    assert not threads
    assert parallel == serial
    assert len(parallel[panels[0]["id"]]["series"][0]["v"]) == 4
