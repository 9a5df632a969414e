"""With real Celery workers: 100k rows sent in batches of 1,000 become the expected snapshots (a row
trigger of 25,000) with the right row counts and drift; and a worker killed (SIGKILL) in the
middle of a computation loses nothing: after a restart every row is in exactly one snapshot."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pytest
from django.conf import settings
from scipy import stats

from collector.intake import read_parquet
from collector.models import Collector, RowBatch, Run
from tests.collector.conftest import frame, records
from tests.processes import celery_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _send(client, collector: Collector, rows) -> None:
    response = client.post(
        f"/api/v1/collectors/{collector.pk}/data",
        json.dumps(records(rows)),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content


def _wait(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_hundred_thousand_rows_become_four_snapshots(api_for, collector, ingest_secret):
    Collector.objects.filter(pk=collector.pk).update(every_minutes=None, every_rows=25_000)
    reference = read_parquet(collector.references.get(current=True).parquet)
    client = api_for(token=ingest_secret)
    sent = []
    with celery_worker(settings.CELERY_TASK_DEFAULT_QUEUE):
        for i in range(100):
            # The second half drifts: x moves by one standard deviation.
            rows = frame(1000, seed=100 + i, shift=0.0 if i < 50 else 1.0, start=1000 * i)
            sent.append(rows)
            _send(client, collector, rows)  # each full 25k queues a run (the row trigger)
        _wait(lambda: Run.objects.filter(collector=collector).count() == 4)
    runs = list(Run.objects.filter(collector=collector).order_by("window_start"))
    assert [r.rows for r in runs] == [25_000] * 4
    assert not RowBatch.objects.filter(consumed_at__isnull=True).exists()
    for k, run in enumerate(runs):
        assert run.snapshot is not None
        document = json.loads(run.snapshot.document.text())
        assert document["data"]["current"]["rows"] == 25_000
        rows = np.concatenate([sent[j]["x"].to_numpy() for j in range(25 * k, 25 * k + 25)])
        drift = next(m for m in document["metrics"] if m["id"] == 'ColumnDrift(column="x")')
        expected = stats.wasserstein_distance(rows, reference["x"]) / np.std(reference["x"])
        assert drift["values"]["score"] == pytest.approx(expected, rel=1e-6)
        assert drift["values"]["drifted"] is (k >= 2)


def test_a_worker_killed_mid_computation_loses_and_doubles_nothing(
    api_for, collector, ingest_secret, bob
):
    client = api_for(token=ingest_secret)
    member = api_for(bob)
    for i in range(10):
        _send(client, collector, frame(1000, seed=200 + i, start=1000 * i))
    # The worker loads a receiver of `run_started` that holds each run open
    # (tests/collector/holding_runs.py), so that it is killed mid-computation.
    with celery_worker(
        settings.CELERY_TASK_DEFAULT_QUEUE, include=("tests.collector.holding_runs",)
    ) as worker:
        response = member.post(f"/api/v1/collectors/{collector.pk}/run")
        assert response.status_code == 202
        worker.wait_for("computing a snapshot of 10000 rows", timeout=60)
        # Rows keep arriving while a run holds its collector: the intake does not wait for it.
        started = time.monotonic()
        _send(client, collector, frame(1000, seed=300, start=10_000))
        assert time.monotonic() - started < 5
        # Killed as the kernel would kill it: no cleanup, no goodbye to the database.
        os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait(10)
    assert not Run.objects.exists()
    assert not RowBatch.objects.filter(consumed_at__isnull=False).exists()
    assert RowBatch.objects.count() == 11
    with celery_worker(settings.CELERY_TASK_DEFAULT_QUEUE):
        # The killed worker's task comes back only after the broker's visibility timeout (acks
        # late); a new request runs now. Either way the same rows make one snapshot.
        member.post(f"/api/v1/collectors/{collector.pk}/run")
        _wait(
            lambda: (
                Run.objects.exists()
                and not RowBatch.objects.filter(consumed_at__isnull=True).exists()
            )
        )
        time.sleep(2)  # a duplicate run, if any, would show by now
    (run,) = Run.objects.all()
    assert run.rows == 11_000
    assert set(RowBatch.objects.values_list("run_id", flat=True)) == {run.pk}
    assert run.snapshot is not None
    snapshot_rows = json.loads(run.snapshot.document.text())["data"]["current"]["rows"]
    assert snapshot_rows == 11_000
