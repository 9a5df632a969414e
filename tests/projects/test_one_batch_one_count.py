"""A batch pushed as a report's and a test suite's snapshot, linked by `batch_id`, is counted once:
the dashboard's "Rows (sum over the range)", its rows-per-snapshot bars, the test panels' snapshot
counts and alert windows. Without a batch id each snapshot counts; deleting one snapshot of a batch
leaves the other counted. Pushed through the real API (RemoteWorkspace against the live server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alerts.evaluation import _judge_metric
from alerts.models import AlertRule
from metrics import DataStabilityTestPreset, DataSummaryPreset, Report, TestSuite
from metrics.client.remote import RemoteWorkspace
from metrics.names import DatasetSummary as Summary
from mlplatform.accounts.models import TokenScope
from projects import series as series_reading
from projects.models import MetricSeries, Project, Snapshot
from projects.processing import process_snapshot
from tests.factories import make_project, make_token, snapshot_document
from tests.projects.conftest import post_snapshot

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 11, 1, 6, tzinfo=UTC)
ROWS = "Rows (sum over the range)"
PER_SNAPSHOT = "Rows per snapshot"
TESTS = "Tests over the range"


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
        }
    )


REFERENCE = frame(500, 0)
BATCH_ROWS = [120, 340, 75]  # the rows of each day's batch


def push_days(workspace: RemoteWorkspace, project: Project, *, linked: bool) -> list[list[str]]:
    """Each day, a report and a test suite over that day's batch, pushed as two snapshots (as
    docs/metrics.md showed); with `linked`, both name the batch. The snapshot ids, by day."""
    ids = []
    for day, rows in enumerate(BATCH_ROWS):
        current = frame(rows, day + 1)
        when = START + timedelta(days=day)
        report = Report([DataSummaryPreset()], progress=False).run(
            current, REFERENCE, timestamp=when
        )
        suite = TestSuite([DataStabilityTestPreset()], progress=False).run(
            current, REFERENCE, timestamp=when + timedelta(milliseconds=16)
        )
        batch = f"orders-{when:%Y-%m-%d}" if linked else None
        ids.append(
            [workspace.add_snapshot(str(project.pk), r, batch_id=batch) for r in (report, suite)]
        )
    for snapshot in Snapshot.objects.filter(project=project):
        process_snapshot(snapshot.pk)  # the default dashboard, as after a first push
    return ids


def add_tests_panel(client: Any, project: Project) -> None:
    # The default dashboard is made from the first snapshot, here a report's (no tests tab).
    added = client.post(
        f"/api/v1/projects/{project.pk}/dashboard/panels",
        {"tab": "Tests", "panel": {"type": "test_counts", "title": TESTS}},
        format="json",
    )
    assert added.status_code == 201, added.content


def panel(client: Any, project: Project, title: str) -> dict[str, Any]:
    """What a panel of the default dashboard shows over all time, read as the page reads it."""
    spec = client.get(f"/api/v1/projects/{project.pk}/dashboard").json()
    found = [p for tab in spec["tabs"] for p in tab["panels"] if p["title"] == title]
    assert len(found) == 1, title
    answer = client.get(
        f"/api/v1/projects/{project.pk}/dashboard/data",
        {"panel": found[0]["id"], "range": "all"},
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["panels"][found[0]["id"]]


@pytest.fixture
def workspace(live_server, acme) -> RemoteWorkspace:
    return RemoteWorkspace(live_server.url, make_token(acme, TokenScope.WRITE)[1], backoff=0.05)


def test_it_counts_a_batch_pushed_as_two_snapshots_once(workspace, acme, alice, api_for):
    project = make_project(acme, "Orders")
    ids = push_days(workspace, project, linked=True)
    client = api_for(alice)
    add_tests_panel(client, project)
    assert Snapshot.objects.filter(project=project).count() == 2 * len(BATCH_ROWS)
    assert set(Snapshot.objects.filter(project=project).values_list("batch_id", flat=True)) == {
        f"orders-{START + timedelta(days=d):%Y-%m-%d}" for d in range(len(BATCH_ROWS))
    }

    assert panel(client, project, ROWS)["value"] == sum(BATCH_ROWS)
    bars = panel(client, project, PER_SNAPSHOT)["series"][0]
    assert bars["v"] == BATCH_ROWS
    assert bars["total"] == len(BATCH_ROWS)
    # Each bar drills down to the report's snapshot (the first of its batch).
    assert bars["snapshot"] == [day[0] for day in ids]
    tests = panel(client, project, TESTS)
    assert tests["snapshots"] == len(BATCH_ROWS)
    suite_tests = sum(
        Snapshot.objects.get(project=project, uuid=day[1]).tests_success
        + Snapshot.objects.get(project=project, uuid=day[1]).tests_fail
        + Snapshot.objects.get(project=project, uuid=day[1]).tests_warning
        for day in ids
    )
    assert sum(tests["totals"].values()) == suite_tests > 0

    # Deleting the report's snapshot of the first day leaves the suite's, which holds the rows too.
    gone = client.delete(f"/api/v1/projects/{project.pk}/snapshots/{ids[0][0]}")
    assert gone.status_code == 204, gone.content
    assert panel(client, project, ROWS)["value"] == sum(BATCH_ROWS)
    bars = panel(client, project, PER_SNAPSHOT)["series"][0]
    assert bars["snapshot"] == [ids[0][1], ids[1][0], ids[2][0]]
    # Both snapshots of the second day gone: that batch is gone.
    for snapshot_id in ids[1]:
        assert (
            client.delete(f"/api/v1/projects/{project.pk}/snapshots/{snapshot_id}").status_code
            == 204
        )
    assert panel(client, project, ROWS)["value"] == BATCH_ROWS[0] + BATCH_ROWS[2]
    assert panel(client, project, TESTS)["snapshots"] == 2


def test_without_a_batch_id_each_snapshot_counts(workspace, acme, alice, api_for):
    project = make_project(acme, "Unlinked")
    push_days(workspace, project, linked=False)
    client = api_for(alice)
    add_tests_panel(client, project)
    assert set(Snapshot.objects.filter(project=project).values_list("batch_id", flat=True)) == {
        None
    }
    assert panel(client, project, ROWS)["value"] == 2 * sum(BATCH_ROWS)
    assert panel(client, project, PER_SNAPSHOT)["series"][0]["total"] == 2 * len(BATCH_ROWS)
    assert panel(client, project, TESTS)["snapshots"] == 2 * len(BATCH_ROWS)


def test_the_orm_read_the_other_databases_use_counts_the_batch_once_too(workspace, acme):
    # SQLite reads series through the ORM (_read_other): the same rule, the same numbers.
    project = make_project(acme, "Portable")
    push_days(workspace, project, linked=True)
    rows = MetricSeries.objects.get(
        project=project, metric_type=Summary.TYPE, field=Summary.ROW_COUNT
    )
    batches = series_reading.shared_batches(project)
    assert len(batches) == 2 * len(BATCH_ROWS)
    fast = series_reading._read_postgresql(rows, None, None, 500, None, batches)
    portable = series_reading._read_other(project, rows, None, None, 500, None, batches)
    for found in (fast, portable):
        assert found.values.tolist() == BATCH_ROWS
        assert found.stats["sum"] == sum(BATCH_ROWS)
        assert found.stats["count"] == len(BATCH_ROWS)
    assert fast.snapshots == portable.snapshots
    np.testing.assert_allclose(fast.timestamps, portable.timestamps)


def test_an_alert_window_sums_a_batch_once(workspace, acme):
    project = make_project(acme, "Alerting")
    push_days(workspace, project, linked=True)
    rows = MetricSeries.objects.get(
        project=project, metric_type=Summary.TYPE, field=Summary.ROW_COUNT
    )
    rule = AlertRule(
        project=project,
        name="Too many rows over two batches",
        config={
            "kind": "metric",
            "metric": rows.metric_id,
            "field": rows.field,
            "aggregate": "sum",
            "window": {"snapshots": 2},
            "condition": "gt",
            "threshold": 1000,
        },
    )
    judged = _judge_metric(rule, 1)
    # The newest two batches, not the newest two snapshots (one batch counted twice).
    assert judged.value == BATCH_ROWS[2] + BATCH_ROWS[1]


@pytest.mark.parametrize(
    ("batch_id", "said"),
    [(7, "is not of type 'string'"), ("", "should be non-empty"), ("x" * 201, "maxLength: 200")],
)
def test_the_api_names_a_batch_id_it_refuses(world, api_for, batch_id, said):
    document = snapshot_document()  # the library refuses such a batch id: written by hand
    document["metadata"] = {"batch_id": batch_id}
    response = post_snapshot(api_for(token=world.ingest), world.p1, document)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert list(body["fields"]) == ["metadata.batch_id"]
    assert said in body["fields"]["metadata.batch_id"][0]
    assert not Snapshot.objects.filter(project=world.p1).exists()


def test_the_api_stores_and_answers_the_batch_id(world, api_for):
    document = snapshot_document(metadata={"batch_id": "b" * 200, "model": "v3"})
    response = post_snapshot(api_for(token=world.ingest), world.p1, document)
    assert response.status_code == 201, response.content
    assert response.json()["batch_id"] == "b" * 200
    assert Snapshot.objects.get(project=world.p1).batch_id == "b" * 200
    plain = post_snapshot(api_for(token=world.ingest), world.p1, snapshot_document(seed=2))
    assert plain.json()["batch_id"] is None
