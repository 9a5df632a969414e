"""After commit: a real Celery worker announces each snapshot once (live broadcast included); with
Redis down, pushes still succeed and the sweeper processes them once Redis is back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from mlplatform import app
from mlplatform.accounts.models import TokenScope
from projects import ingestion
from projects.live import project_group
from projects.models import Snapshot
from projects.signals import snapshot_ingested
from tests.factories import make_project, make_token, snapshot_document
from tests.processes import BIN, Process, celery_worker, child_environment, free_port


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
        assert ingestion.process_snapshot(snapshot.pk) is True
        assert ingestion.process_snapshot(snapshot.pk) is False
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
    # A worker claimed this one ten minutes ago and died.
    Snapshot.objects.filter(pk=abandoned.pk).update(processing_claimed_at=long_ago)
    assert ingestion.sweep_unprocessed() == 2
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


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_pushes_succeed_and_are_processed_when_it_returns(acme, tmp_path):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    redis_port = free_port()
    redis_args = [
        "redis-server",
        "--port",
        str(redis_port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    redis = Process(redis_args, child_environment())
    redis.wait_for("Ready to accept connections", 15)
    web_port = free_port()
    env = child_environment(
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        REDIS_CACHE_URL=f"redis://127.0.0.1:{redis_port}/1",
    )
    web = Process(
        [
            str(BIN / "uvicorn"),
            "mlplatform.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(web_port),
        ],
        env,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        assert _wait(lambda: _reachable(f"{base}/healthz"), 60), web.output
        first = snapshot_document(seed=1)
        assert _post(base, project, secret, first)[0] == 201
        redis.stop()
        started = time.monotonic()
        second = snapshot_document(seed=2)
        status, body = _post(base, project, secret, second)
        assert status == 201, body
        assert time.monotonic() - started < 10
        web.wait_for("not queued for processing", 10)  # logged, read by a background thread
        assert Snapshot.objects.filter(project=project, processed_at__isnull=True).count() == 2
        # Redis comes back (empty: the first task's message is gone with it); the sweeper, run by
        # a worker, processes both.
        redis = Process(redis_args, child_environment())
        redis.wait_for("Ready to accept connections", 15)
        Snapshot.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        queue = f"sweep-{redis_port}"
        with celery_worker(queue, env):
            with app.connection_for_write(f"redis://127.0.0.1:{redis_port}/0") as connection:
                app.send_task(
                    "projects.sweep_unprocessed_snapshots", queue=queue, connection=connection
                )
            assert _wait(
                lambda: not Snapshot.objects.filter(processed_at__isnull=True).exists(), 60
            )
    finally:
        web.stop()
        redis.stop()


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status in (200, 503)
    except urllib.error.HTTPError as error:
        return error.code == 503
    except OSError:
        return False


def test_the_sweeper_is_on_the_beat_schedule():
    schedule = settings.CELERY_BEAT_SCHEDULE["sweep-unprocessed-snapshots"]
    assert schedule["task"] == "projects.sweep_unprocessed_snapshots"
    assert schedule["schedule"] <= 60
