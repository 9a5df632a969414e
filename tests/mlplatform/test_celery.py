"""The Celery app: reliable defaults, and a real worker running a real task on the test database."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from mlplatform import app
from mlplatform.accounts import services
from mlplatform.accounts.models import Invitation
from mlplatform.accounts.tasks import purge_stale_invitations_task
from tests.factories import owner_access
from tests.processes import celery_worker


def test_the_app_has_reliable_defaults():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_serializer == "json"
    assert conf.broker_url.startswith("redis://")
    assert "purge-stale-invitations" in conf.beat_schedule


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_from_the_queue(acme):
    services.invite(owner_access(acme), email="old@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=40))
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with celery_worker(queue) as worker:
        purge_stale_invitations_task.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while Invitation.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Invitation.objects.exists(), worker.output[-3000:]
        assert "accounts.purge_stale_invitations" in worker.output
