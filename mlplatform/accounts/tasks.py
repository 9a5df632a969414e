"""Celery tasks for accounts: thin wrappers that call the services."""

from celery import shared_task

from mlplatform.accounts import services


@shared_task(name="accounts.purge_stale_invitations", soft_time_limit=60, time_limit=90)
def purge_stale_invitations_task() -> int:
    """Daily (Celery beat): forget invitations that expired or were revoked a month ago."""
    return services.purge_stale_invitations()
