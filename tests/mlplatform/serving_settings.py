"""The production settings plus one slow test view (tests/mlplatform/serving_urls.py), for tests
of the serving path against a real server. Never used outside the tests."""

from mlplatform.settings.production import *  # noqa: F403
from mlplatform.settings.production import env

ROOT_URLCONF = "tests.mlplatform.serving_urls"
# Without collectstatic: the error pages link the stylesheets by their plain names.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# The test process's queue, so the server's tasks never wait in a queue nobody consumes.
CELERY_TASK_DEFAULT_QUEUE = env.str("TEST_CELERY_QUEUE", "celery")
