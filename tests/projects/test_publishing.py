"""Stored snapshots are queued for processing in batches, one Celery message for all that a web
process stored within a moment, by a background thread (a push never waits on the broker)."""

from __future__ import annotations

import base64
import json
import time

import redis
from django.conf import settings

from projects.models import Snapshot
from projects.signals import snapshot_stored


def _messages(client: redis.Redis) -> list[tuple[str, list]]:
    """(task name, positional arguments) of each message waiting in the test's queue."""
    found = []
    for raw in client.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1):
        message = json.loads(raw)
        args, _, _ = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


def test_snapshots_stored_together_are_queued_in_one_message():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    try:
        for pk in range(101, 111):  # what ten pushes committing at once announce
            snapshot_stored.send(sender=Snapshot, snapshot_pk=pk)
        deadline = time.monotonic() + 5
        while not client.llen(settings.CELERY_TASK_DEFAULT_QUEUE) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # anything else that was going to be published
        assert _messages(client) == [("projects.process_snapshots", [list(range(101, 111))])]
    finally:
        client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
