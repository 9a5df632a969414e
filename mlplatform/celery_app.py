"""The Celery app: `celery -A mlplatform worker` and `celery -A mlplatform beat`.

Its settings are Django's `CELERY_*` settings (see `mlplatform/settings/base.py`).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlplatform.settings.local")

app = Celery("mlplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _check_settings(sender: Celery, **kwargs: object) -> None:
    # A worker or beat started with a bad environment stops here with a one-line message.
    from mlplatform.settings.env import load_settings

    load_settings()
