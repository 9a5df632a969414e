"""Settings for the test suite: real PostgreSQL and Redis, as on a production host."""

import os
from typing import Any

from mlplatform.settings.base import *  # noqa: F403
from mlplatform.settings.base import (
    STATIC_ROOT,
    content_security_policy,
    env,
    redis_cache,
    redis_channel_layer,
)
from mlplatform.settings.env import ensure_dir

DEBUG = False
SECRET_KEY = "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"
SITE_URL = "http://testserver"
SECURE_CSP = content_security_policy(SITE_URL)
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {"default": env.database("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")}
# A test database per test process, so two runs on one machine do not drop each other's.
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
REDIS_URL = env.redis("REDIS_URL", "redis://127.0.0.1:6379/15")
# The cache gets a database of its own: tests clear their keys between cases without touching the
# broker's queues or the channel layer.
# A prefix per test process, so that a second test run on the same machine (and its clearing of
# the cache between tests) does not touch this one's keys.
CACHES = redis_cache(
    env.redis("REDIS_CACHE_URL", "redis://127.0.0.1:6379/14"), f"test{os.getpid()}"
)
CHANNEL_LAYERS = redis_channel_layer(REDIS_URL, prefix="test-asgi")

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False
# A queue per test process: tasks queued by one run are never consumed by another's workers.
# Child processes (servers, workers) a test starts use the test process's queue (given to them as
# TEST_CELERY_QUEUE), so that what a worker queues in turn reaches the test's workers too.
CELERY_TASK_DEFAULT_QUEUE = env.str("TEST_CELERY_QUEUE", "") or f"test-{os.getpid()}"

MAILERS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
}
# A child process (a worker in an end-to-end test) mails a loopback SMTP server of the test's.
if env.str("TEST_SMTP_PORT", ""):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": env.int("TEST_SMTP_PORT", 25), "timeout": 5},
        }
    }
# The loopback servers standing in for Slack and webhooks, and quick retries.
OUTBOUND_INSECURE_HOSTS = ["127.0.0.1"]
ALERTS_RETRY_BASE_SECONDS = 0.2  # type: ignore[assignment]
ALERTS_RETRY_MAX_SECONDS = 2
DEFAULT_FROM_EMAIL = "ML Monitor <noreply@testserver>"

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
ensure_dir(STATIC_ROOT)  # whitenoise warns when it is missing
