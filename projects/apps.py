"""App configuration for projects."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"

    def ready(self) -> None:
        from projects.live import broadcast_snapshot
        from projects.signals import snapshot_ingested

        snapshot_ingested.connect(
            broadcast_snapshot, dispatch_uid="projects.live.broadcast_snapshot"
        )
