"""The health check: can this process get a database connection, and reach its cache (Redis)?

It answers within about a second whatever the state of the services: the database check waits
half a second at most for a connection of the pool (not the pool's own timeout), and reports the
pool's counters, so a wedged pool (every connection borrowed, requests queueing) is a 503 an
orchestrator acts on.
"""

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

DATABASE_CHECK_TIMEOUT = 0.5  # seconds
RETRY_AFTER_SECONDS = 1


def _pool() -> Any:
    """The process's psycopg pool (production), or None."""
    return getattr(connection, "pool", None)  # PostgreSQL's backend has one; SQLite's has not


def _check_database() -> str:
    pool = _pool()
    try:
        if pool is None:  # no pool (tests, the embedded default): Django's own connection
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        else:
            pool.open()
            with pool.connection(timeout=DATABASE_CHECK_TIMEOUT) as conn:
                conn.execute("SELECT 1")
    except Exception as exc:  # any failure is a failed check, reported rather than raised
        return f"error: {type(exc).__name__}"
    return "ok"


def pool_stats() -> dict[str, Any] | None:
    """The pool's connections now: how many it has, how many are free, how many requests wait."""
    pool = _pool()
    if pool is None:
        return None
    stats = pool.get_stats()
    return {
        "size": stats.get("pool_size", 0),
        "available": stats.get("pool_available", 0),
        "waiting": stats.get("requests_waiting", 0),
        "max": stats.get("pool_max", 0),
    }


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {"database": _check_database()}
    try:
        cache.set("healthz", "ok", timeout=5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "error: value not kept"
    except Exception as exc:
        checks["cache"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "error", **checks}
    if (pool := pool_stats()) is not None:
        body["pool"] = pool
    response = JsonResponse(body, status=200 if healthy else 503)
    if not healthy:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever a page links: the logo."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("img/logo.svg"))
