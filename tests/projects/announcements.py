"""Loaded into a test's Celery worker (`celery worker --include`): each announcement of a snapshot
(`snapshot_ingested`) appends the snapshot's id to the file named by TEST_ANNOUNCEMENTS_FILE, after
every other receiver. With TEST_HOLD_ANNOUNCEMENT_SECONDS set, each announcement is first held that
long, before any other receiver runs, so that a test can kill the worker mid-task."""

import logging
import os
import time
from typing import Any

from projects.models import Snapshot
from projects.signals import snapshot_ingested

logger = logging.getLogger(__name__)


def record(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    with open(os.environ["TEST_ANNOUNCEMENTS_FILE"], "a") as file:
        file.write(f"{snapshot.uuid}\n")


def hold(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    seconds = float(os.environ["TEST_HOLD_ANNOUNCEMENT_SECONDS"])
    logger.warning("Holding the announcement of snapshot %s for %s s", snapshot.uuid, seconds)
    time.sleep(seconds)


# Only in a worker started to record (the tests import `announced` from here too).
if os.environ.get("TEST_ANNOUNCEMENTS_FILE"):
    snapshot_ingested.connect(record, dispatch_uid="tests.projects.announcements.record")
if os.environ.get("TEST_HOLD_ANNOUNCEMENT_SECONDS"):
    snapshot_ingested.connect(hold, dispatch_uid="tests.projects.announcements.hold")
    # First in line: nothing (alerts, live updates) has happened when the worker is killed.
    with snapshot_ingested.lock:
        snapshot_ingested.receivers.insert(0, snapshot_ingested.receivers.pop())
        snapshot_ingested.sender_receivers_cache.clear()


def announced(path: str) -> list[str]:
    """The snapshot ids announced so far, in order, one per announcement."""
    try:
        with open(path) as file:
            return file.read().split()
    except FileNotFoundError:
        return []
