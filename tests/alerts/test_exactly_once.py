"""Two real Celery workers on one queue, every evaluation queued twice: a rule breaching for five
snapshots sends exactly one firing notification, and after recovery exactly one resolve
notification."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from alerts.models import Channel, Message, Notification
from alerts.tasks import evaluate_snapshot_task
from projects.models import Snapshot
from tests.alerts.conftest import metric_rule, push
from tests.alerts.stub_server import stub_server
from tests.processes import celery_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _settled(project, expected: int, timeout: float = 60) -> None:
    """Every snapshot processed and every message finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processed = not Snapshot.objects.filter(project=project, processed_at__isnull=True).exists()
        done = not Message.objects.filter(status="pending").exists()
        if processed and done and Message.objects.count() >= expected:
            return
        time.sleep(0.1)
    raise AssertionError("the workers did not settle in time")


def test_two_workers_send_one_firing_and_one_resolve_notice(acme, project):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with stub_server() as slack, celery_worker(queue), celery_worker(queue):
        channel = Channel.objects.create(
            organization=acme, kind="slack", name="#alerts", config={"url": slack.url()}
        )
        rule = metric_rule(project, channel, pending_count=2)
        for day in range(5):
            snapshot = push(project, 0.6 + day / 100, day)  # processing queued by ingestion
            for _ in range(3):  # and evaluation queued again, for both workers to race on
                evaluate_snapshot_task.delay(snapshot.pk)
        _settled(project, 1)
        rule.refresh_from_db()
        assert rule.state == "firing"
        recovered = push(project, 0.9, 5)
        for _ in range(3):
            evaluate_snapshot_task.delay(recovered.pk)
        _settled(project, 2)
        time.sleep(1.0)  # anything sent twice would arrive by now
        rule.refresh_from_db()
        assert rule.state == "resolved"
        received = slack.wait_for(2)
    texts = [r.json()["text"] for r in received]
    assert len(received) == 2, texts
    assert sum("RESOLVED" not in t.upper() for t in texts) == 1
    assert sum("RESOLVED" in t.upper() for t in texts) == 1
    assert sorted(Message.objects.values_list("kind", "status")) == [
        ("firing", "sent"),
        ("resolved", "sent"),
    ]
    assert Notification.objects.count() == 2
    assert rule.events.filter(to_state="firing").count() == 1
