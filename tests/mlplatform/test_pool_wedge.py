"""The server never wedges: after concurrent traffic with clients that disconnect mid-view, slow
bodies, error pages and a starved pool, every connection is back in the pool and /healthz answers
at once; while every connection is held, /healthz is a 503 within a second. A real server with
the production settings on loopback, a pool of two connections."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

import pytest
from django.contrib.sessions.backends.db import SessionStore

from mlplatform.accounts.models import TokenScope
from tests.factories import make_project, make_token, snapshot_document
from tests.processes import (
    Process,
    free_port,
    production_environment,
    raw_request,
    wait_until_serving,
    web_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POOL_SIZE = 2


def _session_cookie(user) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def _get(path: str, *headers: str) -> str:
    lines = "".join(f"{h}\r\n" for h in headers)
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{lines}\r\n"


def _health(port: int) -> tuple[float, int, dict]:
    started = time.monotonic()
    answer = raw_request(port, _get("/healthz").encode(), timeout=5)
    elapsed = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head else 0
    return elapsed, status, json.loads(body) if body else {}


def test_it_gives_every_connection_back_after_aborted_slow_and_failing_requests(alice, acme):
    project = make_project(acme, "Wedge")
    _, secret = make_token(acme, TokenScope.WRITE)
    cookie = f"Cookie: {_session_cookie(alice)}"
    bearer = f"Authorization: Bearer {secret}"
    document = json.dumps(snapshot_document()).encode()
    push = (
        f"POST /api/v1/projects/{project.pk}/snapshots HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\n{bearer}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(document)}\r\nConnection: close\r\n\r\n"
    )
    port = free_port()
    env = production_environment(
        DJANGO_SETTINGS_MODULE="tests.mlplatform.serving_settings",
        DATABASE_POOL_SIZE=str(POOL_SIZE),
        HTTP_BODY_READ_TIMEOUT="1",
    )
    server = Process(web_server(port), env)
    try:
        wait_until_serving(port, server)
        elapsed, status, body = _health(port)
        assert status == 200, (body, server.output[-3000:])
        rng = random.Random(14)

        def client(kind: str, rounds: int) -> None:
            for _ in range(rounds):
                if kind == "aborted":  # hangs up while the view holds its connection
                    raw_request(
                        port,
                        _get("/test/hold?seconds=0.4", cookie).encode(),
                        wait=rng.uniform(0, 0.3),
                        read=False,
                    )
                elif kind == "page-404":  # a signed-in person's page for someone else's org
                    raw_request(port, _get(f"/orgs/{uuid.uuid4()}/", cookie).encode())
                elif kind == "api-404":
                    path = f"/api/v1/projects/{uuid.uuid4()}/snapshots"
                    raw_request(port, _get(path, bearer).encode())
                elif kind == "push-aborted":  # a whole body, then gone before the answer
                    raw_request(
                        port, push.encode() + document, wait=rng.uniform(0, 0.05), read=False
                    )
                elif kind == "slow-body":  # less than its Content-Length, left open
                    head = push.replace(
                        f"Content-Length: {len(document)}", "Content-Length: 100000"
                    )
                    raw_request(port, head.encode() + document[:1000], timeout=3)

        kinds = ["aborted"] * 4 + ["page-404"] * 3 + ["api-404", "push-aborted", "slow-body"]
        threads = [threading.Thread(target=client, args=(kind, 8)) for kind in kinds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # The load has stopped; views that clients left finish within half a second (a few
        # seconds on a loaded machine): then every connection is back.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, status, body = _health(port)
            if status == 200 and body["pool"]["available"] == POOL_SIZE:
                break
            time.sleep(0.25)
        for _ in range(3):
            elapsed, status, body = _health(port)
            assert elapsed < 1, (elapsed, body, server.output[-3000:])
            assert status == 200, (body, server.output[-3000:])
            pool = body["pool"]
            assert pool["size"] == pool["available"] == POOL_SIZE, body
            assert pool["waiting"] == 0, body
            time.sleep(0.5)
        assert "CurrentThreadExecutor" not in server.output, server.output[-3000:]
    finally:
        server.stop()


def test_healthz_is_503_at_once_while_the_pool_is_exhausted_and_200_once_it_is_back(alice):
    # Every connection of the pool held by slow views: /healthz cannot borrow one, so it says
    # unhealthy within about a second (an orchestrator acts on it) rather than queueing; once the
    # views end it is healthy again, the pool full, with nobody restarting anything.
    cookie = f"Cookie: {_session_cookie(alice)}"
    port = free_port()
    env = production_environment(
        DJANGO_SETTINGS_MODULE="tests.mlplatform.serving_settings",
        DATABASE_POOL_SIZE=str(POOL_SIZE),
    )
    server = Process(web_server(port), env)
    try:
        wait_until_serving(port, server)
        assert _health(port)[1] == 200, server.output[-3000:]
        answers: list[bytes] = []
        holders = [
            threading.Thread(
                target=lambda: answers.append(
                    raw_request(port, _get("/test/hold?seconds=4", cookie).encode(), timeout=15)
                )
            )
            for _ in range(POOL_SIZE)
        ]
        for holder in holders:
            holder.start()
        # Until both views hold their connection (the pool says none is free).
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            elapsed, status, body = _health(port)
            if status == 503:
                break
            time.sleep(0.1)
        assert status == 503, (body, server.output[-3000:])
        assert elapsed < 1.5, elapsed
        assert body["status"] == "error"
        assert body["database"] == "error: PoolTimeout"
        assert body["pool"]["available"] == 0, body
        head = raw_request(port, _get("/healthz").encode(), timeout=5).partition(b"\r\n\r\n")[0]
        assert b"\r\nretry-after: 1\r\n" in head.lower() + b"\r\n", head
        for holder in holders:
            holder.join(20)
        assert len(answers) == POOL_SIZE
        assert all(b'{"held": 4.0}' in answer for answer in answers), answers
        for _ in range(3):
            elapsed, status, body = _health(port)
            assert elapsed < 1, (elapsed, body)
            assert status == 200, (body, server.output[-3000:])
            assert body["pool"]["available"] == POOL_SIZE, body
            time.sleep(0.3)
    finally:
        server.stop()
