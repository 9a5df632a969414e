"""Celery tasks of the projects app: thin wrappers around projects.ingestion."""

from celery import shared_task

from projects import ingestion


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
    return ingestion.process_snapshot(snapshot_pk)


@shared_task(name="projects.sweep_unprocessed_snapshots", soft_time_limit=240, time_limit=300)
def sweep_unprocessed_snapshots_task() -> int:
    """Every minute (Celery beat): finish snapshots whose processing was never queued or died."""
    return ingestion.sweep_unprocessed()
