"""The embedded default: one process, an SQLite file, no Postgres or Redis needed.

Celery tasks run in-process, the channel layer lives in memory and emails print to the console. This is
what `make demo` runs; it is for trying the platform, not for serving a team.

`HOST` and `PORT` are where the demo serves (`manage.py serve_demo`, which `scripts/demo` runs, binds
them); links in emails go there unless `SITE_URL` says otherwise.
"""

from urllib.parse import urlsplit

from mlplatform.settings.base import *  # noqa: F403
from mlplatform.settings.base import VAR_DIR, content_security_policy, env
from mlplatform.settings.env import ensure_dir, served_at

DEBUG = env.bool("DEBUG", True)
SECRET_KEY = env.str(
    "SECRET_KEY", "local-only-insecure-key-never-use-in-production-0123456789abcdefghijklmnop"
)
DEMO_HOST = env.str("HOST", "127.0.0.1")
DEMO_PORT = env.int("PORT", 8000, min_value=1, max_value=65535)
SITE_URL = env.url("SITE_URL", served_at(DEMO_HOST, DEMO_PORT), schemes=("http", "https"))
SECURE_CSP = content_security_policy(SITE_URL)
_site_host = urlsplit(SITE_URL).hostname or "127.0.0.1"
_site_host = f"[{_site_host}]" if ":" in _site_host else _site_host
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    list(dict.fromkeys(["127.0.0.1", "localhost", "[::1]", _site_host])),
)

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

# A host in the URL, or kombu warns that it "reverted to localhost" on every eager task.
CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Printed decoded, links whole on their own lines, so a link copied from the terminal opens.
MAILERS = {"default": {"BACKEND": "mlplatform.console_email.EmailBackend"}}
DEFAULT_FROM_EMAIL = "ML Monitor <noreply@localhost>"

# Static files straight from the source folders: no collectstatic step before the demo starts.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The terminal is the demo's inbox and its login hint: warnings and errors only, unless LOG_LEVEL
# asks for more (the base settings default to INFO, which prints a line per in-process task).
LOG_LEVEL = env.str("LOG_LEVEL", "WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING["root"] = {"handlers": ["console"], "level": LOG_LEVEL}  # noqa: F405
