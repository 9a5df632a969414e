"""Celery tasks of the collector: thin wrappers around collector.runs, and the receivers that queue
the work the collector announces (collector.signals), connected when CollectorConfig.ready imports
this module."""

from typing import Any

from celery import shared_task
from django.dispatch import receiver

from collector import runs
from collector.models import Collector
from collector.signals import labels_received, run_wanted


@shared_task(name="collector.compute", soft_time_limit=600, time_limit=660, acks_late=True)
def compute_task(collector_id: str, force: bool = False) -> str | None:
    """One run of a collector, if it is due and no other worker is on it. Safe to run twice."""
    run = runs.compute(collector_id, force=force)
    return None if run is None else str(run.pk)


@shared_task(name="collector.compute_quality", soft_time_limit=600, time_limit=660, acks_late=True)
def compute_quality_task(collector_id: str) -> int:
    """Quality snapshots of the runs whose labels have arrived."""
    return len(runs.compute_quality(collector_id))


@shared_task(name="collector.run_due", soft_time_limit=25, time_limit=30)
def run_due_task() -> int:
    """Every 30 seconds (beat): queue a run for each due collector."""
    return runs.run_due()


@shared_task(name="collector.purge", soft_time_limit=300, time_limit=330)
def purge_task() -> int:
    """Hourly (beat): delete consumed rows past their labels window and retention."""
    return runs.purge()


@shared_task(name="collector.quality_due", soft_time_limit=300, time_limit=330)
def quality_due_task() -> int:
    """Hourly (beat): quality snapshots of runs whose labels window has closed."""
    return sum(
        len(runs.compute_quality(pk)) for pk in Collector.objects.values_list("pk", flat=True)
    )


@receiver(run_wanted, dispatch_uid="collector.tasks.queue_run")
def queue_run(sender: Any, collector_id: str, force: bool, **kwargs: Any) -> None:
    """A `run_wanted` receiver: the run, in a worker."""
    compute_task.delay(collector_id, force)


@receiver(labels_received, dispatch_uid="collector.tasks.queue_quality")
def queue_quality(sender: Any, collector_id: str, **kwargs: Any) -> None:
    """A `labels_received` receiver: the quality snapshots, in a worker."""
    compute_quality_task.delay(collector_id)
