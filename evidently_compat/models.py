"""What an Evidently client stores that our own models do not hold: its dashboard document."""

from __future__ import annotations

from django.db import models

from projects.models import Project


class EvidentlyDashboard(models.Model):
    """A project's dashboard as Evidently's client wrote it (`DashboardModel`: tabs and panels),
    returned as written. Our dashboards do not draw it: they have pre-built tabs of their own."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="evidently_dashboard"
    )
    document = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Evidently dashboard of {self.project_id}"
