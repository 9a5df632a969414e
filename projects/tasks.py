"""Celery tasks of the projects app: thin wrappers around projects.processing, and the receiver that
queues a stored snapshot's processing (connected when ProjectsConfig.ready imports this module)."""

import logging
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


@shared_task(name="projects.sweep_unprocessed_snapshots", soft_time_limit=240, time_limit=300)
def sweep_unprocessed_snapshots_task() -> int:
    """Every 15 seconds (Celery beat): process snapshots whose task was never queued, or whose
    worker died (its lease lapsed)."""
    return processing.sweep_unprocessed()


@receiver(snapshot_stored, dispatch_uid="projects.tasks.queue_processing")
def queue_processing(sender: Any, snapshot_pk: int, **kwargs: Any) -> None:
    """A `snapshot_stored` receiver: process the snapshot in a worker. A broker that cannot be
    reached is logged, not raised, and skipped for a while: the snapshot is stored, and the
    sweeper picks it up."""
    if not broker.allows():
        return
    try:
        process_snapshot_task.apply_async((snapshot_pk,), retry=False)
    except Exception as exc:  # broker down, or (embedded default) a failure in the work itself
        if (
            isinstance(exc, _BROKER_UNAVAILABLE)
            and not process_snapshot_task.app.conf.task_always_eager
        ):
            broker.failed(exc)
        logger.warning(
            "Snapshot %s stored but not queued for processing (%s); the sweeper will.",
            snapshot_pk,
            exc,
        )
    else:
        broker.succeeded()
