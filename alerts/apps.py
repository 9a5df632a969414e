"""App configuration for alerts: rules are evaluated after each processed snapshot, and due
messages delivered, by tasks queued from the receivers connected here."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts.signals import message_due
        from alerts.tasks import queue_delivery, queue_evaluation
        from projects.signals import snapshot_ingested

        snapshot_ingested.connect(queue_evaluation, dispatch_uid="alerts.tasks.queue_evaluation")
        message_due.connect(queue_delivery, dispatch_uid="alerts.tasks.queue_delivery")
