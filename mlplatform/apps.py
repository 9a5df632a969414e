"""The shell as an app, for what spans every app (the demo seed command)."""

from django.apps import AppConfig


class ShellConfig(AppConfig):
    name = "mlplatform"
    label = "shell"
    verbose_name = "Platform shell"
