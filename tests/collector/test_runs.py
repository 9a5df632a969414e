"""Runs: snapshots computed from the buffer through the ingestion service, drift checked against
SciPy on the same rows; triggers by rows, minutes and cron; labels a day later giving a quality
snapshot that matches scikit-learn; retention."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from collector.intake import accept_labels, accept_rows, read_parquet
from collector.models import Collector, RowBatch, Run
from collector.runs import compute, compute_quality, is_due, parse_cron, purge
from tests.collector.conftest import frame, records
from tests.metrics.test_streaming import assert_same_results

pytestmark = pytest.mark.django_db


def _send(collector: Collector, rows) -> None:
    accept_rows(collector, json.dumps(records(rows)).encode(), "application/json")[0]


def _metric(document: dict, metric_id: str) -> dict:
    return next(m for m in document["metrics"] if m["id"] == metric_id)


def test_a_run_stores_a_snapshot_of_its_rows_and_consumes_them(collector):
    reference = read_parquet(collector.references.get(current=True).parquet)
    rows = frame(3000, seed=5, shift=0.8)
    for start in range(0, 3000, 1000):
        _send(collector, rows.iloc[start : start + 1000])
    run = compute(collector.pk, force=True)
    assert run is not None
    assert run.rows == 3000
    assert not RowBatch.objects.filter(consumed_at__isnull=True).exists()
    assert compute(collector.pk, force=True) is None  # nothing left
    assert run.snapshot is not None
    document = json.loads(run.snapshot.document.text())
    assert document["data"]["current"]["rows"] == 3000
    assert document["metadata"]["rows"] == 3000
    assert document["timestamp"].startswith(rows["timestamp"].iloc[-1][:19])
    drift = _metric(document, 'ColumnDrift(column="x")')
    assert drift["values"]["drifted"] is True
    # Checked independently: the library's default for numerical columns over 1000 rows is the
    # Wasserstein distance normed by the reference's standard deviation.
    expected = stats.wasserstein_distance(rows["x"], reference["x"]) / np.std(reference["x"])
    assert drift["values"]["score"] == pytest.approx(expected, rel=1e-6)
    assert _metric(document, 'ColumnDrift(column="y")')["values"]["drifted"] is False


def test_a_row_trigger_runs_on_whole_batches_up_to_its_size(collector):
    collector.every_minutes, collector.every_rows = None, 2000
    collector.save()
    for i in range(5):
        _send(collector, frame(1000, seed=10 + i, start=1000 * i))
    assert is_due(collector)
    sizes = []
    while (run := compute(collector.pk)) is not None:
        sizes.append(run.rows)
    assert sizes == [2000, 2000]  # the last 1000 wait for the next 1000
    assert not is_due(collector)
    assert RowBatch.objects.filter(consumed_at__isnull=True).count() == 1


def test_minute_and_cron_triggers(collector):
    assert not is_due(collector)  # nothing pending
    _send(collector, frame(10, seed=1))
    assert not is_due(collector)  # the hour has not passed since it was created
    Collector.objects.filter(pk=collector.pk).update(
        created_at=timezone.now() - timedelta(minutes=61)
    )
    collector.refresh_from_db()
    assert is_due(collector)
    collector.every_minutes, collector.cron = None, "*/5 * * * *"
    collector.last_run_at = timezone.now() - timedelta(minutes=6)
    assert is_due(collector)
    collector.last_run_at = timezone.now()
    assert not is_due(collector)
    with pytest.raises(ValueError, match="five fields"):
        parse_cron("every day")


def test_labels_a_day_later_give_a_quality_snapshot_matching_sklearn(collector):
    rows = frame(2000, seed=21)
    _send(collector, rows.iloc[:1000])
    _send(collector, rows.iloc[1000:])
    run = compute(collector.pk, force=True)
    assert run is not None
    rng = np.random.default_rng(3)
    truth = np.where(rng.random(2000) < 0.85, rows["prediction"], 1 - rows["prediction"])
    labels = {pid: int(t) for pid, t in zip(rows["prediction_id"], truth, strict=True)}
    half = dict(list(labels.items())[:1000])
    accept_labels(
        collector, json.dumps([{"prediction_id": k, "target": v} for k, v in half.items()]).encode()
    )
    assert compute_quality(collector.pk) == []  # half labelled, window still open
    rest = dict(list(labels.items())[1000:])
    accept_labels(
        collector, json.dumps([{"prediction_id": k, "target": v} for k, v in rest.items()]).encode()
    )
    (done,) = compute_quality(collector.pk)
    assert done.pk == run.pk
    run.refresh_from_db()
    assert run.labelled_rows == 2000
    assert run.snapshot is not None
    assert run.quality_snapshot is not None
    document = json.loads(run.quality_snapshot.document.text())
    assert run.quality_snapshot.timestamp == run.snapshot.timestamp  # the run's window
    quality = _metric(document, "ClassificationQuality()")["values"]["current"]
    predicted = rows["prediction"].to_numpy()
    assert quality["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert quality["precision"] == pytest.approx(precision_score(truth, predicted))
    assert quality["recall"] == pytest.approx(recall_score(truth, predicted))
    assert quality["f1"] == pytest.approx(f1_score(truth, predicted))
    assert compute_quality(collector.pk) == []  # once


def test_a_closed_labels_window_computes_with_the_labels_there_are(collector):
    rows = frame(500, seed=8)
    _send(collector, rows)
    run = compute(collector.pk, force=True)
    assert run is not None
    some = [{"prediction_id": p, "target": 1} for p in rows["prediction_id"][:300]]
    accept_labels(collector, json.dumps(some).encode())
    assert compute_quality(collector.pk) == []
    Run.objects.filter(pk=run.pk).update(labels_due_at=timezone.now() - timedelta(minutes=1))
    compute_quality(collector.pk)
    run.refresh_from_db()
    assert run.labelled_rows == 300


def test_retention_deletes_consumed_rows_after_their_labels_window(collector):
    _send(collector, frame(100, seed=1))
    _send(collector, frame(100, seed=2))
    run = compute(collector.pk, force=True)
    assert run is not None
    _send(collector, frame(100, seed=3))  # pending: never deleted
    later = timezone.now() + timedelta(hours=collector.retention_hours + 1)
    assert purge(later) == 0  # the labels window (a week) is still open
    Run.objects.filter(pk=run.pk).update(labels_due_at=later - timedelta(hours=1))
    assert purge(later) == 0  # closed, but quality_due still has the retention to use its labels
    Run.objects.filter(pk=run.pk).update(labels_due_at=timezone.now())
    assert purge(later) == 2
    assert RowBatch.objects.count() == 1
    assert RowBatch.objects.get().consumed_at is None


def test_run_due_queues_the_due_collectors_only(collector, scoring, monkeypatch):
    from collector import tasks
    from collector.runs import run_due

    queued = []
    monkeypatch.setattr(tasks.compute_task, "delay", lambda pk, *a: queued.append(pk))
    idle = Collector.objects.create(
        project=scoring, name="idle", config=collector.config, every_rows=10
    )
    _send(collector, frame(20, seed=1))
    assert run_due() == 0  # the hour has not passed; the idle one has no rows
    Collector.objects.filter(pk=collector.pk).update(every_rows=15)
    assert run_due() == 1
    assert queued == [str(collector.pk)]
    assert str(idle.pk) not in queued


def test_a_run_over_more_rows_than_the_stream_limit_streams_them_with_the_same_results(
    collector, settings
):
    rows = frame(3000, seed=7, shift=0.8)
    for start in range(0, 3000, 1000):
        _send(collector, rows.iloc[start : start + 1000])
    in_memory = compute(collector.pk, force=True)
    assert in_memory is not None
    # The same rows again, now past the limit: streamed batch by batch.
    for start in range(0, 3000, 1000):
        _send(collector, rows.iloc[start : start + 1000])
    settings.COLLECTOR_STREAM_ROWS = 2000
    streamed = compute(collector.pk, force=True)
    assert streamed is not None
    assert streamed.rows == in_memory.rows == 3000
    assert (streamed.window_start, streamed.window_end) == (
        in_memory.window_start,
        in_memory.window_end,
    )
    assert streamed.snapshot is not None
    assert in_memory.snapshot is not None
    memory = json.loads(in_memory.snapshot.document.text())
    document = json.loads(streamed.snapshot.document.text())
    assert document["data"]["streamed"] is True
    assert "streamed" not in memory["data"]
    assert document["data"]["current"]["rows"] == 3000
    assert [m["id"] for m in document["metrics"]] == [m["id"] for m in memory["metrics"]]
    for ours, theirs in zip(document["metrics"], memory["metrics"], strict=True):
        assert ours["status"] == theirs["status"] == "ok", ours
        # 3000 rows have fewer distinct values than the sketch cap: everything is exact.
        assert_same_results(theirs, ours, ours["id"], sketched=False)
