"""App configuration for the collector: the work it announces is queued by its tasks module."""

from django.apps import AppConfig


class CollectorConfig(AppConfig):
    name = "collector"
    verbose_name = "Collector"

    def ready(self) -> None:
        # Connects the receivers that queue the runs and quality snapshots the collector announces.
        from collector import tasks  # noqa: F401
