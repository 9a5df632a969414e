"""PostgreSQL goes down under a server with the production settings: every route answers 503 with
Retry-After within a second, /healthz says 503 within a second, and once PostgreSQL is back the
pushes succeed again within moments, with no dead connection handed out. Every acknowledged
snapshot is stored exactly once. The test's own cluster and Redis; the shared ones are untouched."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore

from mlplatform.accounts.models import TokenScope
from tests.factories import make_project, make_token, snapshot_document
from tests.processes import (
    Process,
    database_url,
    free_port,
    postgres_cluster,
    production_environment,
    redis_server,
    wait_until_serving,
    web_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Client:
    def __init__(self, port: int, secret: str, cookie: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.secret = secret
        self.cookie = cookie

    def call(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, Any, bytes, float]:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, head, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, head, content = error.code, error.headers, error.read()
        return status, head, content, time.monotonic() - started

    def push(self, path: str, document: dict[str, Any]) -> tuple[int, Any, bytes, float]:
        body = json.dumps(document).encode()
        return self.call(
            "POST",
            path,
            body,
            Authorization=f"Bearer {self.secret}",
            Content_Type="application/json",
        )


def _session_cookie(user) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def test_it_answers_503_fast_while_postgres_is_down_and_recovers_by_itself(alice, acme):
    project = make_project(acme, "Faults")
    _, secret = make_token(acme, TokenScope.WRITE)
    cookie = _session_cookie(alice)
    template = snapshot_document()
    snapshots = f"/api/v1/projects/{project.pk}/snapshots"
    acknowledged: list[str] = []

    def push() -> tuple[int, Any, bytes, float]:
        document = {**template, "id": str(uuid.uuid4())}
        status, head, body, elapsed = client.push(snapshots, document)
        if status in (200, 201, 202):
            acknowledged.append(document["id"])
        return status, head, body, elapsed

    with postgres_cluster() as cluster, redis_server() as redis_url:
        cluster.copy_database(database_url(), "mlp")
        port = free_port()
        env = production_environment(DATABASE_URL=cluster.url("mlp"), REDIS_URL=redis_url)
        server = Process(web_server(port), env)
        try:
            wait_until_serving(port, server)
            client = Client(port, secret, cookie)
            for _ in range(3):
                status, _, body, _ = push()
                assert status == 201, (body[:3000], server.output[-3000:])

            cluster.stop("immediate")
            for _ in range(4):
                status, head, body, elapsed = push()
                assert status == 503, (status, body)
                assert head["Retry-After"] == "1"
                assert json.loads(body)["error"] == "database_unavailable"
                assert elapsed < 1, elapsed
            # Every route: an API read, a signed-in page, the health check.
            for path, headers in [
                (snapshots, {"Authorization": f"Bearer {secret}"}),
                ("/orgs/", {"Cookie": cookie}),
                ("/healthz", {}),
            ]:
                status, head, body, elapsed = client.call("GET", path, None, **headers)
                assert status == 503, (path, status, body[:300])
                assert head["Retry-After"] == "1", path
                assert elapsed < 1, (path, elapsed)
            assert json.loads(body)["database"].startswith("error")

            cluster.start()
            back = time.monotonic()
            while True:
                status, _, body, _ = push()
                if status == 201:
                    break
                assert status == 503, (status, body)
                assert time.monotonic() - back < 3, "still failing 3 s after PostgreSQL returned"
                time.sleep(0.1)
            # No dead connection is handed out afterwards: every push succeeds.
            for _ in range(10):
                status, _, body, _ = push()
                assert status == 201, (body[:3000], server.output[-3000:])
            status, _, body, elapsed = client.call("GET", "/healthz")
            assert status == 200, body
            assert elapsed < 1, elapsed
        finally:
            server.stop()

        with psycopg.connect(cluster.url("mlp")) as conn:
            stored = conn.execute(
                "SELECT uuid::text, count(*) FROM projects_snapshot WHERE project_id = %s "
                "GROUP BY uuid",
                [project.pk],
            ).fetchall()
    counts: dict[str, int] = dict(stored)
    assert len(acknowledged) == 3 + 1 + 10
    assert {key: counts.get(key) for key in acknowledged} == dict.fromkeys(acknowledged, 1)
