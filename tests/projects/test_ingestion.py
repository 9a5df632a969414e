"""Pushing snapshots: stored with their points and test outcomes in one go, idempotent by id."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from datetime import datetime

import pytest

from projects.ingestion import points_of
from projects.models import MetricPoint, MetricSeries, Snapshot, SnapshotTag, TestOutcome
from tests.projects.conftest import post_snapshot

pytestmark = pytest.mark.django_db


def test_a_snapshot_is_stored_with_its_points_and_tests(api_for, world, document):
    document["timestamp"] = "2026-03-01T10:15:30.123456+02:00"  # an offset and microseconds
    response = post_snapshot(api_for(token=world.ingest), world.p1, document)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == document["id"]
    assert body["project"] == str(world.p1.pk)
    assert body["tags"] == ["prod", "v3"]
    assert body["status"] == "FAIL"  # TestColumnMean(age > 50) fails
    assert body["test_counts"] == {"SUCCESS": 1, "FAIL": 1, "WARNING": 0, "ERROR": 0, "SKIPPED": 0}
    snapshot = Snapshot.objects.get(uuid=document["id"])
    expected = list(points_of(document))
    assert (
        snapshot.point_count
        == len(expected)
        == MetricPoint.objects.filter(snapshot=snapshot).count()
    )
    assert len(expected) > 100
    # Every numeric value is a point of its series, booleans as 0/1.
    stored = {
        (p.series.metric_id, p.series.field): p.value
        for p in MetricPoint.objects.filter(snapshot=snapshot).select_related("series")
    }
    for metric_id, _, _, field, value in expected:
        assert stored[(metric_id, field)] == value
    # Every point carries its snapshot's time, to the microsecond.
    sent = datetime.fromisoformat(document["timestamp"])
    assert snapshot.timestamp == sent
    assert set(
        MetricPoint.objects.filter(snapshot=snapshot).values_list("timestamp", flat=True)
    ) == {sent}
    drift = next(m for m in document["metrics"] if m["type"] == "DatasetDrift")
    assert stored[(drift["id"], "dataset_drift")] == float(drift["values"]["dataset_drift"])
    assert (
        TestOutcome.objects.filter(snapshot=snapshot, status="FAIL").get().name == "Mean of 'age'"
    )
    assert sorted(SnapshotTag.objects.filter(snapshot=snapshot).values_list("tag", flat=True)) == [
        "prod",
        "v3",
    ]
    assert json.loads(snapshot.document.text()) == document


def test_series_are_shared_by_snapshots_of_a_project(api_for, world, document):
    api = api_for(token=world.write)
    post_snapshot(api, world.p1, document)
    series = MetricSeries.objects.filter(project=world.p1).count()
    second = copy.deepcopy(document)
    second["id"] = str(uuid.uuid4())
    post_snapshot(api, world.p1, second)
    assert MetricSeries.objects.filter(project=world.p1).count() == series
    assert (
        MetricPoint.objects.filter(series__project=world.p1).count()
        == 2 * Snapshot.objects.get(uuid=document["id"]).point_count
    )


def test_a_retry_with_the_same_body_returns_the_first_answer(api_for, world, document):
    api = api_for(token=world.ingest)
    first = post_snapshot(api, world.p1, document)
    again = [post_snapshot(api, world.p1, document) for _ in range(9)]
    assert {r.status_code for r in again} == {200}
    assert all(r.json() == first.json() for r in again)
    assert Snapshot.objects.filter(project=world.p1).count() == 1
    # Key order and whitespace do not make it a different document.
    reordered = json.dumps(dict(reversed(list(document.items()))), indent=2)
    assert post_snapshot(api, world.p1, reordered).status_code == 200


def test_the_same_id_with_another_body_is_a_409(api_for, world, document):
    api = api_for(token=world.ingest)
    post_snapshot(api, world.p1, document)
    changed = copy.deepcopy(document)
    changed["name"] = "something else"
    response = post_snapshot(api, world.p1, changed)
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert Snapshot.objects.get().name == "nightly"


def test_the_same_id_in_another_project_is_another_snapshot(api_for, world, document):
    api = api_for(token=world.write)
    assert post_snapshot(api, world.p1, document).status_code == 201
    assert post_snapshot(api, world.p2, document).status_code == 201
    assert Snapshot.objects.count() == 2


def test_a_gzipped_body_is_accepted(api_for, world, document):
    body = gzip.compress(json.dumps(document).encode())
    response = post_snapshot(
        api_for(token=world.ingest), world.p1, body, HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 201


def test_an_archived_project_refuses_snapshots(api_for, world, document, alice):
    api_for(alice).post(f"/api/v1/projects/{world.p1.pk}/archive")
    response = post_snapshot(api_for(token=world.ingest), world.p1, document)
    assert response.status_code == 409
    assert "archived" in response.json()["detail"]
    assert not Snapshot.objects.exists()


def test_members_push_snapshots_but_viewers_and_read_tokens_cannot(
    api_for, world, document, bob, vera
):
    assert post_snapshot(api_for(token=world.read), world.p1, document).status_code == 403
    assert post_snapshot(api_for(vera), world.p1, document).status_code == 403
    assert post_snapshot(api_for(bob), world.p1, document).status_code == 201


def test_an_ingest_token_writes_only_to_its_project_and_reads_nothing(api_for, world, document):
    api = api_for(token=world.ingest)
    assert post_snapshot(api, world.p2, document).status_code == 404
    assert api.get(f"/api/v1/projects/{world.p1.pk}/snapshots").status_code == 403
    assert api.get(f"/api/v1/projects/{world.p1.pk}").status_code == 403
    assert api.get(f"/api/v1/projects/{world.p1.pk}/metrics").status_code == 403
    assert not Snapshot.objects.filter(project=world.p2).exists()
