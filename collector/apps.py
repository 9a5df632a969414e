"""App configuration for the collector: the work it announces is queued by its tasks module."""

from django.apps import AppConfig


class CollectorConfig(AppConfig):
    name = "collector"
    verbose_name = "Collector"

    def ready(self) -> None:
        from collector.signals import labels_received, run_wanted
        from collector.tasks import queue_quality, queue_run

        run_wanted.connect(queue_run, dispatch_uid="collector.tasks.queue_run")
        labels_received.connect(queue_quality, dispatch_uid="collector.tasks.queue_quality")
