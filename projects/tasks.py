"""Celery tasks of the projects app: thin wrappers around projects.processing, and the receiver that
queues a stored snapshot's processing (connected when ProjectsConfig.ready imports this module).

A web process stores hundreds of snapshots a second; publishing a Celery message for each cost
more CPU than storing its points, and blocked the push while Redis was unreachable. Stored
snapshots are queued instead by a background thread of the process, one task for all that were
stored in the last `PUBLISH_INTERVAL_SECONDS`. Nothing acknowledged depends on that message: a
snapshot is stored before its push is answered, and one whose message was lost (the process died,
the broker was down) is processed by the sweeper (`processing.sweep_unprocessed`) within the sweep's 15 seconds.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from celery import shared_task
from django.dispatch import receiver
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mlplatform.circuit import CircuitBreaker
from projects import processing
from projects.signals import snapshot_stored

logger = logging.getLogger(__name__)

# After a failed publish the broker is skipped for this long (the pushes of that time are left to
# the sweeper), so that a Redis outage costs a push nothing, not a timeout each.
BROKER_SKIP_SECONDS = 5.0
_BROKER_UNAVAILABLE = (OperationalError, RedisConnectionError, RedisTimeoutError, OSError)
broker = CircuitBreaker("The broker (Redis)", BROKER_SKIP_SECONDS)

PUBLISH_INTERVAL_SECONDS = 0.05
BATCH_LIMIT = 500


@shared_task(
    name="projects.process_snapshot",
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=120,
    time_limit=150,
)
def process_snapshot_task(snapshot_pk: int) -> bool:
    """Announce a stored snapshot (alerts, live updates). Safe to run twice."""
    return processing.process_snapshot(snapshot_pk)


@shared_task(
    name="projects.process_snapshots",
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=200,
    time_limit=230,
)
def process_snapshots_task(snapshot_pks: list[int]) -> int:
    """Announce stored snapshots (a batch from one web process); each once, safe to run twice.
    A failure does not stop the others: it is raised (and retried) after them."""
    done, failure = 0, None
    for pk in snapshot_pks:
        try:
            done += processing.process_snapshot(pk)
        except Exception as exc:  # retried with the batch; processed ones are skipped then
            failure = exc
    if failure is not None:
        raise failure
    return done


@shared_task(name="projects.sweep_unprocessed_snapshots", soft_time_limit=240, time_limit=300)
def sweep_unprocessed_snapshots_task() -> int:
    """Every 15 seconds (Celery beat): process snapshots whose task was never queued, or whose
    worker died (its lease lapsed)."""
    return processing.sweep_unprocessed()


class _Publisher:
    """Snapshot ids waiting for their task, and the thread that publishes them (one per process:
    a forked child starts its own)."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._pending: list[int] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, snapshot_pk: int) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="snapshot-publisher", daemon=True
                )
                self._thread.start()
            self._pending.append(snapshot_pk)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
            # Let the batch fill for a moment: one message for everything stored meanwhile.
            time.sleep(PUBLISH_INTERVAL_SECONDS)
            self.flush()

    def flush(self) -> None:
        while True:
            with self._wake:
                batch, self._pending = self._pending[:BATCH_LIMIT], self._pending[BATCH_LIMIT:]
            if not batch:
                return
            _publish(batch)


def _publish(snapshot_pks: list[int]) -> None:
    """Queue one task for `snapshot_pks`; a broker that cannot be reached is logged, not raised,
    and skipped for a while: the snapshots are stored, and the sweeper picks them up."""
    if not broker.allows():
        return
    try:
        process_snapshots_task.apply_async((snapshot_pks,), retry=False)
    except Exception as exc:  # broker down, or (embedded default) a failure in the work itself
        if (
            isinstance(exc, _BROKER_UNAVAILABLE)
            and not process_snapshot_task.app.conf.task_always_eager
        ):
            broker.failed(exc)
        logger.warning(
            "%d snapshot(s) stored but not queued for processing (%s); the sweeper will.",
            len(snapshot_pks),
            exc,
        )
    else:
        broker.succeeded()


_publisher = _Publisher()
atexit.register(_publisher.flush)  # a process stopping cleanly publishes what it holds


@receiver(snapshot_stored, dispatch_uid="projects.tasks.queue_processing")
def queue_processing(sender: Any, snapshot_pk: int, **kwargs: Any) -> None:
    """A `snapshot_stored` receiver: process the snapshot in a worker, soon. Where tasks run in
    the process itself (the embedded default), at once."""
    if process_snapshots_task.app.conf.task_always_eager:
        _publish([snapshot_pk])
    else:
        _publisher.add(snapshot_pk)
