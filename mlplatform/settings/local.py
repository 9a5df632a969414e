"""The embedded default: one process, an SQLite file, no Postgres or Redis needed.

Celery tasks run in-process, the channel layer lives in memory and emails print to the console. This is
what `make demo` runs; it is for trying the platform, not for serving a team.
"""

from mlplatform.settings.base import *  # noqa: F403
from mlplatform.settings.base import VAR_DIR, content_security_policy, env
from mlplatform.settings.env import ensure_dir

DEBUG = env.bool("DEBUG", True)
SECRET_KEY = env.str(
    "SECRET_KEY", "local-only-insecure-key-never-use-in-production-0123456789abcdefghijklmnop"
)
SITE_URL = env.url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))
SECURE_CSP = content_security_policy(SITE_URL)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

ensure_dir(VAR_DIR)
ensure_dir(STATIC_ROOT)  # noqa: F405 - whitenoise warns when it is missing
DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL and immediate transactions let the server's threads write without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = "ML Monitor <noreply@localhost>"

# Static files straight from the source folders: no collectstatic step before the demo starts.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
