"""Reading snapshots (filters, cursor pages, one with its document, deleting) and metric series
(listing, points over time, downsampling that keeps real points and their snapshots)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from projects.ingestion import ingest_snapshot
from projects.models import MetricPoint, MetricSeries, Snapshot
from projects.series import min_max_buckets
from tests.factories import snapshot_document

pytestmark = pytest.mark.django_db
DAY0 = datetime(2026, 10, 1, tzinfo=UTC)


def push_days(project, days: int, **options):
    snapshots = []
    for day in range(days):
        document = snapshot_document(
            seed=day,
            timestamp=DAY0 + timedelta(days=day),
            tags=["prod"] if day % 2 else ["dev"],
            metadata={"model": f"v{day % 3}", "day": day},
            **options,
        )
        snapshots.append(ingest_snapshot(project, json.dumps(document).encode()).snapshot)
    return snapshots


def test_list_filters_by_time_tags_metadata_and_status(api_for, world):
    push_days(world.p1, 10)
    api = api_for(token=world.read)
    url = f"/api/v1/projects/{world.p1.pk}/snapshots"
    everything = api.get(url).json()["results"]
    assert [s["timestamp"][:10] for s in everything] == [
        f"2026-10-{d:02d}" for d in range(10, 0, -1)
    ]
    window = api.get(
        url, {"since": "2026-10-03T00:00:00Z", "until": "2026-10-06T00:00:00Z"}
    ).json()["results"]
    assert [s["timestamp"][8:10] for s in window] == ["05", "04", "03"]
    assert len(api.get(url, {"tag": "prod"}).json()["results"]) == 5
    assert len(api.get(url, {"tag": ["prod", "dev"]}).json()["results"]) == 0
    assert {
        s["metadata"]["model"] for s in api.get(url, {"meta.model": "v1"}).json()["results"]
    } == {"v1"}
    assert [s["metadata"]["day"] for s in api.get(url, {"meta.day": "7"}).json()["results"]] == [7]
    assert len(api.get(url, {"status": "FAIL"}).json()["results"]) == 10
    assert api.get(url, {"status": "SUCCESS"}).json()["results"] == []


def test_cursor_pages_cover_everything_once(api_for, world):
    push_days(world.p1, 23)
    api = api_for(token=world.read)
    url, seen, pages = f"/api/v1/projects/{world.p1.pk}/snapshots", [], 0
    params = {"limit": 5}
    while True:
        page = api.get(url, params).json()
        seen += [s["id"] for s in page["results"]]
        pages += 1
        if page["next"] is None:
            break
        params = {"limit": 5, "cursor": page["next"]}
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23


def test_one_snapshot_comes_with_its_document(api_for, world):
    document = snapshot_document(name="nightly")
    ingest_snapshot(world.p1, json.dumps(document).encode())
    response = api_for(token=world.read).get(
        f"/api/v1/projects/{world.p1.pk}/snapshots/{document['id']}"
    )
    assert response.status_code == 200
    assert response.json()["document"] == document
    assert response.json()["name"] == "nightly"
    missing = api_for(token=world.read).get(
        f"/api/v1/projects/{world.p1.pk}/snapshots/{world.p1.pk}"
    )
    assert missing.status_code == 404


def test_admins_delete_snapshots_and_their_points(api_for, world, bob, alice):
    snapshot = push_days(world.p1, 1)[0]
    url = f"/api/v1/projects/{world.p1.pk}/snapshots/{snapshot.uuid}"
    assert api_for(bob).delete(url).status_code == 403
    assert api_for(token=world.write).delete(url).status_code == 403
    assert api_for(alice).delete(url).status_code == 204
    assert not Snapshot.objects.exists()
    assert not MetricPoint.objects.exists()


def test_the_metrics_present_are_listed_with_their_fields(api_for, world):
    document = snapshot_document()
    ingest_snapshot(world.p1, json.dumps(document).encode())
    listed = api_for(token=world.read).get(f"/api/v1/projects/{world.p1.pk}/metrics").json()
    assert {m["metric"] for m in listed} == {m["id"] for m in document["metrics"] if m["values"]}
    summary = next(m for m in listed if m["metric"] == 'ColumnSummary(column="age")')
    assert summary["type"] == "ColumnSummary"
    assert summary["params"] == {"column": "age"}
    assert {"current.mean", "reference.mean", "current.p75"} <= {
        f["field"] for f in summary["fields"]
    }


def test_series_points_over_a_time_range(api_for, world):
    snapshots = push_days(world.p1, 10)
    api = api_for(token=world.read)
    response = api.get(
        f"/api/v1/projects/{world.p1.pk}/series",
        {
            "metric": ['ColumnSummary(column="age")', "DatasetDrift(drift_share=0.5)"],
            "field": ["current.mean", "drifted_share"],
            "since": "2026-10-03T00:00:00Z",
        },
    )
    assert response.status_code == 200
    mean, drift = response.json()["series"]
    assert mean["total"] == 8
    assert mean["downsampled"] is False
    assert mean["points"]["snapshot"] == [str(s.uuid) for s in snapshots[2:]]
    expected = [
        next(
            m
            for m in json.loads(s.document.text())["metrics"]
            if m["id"] == 'ColumnSummary(column="age")'
        )["values"]["current"]["mean"]
        for s in snapshots[2:]
    ]
    assert mean["points"]["v"] == expected
    assert mean["points"]["t"][0] == (DAY0 + timedelta(days=2)).timestamp()
    assert drift["field"] == "drifted_share"
    by_id = api.get(f"/api/v1/projects/{world.p1.pk}/series", {"id": mean["id"]}).json()["series"][
        0
    ]
    assert by_id["total"] == 10


def test_an_unknown_series_is_a_404(api_for, world, globex):
    api = api_for(token=world.read)
    assert api.get(f"/api/v1/projects/{world.p1.pk}/series", {"id": 999999}).status_code == 404
    assert (
        api.get(
            f"/api/v1/projects/{world.p1.pk}/series", {"metric": "Nope()", "field": "x"}
        ).status_code
        == 404
    )


def test_downsampling_keeps_each_buckets_lowest_and_highest_point():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 1000, 5000))
    v = rng.normal(size=5000)
    v[1234] = 50  # a spike must survive
    keep = min_max_buckets(t, v, 100)
    assert len(keep) <= 100
    assert 1234 in keep
    assert np.all(np.diff(keep) > 0)  # time order kept
    # Independently: per bucket, the argmin and argmax.
    bucket = np.minimum(((t - t[0]) / (t[-1] - t[0]) * 50).astype(int), 49)
    expected = set()
    for b in range(50):
        members = np.flatnonzero(bucket == b)
        if len(members):
            expected |= {members[np.argmin(v[members])], members[np.argmax(v[members])]}
    assert set(keep.tolist()) == expected
    assert list(min_max_buckets(t[:50], v[:50], 100)) == list(range(50))


def test_the_series_endpoint_downsamples_long_series(api_for, world):
    snapshots = push_days(world.p1, 2)
    series = MetricSeries.objects.get(
        project=world.p1, metric_id='ColumnSummary(column="age")', field="current.mean"
    )
    rng = np.random.default_rng(1)
    values = rng.normal(size=3000)
    start = DAY0 + timedelta(days=30)
    MetricPoint.objects.bulk_create(
        [
            MetricPoint(
                series=series,
                snapshot=snapshots[i % 2],
                timestamp=start + timedelta(minutes=i),
                value=float(values[i]),
            )
            for i in range(3000)
        ]
    )
    response = api_for(token=world.read).get(
        f"/api/v1/projects/{world.p1.pk}/series",
        {"id": series.pk, "since": start.isoformat(), "points": 200},
    )
    found = response.json()["series"][0]
    assert found["total"] == 3000
    assert found["downsampled"] is True
    assert len(found["points"]["v"]) <= 200
    assert max(found["points"]["v"]) == values.max()
    assert min(found["points"]["v"]) == values.min()
    # Independently: each of 100 time buckets keeps its lowest and highest point, in time order,
    # each with the snapshot that holds it.
    seconds = np.array([(start + timedelta(minutes=i)).timestamp() for i in range(3000)])
    bucket = np.minimum(((seconds - seconds[0]) / (seconds[-1] - seconds[0]) * 100).astype(int), 99)
    kept = sorted(
        {
            int(members[np.argmin(values[members])])
            for b in range(100)
            if len(members := np.flatnonzero(bucket == b))
        }
        | {
            int(members[np.argmax(values[members])])
            for b in range(100)
            if len(members := np.flatnonzero(bucket == b))
        }
    )
    assert found["points"]["t"] == [seconds[i] for i in kept]
    assert found["points"]["v"] == [values[i] for i in kept]
    assert found["points"]["snapshot"] == [str(snapshots[i % 2].uuid) for i in kept]


def test_points_of_the_same_time_come_in_snapshot_order(api_for, world):
    first, second = push_days(world.p1, 2)
    series = MetricSeries.objects.get(
        project=world.p1, metric_id='ColumnSummary(column="age")', field="current.mean"
    )
    when = DAY0 + timedelta(days=40)
    MetricPoint.objects.bulk_create(
        [
            MetricPoint(series=series, snapshot=second, timestamp=when, value=2.0),
            MetricPoint(series=series, snapshot=first, timestamp=when, value=1.0),
        ]
    )
    found = (
        api_for(token=world.read)
        .get(f"/api/v1/projects/{world.p1.pk}/series", {"id": series.pk, "since": when.isoformat()})
        .json()["series"][0]
    )
    assert found["points"]["v"] == [1.0, 2.0]
    assert found["points"]["snapshot"] == [str(first.uuid), str(second.uuid)]
    assert found["points"]["t"] == [when.timestamp()] * 2
