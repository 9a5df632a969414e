"""App configuration for alerts: rules are evaluated after each processed snapshot, and due
messages delivered, by tasks that the receivers of alerts.tasks queue."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # Connects queue_evaluation (snapshot_ingested) and queue_delivery (message_due).
        from alerts import tasks  # noqa: F401
