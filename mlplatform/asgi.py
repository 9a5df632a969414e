"""The ASGI application: Django for HTTP, Channels for websockets (served by uvicorn)."""

import asyncio
import os
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlplatform.settings.local")

from mlplatform.settings.env import load_settings

load_settings()

from django.core.asgi import get_asgi_application  # noqa: E402

# Set up Django (the app registry) before anything imports models, consumers included.
django_application = get_asgi_application()

import orjson  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from mlplatform.api_errors import error_body  # noqa: E402
from mlplatform.backpressure import IngestionLimit  # noqa: E402
from mlplatform.routing import websocket_urlpatterns  # noqa: E402

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyReadTimeout:
    """Answer 408 when a request's body stops arriving: no piece of it for `timeout` seconds.

    uvicorn bounds the wait between requests on a connection, not the wait for the rest of a body,
    and Django reads the whole body before the view runs: a client that sends less than its
    Content-Length would hold the request open for as long as it likes. Once the body is complete,
    `receive` is left unbounded (Django then waits on it for the client's disconnect).
    """

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_complete = False
        response_started = False
        timed_out = False

        async def bounded_receive() -> Message:
            nonlocal body_complete, timed_out
            if body_complete:
                return await receive()
            try:
                message: Message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                body_complete = timed_out = True
                if not response_started:
                    await _answer_408(send, self.timeout)
                # Django stops reading (RequestAborted) and sends nothing more.
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if timed_out:
                return  # the 408 has been sent: nothing else may follow it
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, bounded_receive, tracked_send)


async def _answer_408(send: Any, timeout: float) -> None:
    body = orjson.dumps(
        error_body(
            "request_timeout",
            f"The body stopped arriving: nothing for {timeout:g} seconds before its "
            "Content-Length was reached.",
        )
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FinishesAbandonedRequests:
    """Let a request whose client hung up finish as if it had stayed, so its connection goes back.

    Once a request's body is in, Django listens for the client's disconnect and, on it, cancels
    the task awaiting the view. A sync view cannot be cancelled: its thread runs on, while Django
    sends `request_finished` at once, which returns the request's database connection to the pool
    with the view still using it; the view's next query then borrows a connection of the pool
    under the same name, and nothing ever gives that one back. Clients hanging up mid-push (a
    timeout, a killed job) emptied the pool of a server this way for good (tests/test_soak.py).
    Here Django is told of a disconnect only after its response is sent: the view runs to its
    end, its response goes nowhere (uvicorn drops it), and `request_finished` follows the view in
    the request's own thread, as for every other request. A push so abandoned is stored; the
    client's retry with the same snapshot id gets 200, not a second copy.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responded = asyncio.Event()
        body_in = False

        async def receive_after_response() -> Message:
            nonlocal body_in
            if body_in:
                await responded.wait()
                return await receive()
            message: Message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_in = True
            elif message["type"] == "http.disconnect":
                body_in = True  # hung up during the body: Django gives up before any view
            return message

        async def send_noting_the_end(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                responded.set()
            await send(message)

        await self.app(scope, receive_after_response, send_noting_the_end)


class ConnectionReturningExecutor(ThreadPoolExecutor):
    """A thread pool whose threads give their database connections back after each piece of work.

    Django runs some work of a request outside the request's own thread, on the event loop's
    default executor (`sync_to_async(thread_sensitive=False)`): every error page raised from a
    view or the URL resolver (404, 403, 400, 500: `response_for_exception`), and `log_response`
    for each 4xx/5xx. A signed-in person's error page reads the session, the user and their
    organisations, so it borrows a connection of the pool in that thread; nothing ever returns it
    (request_finished closes the request thread's connection only) and the thread lives on. With a
    pool of 4 and the default executor's 6 threads, four 404 pages on different threads took every
    connection for good: PoolTimeout everywhere, /healthz hanging behind the blocked threads.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(_returning_connections, fn, *args, **kwargs)


def _returning_connections(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    finally:
        # No transaction spans two pieces of work: each is one call of a sync function.
        connections.close_all()


class ReturnsConnections:
    """Run the event loop's thread-insensitive work on a `ConnectionReturningExecutor`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self._loops:
            self._loops.add(loop)
            loop.set_default_executor(
                ConnectionReturningExecutor(thread_name_prefix="returns-connections")
            )
        await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": ReturnsConnections(
            IngestionLimit(
                BodyReadTimeout(
                    FinishesAbandonedRequests(django_application), settings.HTTP_BODY_READ_TIMEOUT
                ),
                settings.INGEST_MAX_IN_FLIGHT,
            )
        ),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
