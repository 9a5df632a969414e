"""Back-pressure for ingestion: a bounded number of pushes in flight per web process, and a fast
503 with `Retry-After` beyond it.

Django runs a process's sync views one at a time (under ASGI, in one thread): past capacity every
push would wait its turn until clients time out, and retry into a longer queue. Counted in the
event loop before Django reads anything, a push over the limit is answered at once, with
`Connection: close` (its body is never read), and the client library retries after `Retry-After`
(metrics/client/remote.py). Nothing is stored from a refused push, so a retry is safe; a push that
was answered 201 or 200 is stored (once: its id makes a retry idempotent).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from mlplatform.api_errors import error_body

_INGESTION = re.compile(r"/api/v1/projects/[^/]+/snapshots/?\Z")
RETRY_AFTER_SECONDS = 1


class IngestionLimit:
    """At most `limit` snapshot pushes at a time through `app` (ASGI); 503 for the others."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _INGESTION.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await _answer_503(send, self.limit)
            return
        self.in_flight += 1  # one event loop per process: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _answer_503(send: Any, limit: int) -> None:
    body = orjson.dumps(
        error_body(
            "overloaded",
            f"This server is busy ({limit} pushes in progress); retry after "
            f"{RETRY_AFTER_SECONDS} s. Nothing was stored.",
        )
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
