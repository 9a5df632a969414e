"""Redis down, with the production settings: pushes still answer 201 and never wait on Redis (the
rate limits fail open, the Celery publish gives up at once); when Redis is back, a real worker and
the sweeper process the backlog, each snapshot announced exactly once."""

from __future__ import annotations

import os
import signal
import time

import pytest

from mlplatform import app
from mlplatform.accounts.models import TokenScope
from projects.models import MetricPoint, Snapshot
from tests.factories import make_project, make_token, snapshot_document
from tests.processes import BIN, Process, celery_worker, free_port
from tests.projects.announcements import announced
from tests.projects.outage import answers, post_snapshot, production_environment, redis_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_with_redis_down_pushes_stay_fast_and_the_backlog_is_processed_once(acme, tmp_path):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    port = free_port()
    log = str(tmp_path / "announced")
    env = production_environment(
        port, SNAPSHOT_PROCESSING_LEASE_SECONDS="2", TEST_ANNOUNCEMENTS_FILE=log
    )
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    redis = redis_server(port)
    web = Process(
        [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--port", str(web_port)], env
    )
    try:
        with celery_worker("celery", env, include=("tests.projects.announcements",)) as worker:
            assert _wait(lambda: answers(f"{base}/healthz"), 60), web.output
            pushed = []
            for seed in range(3):
                document = snapshot_document(seed=seed)
                assert post_snapshot(base, project, secret, document)[0] == 201
                pushed.append(document["id"])
            assert _wait(lambda: len(announced(log)) == 3, 30), worker.output[-3000:]

            os.killpg(redis.proc.pid, signal.SIGKILL)
            redis.proc.wait(5)
            durations = []
            for seed in range(3, 9):
                document = snapshot_document(seed=seed)
                started = time.monotonic()
                status, body = post_snapshot(base, project, secret, document)
                durations.append(time.monotonic() - started)
                assert status == 201, body
                pushed.append(document["id"])
            assert max(durations) < 1.0, durations
            assert Snapshot.objects.filter(processed_at__isnull=True).count() == 6

            # Redis comes back on its port, empty. The worker reconnects; the sweeper, sent as
            # beat sends it, finds the six snapshots whose publish failed.
            redis = redis_server(port)

            def swept() -> bool:
                with app.connection_for_write(env["REDIS_URL"]) as connection:
                    app.send_task(
                        "projects.sweep_unprocessed_snapshots",
                        queue="celery",
                        connection=connection,
                    )
                return _wait(lambda: len(announced(log)) >= 9, 3)

            assert _wait(swept, 90), worker.output[-3000:]
            time.sleep(1)  # a second announcement, if any, would show by now
    finally:
        web.stop()
        redis.stop()
    assert sorted(announced(log)) == sorted(pushed)
    assert not Snapshot.objects.filter(processed_at__isnull=True).exists()
    assert Snapshot.objects.filter(project=project).count() == 9
    for snapshot in Snapshot.objects.all():
        assert MetricPoint.objects.filter(snapshot=snapshot).count() == snapshot.point_count
