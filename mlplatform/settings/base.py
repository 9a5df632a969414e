"""Settings shared by every environment; local, test and production import these and add their own."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery.schedules import crontab
from django.utils.csp import CSP

from mlplatform.settings.env import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

SITE_NAME = env.str("SITE_NAME", "ML Monitor")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "allauth",
    "allauth.account",
    "mlplatform",
    "mlplatform.accounts",
    "projects",
    "alerts",
    "collector",
    "evidently_compat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "mlplatform.api_errors.ApiGuardMiddleware",
]

# --- Browser protections: every page and API response carries them --------------------------------
# Django's defaults, stated so that no environment's settings drop them by accident.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def content_security_policy(site_url: str) -> dict[str, list[str]]:
    """The Content-Security-Policy (Django's own, django.middleware.csp): scripts, styles and
    everything else from this site only, no inline script or style, no framing. The live dashboard's
    websocket is same-origin ('self' covers ws: and wss: in CSP level 3 browsers); the site's own
    ws(s) origin is named too for browsers that predate that."""
    site = urlsplit(site_url)
    socket_origin = f"{'wss' if site.scheme == 'https' else 'ws'}://{site.netloc}"
    return {
        "default-src": [CSP.SELF],
        # CSP.NONCE appears only on responses that use a nonce (the admin's templates do).
        "script-src": [CSP.SELF, CSP.NONCE],
        "style-src": [CSP.SELF, CSP.NONCE],
        "img-src": [CSP.SELF, "data:"],
        "connect-src": [CSP.SELF, socket_origin],
        "object-src": [CSP.NONE],
        "frame-ancestors": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF],
    }


# The points index's included columns (an index-only read of a series) exist on PostgreSQL;
# SQLite, the embedded default, builds the same index without them, which is all it needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

ROOT_URLCONF = "mlplatform.urls"
ASGI_APPLICATION = "mlplatform.asgi.application"
WSGI_APPLICATION = "mlplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mlplatform.context_processors.site",
                "django.template.context_processors.csp",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Kept so that hashes made by other hashers (say, imported users) still verify and get upgraded.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Forms show each field's errors under its own input (mlplatform/templates/forms/p.html).
FORM_RENDERER = "mlplatform.form_renderer.ErrorsUnderTheirField"

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "static")))
# The chart library comes from the npm registry (package.json), installed by scripts/setup into
# node_modules/ and served from there: never committed, never from a CDN.
CHART_LIBRARY_DIR = BASE_DIR / "node_modules" / "uplot" / "dist"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/uplot", CHART_LIBRARY_DIR)]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# --- Accounts (django-allauth): email login, mandatory verification, throttled logins ---------------
ACCOUNT_ADAPTER = "mlplatform.accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "mlplatform.accounts.forms.SignupExtraForm"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# Failed logins: 10 a minute per IP address and 5 per 5 minutes per account and IP address (the
# adapter adds the address to the key, so nobody can lock an account's owner out from elsewhere).
# The counters live in the cache, Redis outside the embedded default, so every web process shares them.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "login": "30/m/ip"}

# Closed sign-ups still let invited people create their account from the invitation link.
ALLOW_SIGNUPS = env.bool("ALLOW_SIGNUPS", True)
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", 7, min_value=1, max_value=90)
# How often a token's last-used time is written, at most: one write a minute per token, not one a request.
API_TOKEN_LAST_USED_RESOLUTION_SECONDS = 60
# How long a web process remembers a token it looked up (mlplatform/accounts/token_cache.py): a
# revocation reaches every process within a second through the cache, within this without it.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", 5, min_value=0, max_value=60)

# --- REST API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mlplatform.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mlplatform.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "mlplatform.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": [
        "mlplatform.throttling.TokenRateThrottle",
        "mlplatform.throttling.UserRateThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "mlplatform.api_schema.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ML Monitor API",
    "DESCRIPTION": (
        "Organisations, projects, snapshots and metric series. Authenticate with "
        "`Authorization: Bearer <token>`. Errors are JSON: {error, detail, fields}."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package, served as our static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Requests per token and per signed-in user, e.g. 6000/min (429 with Retry-After above).
API_RATE_LIMIT_TOKEN = env.rate("API_RATE_LIMIT_TOKEN", "6000/min")
API_RATE_LIMIT_USER = env.rate("API_RATE_LIMIT_USER", "1200/min")

# The largest request body an API endpoint accepts unless its view allows more (ingestion does).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", 1024 * 1024, min_value=1024)
# The largest snapshot document, decompressed (the request body for ingestion, gzipped or not).
SNAPSHOT_MAX_BYTES = env.int("SNAPSHOT_MAX_BYTES", 50 * 1024 * 1024, min_value=1024 * 1024)

# Snapshot pushes in progress per web process at most; past it a push is answered 503 with
# Retry-After at once (mlplatform/backpressure.py) instead of queueing until clients time out.
INGEST_MAX_IN_FLIGHT = env.int("INGEST_MAX_IN_FLIGHT", 16, min_value=1, max_value=1000)

# How long the server waits for the next piece of a request body before answering 408 (a client
# that sends less than its Content-Length must not hold the request open).
HTTP_BODY_READ_TIMEOUT = env.int("HTTP_BODY_READ_TIMEOUT", 10, min_value=1, max_value=300)

# --- Celery: reliable defaults; a task is acknowledged only after it ran ----------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 240, min_value=1)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 300, min_value=1)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# With acks late on Redis, an unacknowledged task is redelivered after the visibility timeout: it must
# be longer than any task can run, or a slow task would run twice. A publish never waits on a Redis
# that is down: one connection attempt, no retries (kombu's default retries for about 6 s), short
# socket timeouts (above the 1 s blocking pop of a worker's consumer); the work it would have queued
# is found by a sweeper. A worker's own reconnection is separate (broker_connection_retry).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 0,
    "socket_connect_timeout": 0.5,
    "socket_timeout": 2,
}
# How long a worker holds a claimed snapshot without renewing it (projects/processing.py): its
# heartbeat renews the claim every third of it, and a worker that dies loses it this long after.
SNAPSHOT_PROCESSING_LEASE_SECONDS = env.int(
    "SNAPSHOT_PROCESSING_LEASE_SECONDS", 30, min_value=1, max_value=300
)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "purge-stale-invitations": {
        "task": "accounts.purge_stale_invitations",
        "schedule": crontab(hour=3, minute=17),
    },
    # Snapshots never queued or whose worker died: processed within lease + 15 s (45 s).
    "sweep-unprocessed-snapshots": {
        "task": "projects.sweep_unprocessed_snapshots",
        "schedule": 15.0,
    },
    "alerts-no-data": {"task": "alerts.evaluate_no_data", "schedule": 60.0},
    "alerts-reminders": {"task": "alerts.send_reminders", "schedule": 60.0},
    "alerts-deliver-due": {"task": "alerts.deliver_due", "schedule": 30.0},
    "collector-run-due": {"task": "collector.run_due", "schedule": 30.0},
    "collector-quality-due": {"task": "collector.quality_due", "schedule": crontab(minute=7)},
    "collector-purge": {"task": "collector.purge", "schedule": crontab(minute=37)},
}

# The largest body the collector's intake accepts (rows, labels, a reference upload).
COLLECTOR_MAX_BODY_BYTES = env.int(
    "COLLECTOR_MAX_BODY_BYTES", 20 * 1024 * 1024, min_value=1024, max_value=1024**3
)

# A collector run over more rows than this streams its batches (metrics.streaming: bounded
# memory) instead of loading them into one frame, when its presets can stream (data summary, drift).
COLLECTOR_STREAM_ROWS = env.int("COLLECTOR_STREAM_ROWS", 1_000_000, min_value=1, max_value=10**12)

# Alert delivery (alerts/delivery.py): attempts per message, and the backoff between them.
ALERTS_MAX_ATTEMPTS = env.int("ALERTS_MAX_ATTEMPTS", 6, min_value=1, max_value=20)
ALERTS_RETRY_BASE_SECONDS = env.int("ALERTS_RETRY_BASE_SECONDS", 10, min_value=1, max_value=3600)
ALERTS_RETRY_MAX_SECONDS = 900
ALERTS_HTTP_TIMEOUT = env.int("ALERTS_HTTP_TIMEOUT", 10, min_value=1, max_value=60)
# This many rules of one project firing together reach a channel as one digest.
ALERTS_DIGEST_THRESHOLD = env.int("ALERTS_DIGEST_THRESHOLD", 3, min_value=2, max_value=100)
SLACK_HOOKS_HOST = "hooks.slack.com"
# Hosts that outbound alert requests may reach over http and on private addresses: for the test
# suite's loopback stand-ins for Slack and webhooks only; never set in production.
OUTBOUND_INSECURE_HOSTS: list[str] = []
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    from mlplatform.settings.env import EnvError

    raise EnvError(
        "CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT, so tasks can clean up."
    )

LOG_LEVEL = env.str("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}


def redis_cache(url: str, key_prefix: str) -> dict[str, Any]:
    return {
        "default": {
            # Fails open (see mlplatform/cache.py): short timeouts (Redis answers in a millisecond
            # on its network), then its circuit breaker skips a Redis that failed for a while.
            "BACKEND": "mlplatform.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def redis_channel_layer(url: str, prefix: str = "asgi") -> dict[str, Any]:
    # redis-py 8 gives sockets a 5 s read timeout by default, the same as the channel layer's blocking
    # pop: an idle websocket's receive loop then dies with a TimeoutError. No socket timeout fixes it.
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}], "prefix": prefix},
        }
    }
