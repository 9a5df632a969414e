"""A request whose body stops short of its Content-Length does not hold the server: uvicorn, as in
production, answers 408 once no more of the body arrives for HTTP_BODY_READ_TIMEOUT seconds, and
serves other requests meanwhile."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from mlplatform.accounts.models import TokenScope
from tests.factories import make_token
from tests.processes import BIN, child_environment, free_port, running

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 2


def _send_head(port: int, path: str, secret: str, length: int, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT + 10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_short_body_is_answered_408_within_the_timeout_and_others_are_served(acme):
    _, secret = make_token(acme, TokenScope.WRITE)
    port = free_port()
    args = [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--port", str(port)]
    env = child_environment(HTTP_BODY_READ_TIMEOUT=str(TIMEOUT))
    with running(args, env, ready="Uvicorn running on"):
        started = time.monotonic()
        stalled = [
            _send_head(port, f"/api/v1/orgs/{acme.pk}/projects", secret, 100_000, b"[" * 1000)
            for _ in range(3)
        ]
        # Meanwhile the server answers everyone else, at once.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status in (200, 503)
        assert time.monotonic() - started < TIMEOUT
        for sock in stalled:
            try:
                answer = _read_all(sock)  # the server answers and closes, or this times out
            finally:
                sock.close()
            elapsed = time.monotonic() - started
            assert TIMEOUT - 0.5 < elapsed < TIMEOUT + 5, elapsed
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
            assert b"content-type: application/json" in head.lower()
            assert json.loads(body)["error"] == "request_timeout"
        # A body sent slowly but steadily is not cut off: each piece arrives within the timeout.
        document = json.dumps({"name": "Slow but steady"}).encode()
        sock = _send_head(port, f"/api/v1/orgs/{acme.pk}/projects", secret, len(document), b"")
        try:
            for i in range(0, len(document), 8):
                time.sleep(TIMEOUT / 3)
                sock.sendall(document[i : i + 8])
            sock.settimeout(10)
            answer = sock.recv(65536)
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
