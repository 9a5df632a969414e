"""App configuration for alerts: rules are evaluated after each processed snapshot."""

from typing import Any

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from projects.signals import snapshot_ingested

        snapshot_ingested.connect(queue_evaluation, dispatch_uid="alerts.queue_evaluation")


def queue_evaluation(sender: Any, snapshot: Any, **kwargs: Any) -> None:
    """A `snapshot_ingested` receiver: evaluate the project's rules in a worker. Only projects with
    rules cost a task."""
    from alerts.models import AlertRule
    from alerts.tasks import evaluate_snapshot_task

    if AlertRule.objects.filter(project_id=snapshot.project_id, enabled=True).exists():
        evaluate_snapshot_task.delay(snapshot.pk)
