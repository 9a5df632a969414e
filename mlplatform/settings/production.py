"""Production: PostgreSQL, Redis (broker, channel layer, cache), SMTP, HTTPS behind a proxy.

Everything comes from the environment and is checked at start-up; see docs/operations.md for the list.
"""

from urllib.parse import urlsplit

from psycopg_pool import ConnectionPool

from mlplatform.settings.base import *  # noqa: F403
from mlplatform.settings.base import content_security_policy, env, redis_cache, redis_channel_layer
from mlplatform.settings.env import EnvError, secret_key


def _origin(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError("expected an origin such as https://monitor.example.com")
    return value.rstrip("/")


DEBUG = False
SECRET_KEY = secret_key(env)
SITE_URL = env.url("SITE_URL", schemes=("https", "http"))
_site = urlsplit(SITE_URL)
SECURE_CSP = content_security_policy(SITE_URL)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [_site.hostname])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"], item=_origin
)


DATABASES = {"default": env.database("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise EnvError("DATABASE_URL must point at PostgreSQL in production (postgres://...).")
# A connection pool per web or worker process (psycopg's): under ASGI, Django's persistent
# connections would pile up one per thread, so connections are borrowed per request instead.
# A request waits DATABASE_POOL_TIMEOUT_MS for a free connection, then answers 503 with
# Retry-After (mlplatform/api_errors.py): past capacity, or with PostgreSQL down, clients are told
# to come back at once rather than queued until they time out. Each connection is checked as it is
# lent (one round trip), so a connection PostgreSQL dropped is discarded, never handed out. While
# PostgreSQL is unreachable the pool's reconnection attempts give up after two seconds and the next
# request starts a new one, so the pool fills again within moments of the database's return
# (psycopg's default keeps backing off for up to five minutes).
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": 1,
    "max_size": env.int("DATABASE_POOL_SIZE", 4, min_value=1, max_value=100),
    "timeout": env.int("DATABASE_POOL_TIMEOUT_MS", 500, min_value=10, max_value=60_000) / 1000,
    "check": ConnectionPool.check_connection,
    "reconnect_timeout": 2,
}

REDIS_URL = env.redis("REDIS_URL")
CACHES = redis_cache(env.redis("REDIS_CACHE_URL", REDIS_URL), "mlp")
CHANNEL_LAYERS = redis_channel_layer(REDIS_URL)
CELERY_BROKER_URL = REDIS_URL

_email_backend = env.str("EMAIL_BACKEND", "smtp", choices=("smtp", "console"))
if _email_backend == "smtp":
    _email_tls = env.bool("EMAIL_USE_TLS", True)
    _email_ssl = env.bool("EMAIL_USE_SSL", False)
    if _email_tls and _email_ssl:
        raise EnvError(
            "EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: STARTTLS (587) or SSL (465)."
        )
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env.str("EMAIL_HOST"),
                "port": env.int("EMAIL_PORT", 587, min_value=1, max_value=65535),
                "username": env.str("EMAIL_HOST_USER", ""),
                "password": env.str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": _email_tls,
                "use_ssl": _email_ssl,
                "timeout": env.int("EMAIL_TIMEOUT", 20, min_value=1),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", f"ML Monitor <noreply@{_site.hostname}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# HTTPS is terminated by a proxy in front of the web processes; it must set X-Forwarded-Proto and
# overwrite any such header sent by the client.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000, min_value=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
