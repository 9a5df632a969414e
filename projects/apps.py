"""App configuration for projects: the receivers of its signals are connected here."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"

    def ready(self) -> None:
        from projects import tasks  # noqa: F401  (its receiver queues each stored snapshot)
        from projects.dashboards.store import ensure_default_dashboard
        from projects.live import broadcast_snapshot
        from projects.signals import snapshot_ingested

        # The default dashboard is saved before the snapshot is announced to open pages.
        snapshot_ingested.connect(
            ensure_default_dashboard,
            dispatch_uid="projects.dashboards.store.ensure_default_dashboard",
        )
        snapshot_ingested.connect(
            broadcast_snapshot, dispatch_uid="projects.live.broadcast_snapshot"
        )
