"""App configuration for accounts (label `accounts`)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mlplatform.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        from mlplatform.accounts import openapi, signals  # noqa: F401 - registers them
