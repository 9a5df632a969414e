"""The shell as an app, for what spans every app (the demo seed command, start-up checks)."""

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class ShellConfig(AppConfig):
    name = "mlplatform"
    label = "shell"
    verbose_name = "Platform shell"

    def ready(self) -> None:
        checks.register(chart_library_installed, checks.Tags.staticfiles)


def chart_library_installed(**kwargs: Any) -> list[checks.CheckMessage]:
    """Dashboards draw with a chart library installed from the npm registry, not committed."""
    if (settings.CHART_LIBRARY_DIR / "uPlot.iife.min.js").exists():
        return []
    return [
        checks.Warning(
            f"The chart library is missing from {settings.CHART_LIBRARY_DIR}: charts will not draw.",
            hint="Run scripts/setup (it runs `npm ci`; Node.js and npm are needed).",
            id="shell.W001",
        )
    ]
