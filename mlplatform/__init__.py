"""The project shell: settings, URLs, the ASGI and Celery apps, and tenancy (`mlplatform.accounts`)."""

from mlplatform.celery_app import app

__all__ = ["app"]
