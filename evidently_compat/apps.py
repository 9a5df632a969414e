"""App configuration for the Evidently-compatible API."""

from django.apps import AppConfig


class EvidentlyCompatConfig(AppConfig):
    name = "evidently_compat"
    verbose_name = "Evidently compatibility"
