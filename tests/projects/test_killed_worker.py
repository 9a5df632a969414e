"""A worker killed mid-task (SIGKILL: no cleanup): its claim on the snapshot lapses with it. While
the worker lives, a heartbeat keeps the claim and the sweeper leaves the snapshot alone; once it
is dead, another worker's sweep takes the snapshot within the lease, and it is announced exactly
once (alerts evaluated once, no doubled points)."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from django.conf import settings
from django.utils import timezone

from alerts.models import Channel, Message
from projects.models import MetricPoint, Snapshot
from projects.tasks import sweep_unprocessed_snapshots_task
from tests.alerts.conftest import metric_rule, push
from tests.factories import make_project
from tests.processes import celery_worker, child_environment
from tests.projects.announcements import announced

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE = 3  # seconds (30 in production)
EVALUATION = re.compile(r"Task alerts\.evaluate_snapshot\[[^\]]+\] received")


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_workers_snapshot_is_swept_within_the_lease_and_announced_once(acme, tmp_path):
    project = make_project(acme, "Scoring")
    channel = Channel.objects.create(
        organization=acme, kind="email", name="On call", config={"addresses": ["oncall@acme.test"]}
    )
    rule = metric_rule(project, channel)
    log = str(tmp_path / "announced")
    env = child_environment(
        SNAPSHOT_PROCESSING_LEASE_SECONDS=str(LEASE), TEST_ANNOUNCEMENTS_FILE=log
    )
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    include = ("tests.projects.announcements",)
    held = {**env, "TEST_HOLD_ANNOUNCEMENT_SECONDS": "300"}
    with celery_worker(queue, held, include=include) as first:
        snapshot = push(project, 0.5, 0)  # below the rule's 0.8: its evaluation fires it
        first.wait_for("Holding the announcement", 30)
        claimed = Snapshot.objects.get(pk=snapshot.pk)
        assert claimed.processing_claimed_by is not None
        with celery_worker(queue, env, include=include) as second:
            # Alive, the first worker renews its claim: sweeps past the lease take nothing.
            time.sleep(LEASE + 1)
            for _ in range(2):
                sweep_unprocessed_snapshots_task.delay()
            second.wait_for("projects.sweep_unprocessed_snapshots", 10)
            time.sleep(1)
            renewed = Snapshot.objects.get(pk=snapshot.pk)
            assert renewed.processing_claimed_at is not None
            assert claimed.processing_claimed_at is not None
            assert renewed.processing_claimed_at > claimed.processing_claimed_at
            assert (timezone.now() - renewed.processing_claimed_at).total_seconds() < LEASE
            assert renewed.processing_claimed_by == claimed.processing_claimed_by
            assert announced(log) == []

            os.killpg(first.proc.pid, signal.SIGKILL)
            first.proc.wait(10)
            killed = time.monotonic()

            def swept() -> bool:  # what beat does every 15 seconds in production
                sweep_unprocessed_snapshots_task.delay()
                return _wait(lambda: announced(log) != [], 1)

            assert _wait(swept, 60), second.output[-3000:]
            taken_after = time.monotonic() - killed
            assert _wait(lambda: Message.objects.exists(), 30), second.output[-3000:]
            time.sleep(2)  # a second announcement or evaluation, if any, would show by now
    assert taken_after < LEASE + 5, taken_after
    assert announced(log) == [str(snapshot.uuid)]
    assert len(EVALUATION.findall(second.output)) == 1, second.output[-3000:]
    assert not EVALUATION.findall(first.output)
    rule.refresh_from_db()
    assert rule.events.filter(to_state="firing").count() == 1
    assert Message.objects.count() == 1
    done = Snapshot.objects.get(pk=snapshot.pk)
    assert done.processed_at is not None
    assert done.processing_claimed_by is None
    assert MetricPoint.objects.filter(snapshot=done).count() == done.point_count
