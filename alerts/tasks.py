"""Celery tasks of the alerts app: thin wrappers around alerts.evaluation and alerts.delivery, and
the receivers that queue them (after a snapshot is processed, when a message is due), connected
when AlertsConfig.ready imports this module."""

import logging
from typing import Any

from celery import shared_task
from django.dispatch import receiver

from alerts import delivery, evaluation
from alerts.models import AlertRule
from alerts.signals import message_due
from projects.models import Snapshot
from projects.signals import snapshot_ingested

logger = logging.getLogger(__name__)


@shared_task(
    name="alerts.evaluate_snapshot",
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=120,
    time_limit=150,
)
def evaluate_snapshot_task(snapshot_pk: int) -> int:
    """After a snapshot is processed: evaluate its project's rules. Safe to run twice."""
    project_id = (
        Snapshot.objects.filter(pk=snapshot_pk).values_list("project_id", flat=True).first()
    )
    if project_id is None:
        return 0
    return len(evaluation.evaluate_project(project_id))


@shared_task(
    name="alerts.deliver_message",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_message_task(message_id: str) -> str:
    """One delivery attempt of a message (retries are scheduled by delivery itself)."""
    return delivery.deliver(message_id)


@shared_task(name="alerts.evaluate_no_data", soft_time_limit=50, time_limit=60)
def evaluate_no_data_task() -> int:
    """Every minute (beat): the "no data" rules."""
    return evaluation.evaluate_no_data()


@shared_task(name="alerts.send_reminders", soft_time_limit=50, time_limit=60)
def send_reminders_task() -> int:
    """Every minute (beat): reminders while firing, and notices held back by a silence."""
    return evaluation.send_reminders()


@shared_task(name="alerts.deliver_due", soft_time_limit=25, time_limit=30)
def deliver_due_task() -> int:
    """Every 30 seconds (beat): messages whose delivery task was lost."""
    return delivery.deliver_due()


@receiver(snapshot_ingested, dispatch_uid="alerts.tasks.queue_evaluation")
def queue_evaluation(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    """A `snapshot_ingested` receiver: evaluate the project's rules in a worker. Only projects with
    rules cost a task."""
    if AlertRule.objects.filter(project_id=snapshot.project_id, enabled=True).exists():
        evaluate_snapshot_task.delay(snapshot.pk)


@receiver(message_due, dispatch_uid="alerts.tasks.queue_delivery")
def queue_delivery(sender: Any, message_id: str, delay: float | None, **kwargs: Any) -> None:
    """A `message_due` receiver: the delivery attempt, in a worker. A broker that cannot be reached
    is logged, not raised: the message stays due and the sweeper sends it."""
    try:
        # celery-types ask for a float; Celery takes None for "now", its default.
        deliver_message_task.apply_async((message_id,), countdown=delay)  # type: ignore[arg-type]
    except Exception:
        logger.warning("Message %s not queued; the sweeper will send it.", message_id)
