"""After commit: a real Celery worker announces each snapshot once (live broadcast included); with
Redis down, pushes still succeed and the sweeper processes them once Redis is back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from mlplatform.accounts.models import TokenScope
from projects import ingestion, processing
from projects.live import project_group
from projects.models import Snapshot
from projects.signals import snapshot_ingested
from tests.factories import make_project, make_token, snapshot_document
from tests.processes import celery_worker


def _post(base: str, project, secret: str, document: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1/projects/{project.pk}/snapshots",
        data=json.dumps(document).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _wait(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db
def test_processing_runs_once_and_is_safe_twice(acme):
    project = make_project(acme, "Churn")
    snapshot = ingestion.ingest_snapshot(project, json.dumps(snapshot_document()).encode()).snapshot
    calls = []

    def receiver(sender, snapshot, **kwargs):
        calls.append(snapshot.pk)

    snapshot_ingested.connect(receiver)
    try:
        assert processing.process_snapshot(snapshot.pk) is True
        assert processing.process_snapshot(snapshot.pk) is False
    finally:
        snapshot_ingested.disconnect(receiver)
    assert calls == [snapshot.pk]
    snapshot.refresh_from_db()
    assert snapshot.processed_at is not None


@pytest.mark.django_db
def test_the_sweeper_takes_old_unprocessed_and_abandoned_snapshots(acme):
    project = make_project(acme, "Churn")
    fresh, old, abandoned = (
        ingestion.ingest_snapshot(project, json.dumps(snapshot_document(seed=i)).encode()).snapshot
        for i in range(3)
    )
    long_ago = timezone.now() - timedelta(minutes=10)
    Snapshot.objects.filter(pk__in=[old.pk, abandoned.pk]).update(created_at=long_ago)
    # A worker claimed this one ten minutes ago and died: its lease lapsed long since.
    Snapshot.objects.filter(pk=abandoned.pk).update(
        processing_claimed_by=uuid.uuid4(), processing_claimed_at=long_ago
    )
    assert processing.sweep_unprocessed() == 2
    processed = set(
        Snapshot.objects.filter(processed_at__isnull=False).values_list("pk", flat=True)
    )
    assert processed == {old.pk, abandoned.pk}
    assert fresh.pk not in processed  # left to its own task for now


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_processes_each_pushed_snapshot_and_broadcasts_it(live_server, acme):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(project_group(project.pk), channel)
    with celery_worker(settings.CELERY_TASK_DEFAULT_QUEUE) as worker:
        document = snapshot_document()
        status, _ = _post(live_server.url, project, secret, document)
        assert status == 201
        assert _wait(lambda: Snapshot.objects.filter(processed_at__isnull=False).exists()), (
            worker.output[-2000:]
        )
        message = async_to_sync(layer.receive)(channel)
        assert message["type"] == "snapshot.ingested"
        assert message["snapshot"]["id"] == document["id"]
        assert "projects.process_snapshot" in worker.output


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_store_one_snapshot(live_server, acme):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    document = snapshot_document()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(lambda _: _post(live_server.url, project, secret, document), range(10))
        )
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 1
    assert statuses.count(200) == 9
    assert {body["id"] for _, body in answers} == {document["id"]}
    assert Snapshot.objects.filter(project=project).count() == 1


def test_the_sweeper_is_on_the_beat_schedule_often_enough_to_process_within_a_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE["sweep-unprocessed-snapshots"]
    assert schedule["task"] == "projects.sweep_unprocessed_snapshots"
    # A lost task or a dead worker's snapshot: free after a lease, swept by the next run.
    assert settings.SNAPSHOT_PROCESSING_LEASE_SECONDS + schedule["schedule"] < 60


@pytest.mark.django_db
def test_the_sweeper_leaves_a_live_lease_and_takes_one_lapsed_a_moment_ago(acme, settings):
    settings.SNAPSHOT_PROCESSING_LEASE_SECONDS = 30
    project = make_project(acme, "Churn")
    held, lapsed = (
        ingestion.ingest_snapshot(project, json.dumps(snapshot_document(seed=i)).encode()).snapshot
        for i in range(2)
    )
    now = timezone.now()
    Snapshot.objects.update(created_at=now - timedelta(minutes=2))
    Snapshot.objects.filter(pk=held.pk).update(
        processing_claimed_by=uuid.uuid4(), processing_claimed_at=now - timedelta(seconds=20)
    )
    Snapshot.objects.filter(pk=lapsed.pk).update(
        processing_claimed_by=uuid.uuid4(), processing_claimed_at=now - timedelta(seconds=31)
    )
    assert processing.sweep_unprocessed() == 1
    assert list(
        Snapshot.objects.filter(processed_at__isnull=False).values_list("pk", flat=True)
    ) == [lapsed.pk]
    assert processing.process_snapshot(held.pk) is False  # its worker still holds it


@pytest.mark.django_db
def test_a_failed_announcement_frees_the_snapshot_at_once(acme):
    project = make_project(acme, "Churn")
    snapshot = ingestion.ingest_snapshot(project, json.dumps(snapshot_document()).encode()).snapshot

    def failing(sender, snapshot, **kwargs):
        raise RuntimeError("the receiver failed")

    snapshot_ingested.connect(failing)
    try:
        with pytest.raises(RuntimeError):
            processing.process_snapshot(snapshot.pk)
    finally:
        snapshot_ingested.disconnect(failing)
    snapshot.refresh_from_db()
    assert snapshot.processing_claimed_by is None
    assert snapshot.processed_at is None
    assert processing.process_snapshot(snapshot.pk) is True  # the retry need not wait


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_the_lease_while_the_announcement_runs(acme, settings):
    settings.SNAPSHOT_PROCESSING_LEASE_SECONDS = 0.6  # renewed every 0.2 s
    project = make_project(acme, "Churn")
    snapshot = ingestion.ingest_snapshot(project, json.dumps(snapshot_document()).encode()).snapshot
    seen = []

    def slow(sender, snapshot, **kwargs):
        for _ in range(5):
            row = Snapshot.objects.get(pk=snapshot.pk)
            seen.append((row.processing_claimed_by, row.processing_claimed_at))
            # Held past its lease: the sweeper must not take it, the heartbeat keeping it.
            assert processing.process_snapshot(snapshot.pk) is False
            time.sleep(0.3)

    snapshot_ingested.connect(slow)
    try:
        assert processing.process_snapshot(snapshot.pk) is True
    finally:
        snapshot_ingested.disconnect(slow)
    tokens = {token for token, _ in seen}
    assert len(tokens) == 1
    assert None not in tokens
    times = [at for _, at in seen if at is not None]
    assert len(times) == len(seen)
    assert times == sorted(times)
    assert times[-1] > times[0]
    snapshot.refresh_from_db()
    assert snapshot.processed_at is not None
    assert snapshot.processing_claimed_by is None
