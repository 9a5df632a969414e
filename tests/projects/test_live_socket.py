"""The live dashboard socket, against a real uvicorn on the test database and the Redis channel layer:
a member's socket gets each new snapshot's points; anonymous, foreign and cross-site sockets are
refused and get nothing; a revoked member's socket is closed; the in-memory layer of the embedded
default works the same."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mlplatform.accounts.models import Membership, User
from projects import ingestion, live, processing
from projects.live import project_group
from projects.models import MetricPoint, Project, Snapshot
from tests.factories import make_project, make_snapshot, make_team, snapshot_document
from tests.processes import (
    BIN,
    ROOT,
    Process,
    celery_worker,
    child_environment,
    free_port,
    running,
)

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 15  # seconds for anything that should happen


@dataclass
class Server:
    process: Process
    port: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, project_id: object) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/projects/{project_id}/live"


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[Server]:
    """uvicorn serving the ASGI application as production does, on the test database."""
    port = free_port()
    args = [
        str(BIN / "uvicorn"),
        "mlplatform.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with running(args, child_environment(), ready="Uvicorn running on") as process:
        yield Server(process, port)
        # No consumer crashed on the way (garbage from browsers included).
        assert "Traceback" not in process.output, process.output[-4000:]


# The same application with the membership re-check on every forwarded message instead of every
# 30 seconds, so a revocation shows at the next broadcast.
EAGER_RECHECK_SERVER = """
import uvicorn
from mlplatform.asgi import application
from projects import consumers
consumers.ACCESS_RECHECK_SECONDS = 0
uvicorn.run(application, host="127.0.0.1", port={port})
"""


@pytest.fixture(scope="module")
def eager_recheck_server(django_db_setup: None) -> Iterator[Server]:
    port = free_port()
    args = [sys.executable, "-c", EAGER_RECHECK_SERVER.format(port=port)]
    with running(args, child_environment(), ready="Uvicorn running on") as process:
        yield Server(process, port)
        # No consumer crashed on the way (garbage from browsers included).
        assert "Traceback" not in process.output, process.output[-4000:]


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def dial(
    server: Server, project_id: object, *, cookie: str | None, origin: str | None
) -> ClientConnection:
    return connect(
        server.url(project_id),
        origin=origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie} if cookie else {},
        proxy=None,
        open_timeout=WAIT,
    )


def open_socket(
    server: Server, project_id: object, *, user: User | None, origin: str | None = "same"
) -> ClientConnection:
    """A socket as the user's browser opens it from a page of `origin` (this server's own)."""
    cookie = session_cookie(user) if user is not None else None
    return dial(
        server, project_id, cookie=cookie, origin=server.origin if origin == "same" else origin
    )


def assert_refused(
    server: Server, project_id: object, *, cookie: str | None, origin: str | None = "same"
) -> None:
    """The handshake is answered 403: no socket, so nothing can ever be received on it."""
    origin = server.origin if origin == "same" else origin
    with pytest.raises(InvalidStatus) as refused:
        dial(server, project_id, cookie=cookie, origin=origin)
    assert refused.value.response.status_code == 403


def sockets_in_group(project: Project) -> int:
    """How many sockets the channel layer would deliver the project's broadcasts to, read from
    Redis itself: channels_redis keeps a group as a sorted set at "<prefix>:group:<name>"."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    client = redis.Redis.from_url(config["hosts"][0]["address"])
    try:
        return int(client.zcard(f"{config['prefix']}:group:{project_group(project.pk)}"))
    finally:
        client.close()


def push(project: Project, seed: int = 0) -> Snapshot:
    """Store a snapshot and process it here, as a worker would: the broadcast goes through the
    Redis channel layer the server listens on."""
    snapshot = make_snapshot(project, seed=seed)
    assert processing.process_snapshot(snapshot.pk) is True
    return snapshot


def receive(socket: ClientConnection) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=WAIT))


def stored_points(snapshot: Snapshot) -> dict[str, float]:
    rows = MetricPoint.objects.filter(snapshot=snapshot).values_list("series_id", "value")
    return {str(series_id): value for series_id, value in rows}


def assert_announces(message: dict[str, Any], snapshot: Snapshot) -> None:
    snapshot.refresh_from_db()
    assert message["type"] == "snapshot"
    assert message["snapshot"] == {
        "id": str(snapshot.uuid),
        "timestamp": snapshot.timestamp.timestamp(),
        "iso": snapshot.timestamp.isoformat(),
        "name": snapshot.name,
        "status": snapshot.status,
        "test_counts": snapshot.test_counts,
    }
    assert message["points"] == stored_points(snapshot)


# ---- a member's dashboard ------------------------------------------------------------------------


@pytest.mark.slow
def test_it_sends_a_members_dashboard_the_new_snapshots_points(server, world, bob):
    with open_socket(server, world.p1.pk, user=bob) as socket:
        assert sockets_in_group(world.p1) == 1
        snapshot = push(world.p1)
        message = receive(socket)
    assert_announces(message, snapshot)
    assert len(message["points"]) == snapshot.point_count > 0
    # Every point is one of the project's series, as the page's charts know them.
    assert set(message["points"]) <= {
        str(pk) for pk in world.p1.series.values_list("pk", flat=True)
    }


@pytest.mark.slow
def test_it_delivers_a_snapshot_pushed_over_http_and_processed_by_a_real_worker(server, world, bob):
    document = snapshot_document(seed=3)
    request = urllib.request.Request(
        f"{server.origin}/api/v1/projects/{world.p1.pk}/snapshots",
        data=json.dumps(document).encode(),
        headers={"Authorization": f"Bearer {world.ingest}", "Content-Type": "application/json"},
        method="POST",
    )
    # The server queues processing on the test run's queue; a worker takes it from there.
    with (
        open_socket(server, world.p1.pk, user=bob) as socket,
        celery_worker(settings.CELERY_TASK_DEFAULT_QUEUE) as worker,
    ):
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            assert response.status == 201
        try:
            message = receive(socket)
        except TimeoutError:
            pytest.fail(f"no message; the worker said:\n{worker.output[-3000:]}")
    assert_announces(message, Snapshot.objects.get(uuid=document["id"]))


@pytest.mark.slow
def test_it_sends_points_null_above_the_size_limit(server, world, bob, monkeypatch):
    monkeypatch.setattr(live, "MAX_POINTS_PER_MESSAGE", 3)
    with open_socket(server, world.p1.pk, user=bob) as socket:
        snapshot = push(world.p1)
        message = receive(socket)
    assert snapshot.point_count > 3
    assert message["snapshot"]["id"] == str(snapshot.uuid)
    assert message["points"] is None
    # Up to the limit, the points ride along.
    monkeypatch.setattr(live, "MAX_POINTS_PER_MESSAGE", snapshot.point_count)
    assert live.snapshot_message(snapshot)["points"] == stored_points(snapshot)
    monkeypatch.setattr(live, "MAX_POINTS_PER_MESSAGE", snapshot.point_count - 1)
    assert live.snapshot_message(snapshot)["points"] is None


@pytest.mark.slow
def test_it_answers_pings_and_ignores_garbage(server, world, bob):
    with open_socket(server, world.p1.pk, user=bob) as socket:
        garbage: list[str | bytes] = [
            "not json",
            b"\x00\xff binary",
            "x" * 100_000,
            "null",
            "[1, 2]",
            '{"type": "subscribe", "project": "another"}',
            '{"type": "snapshot.ingested", "snapshot": {}}',
            '{"type": "ping"' + " " * 2000 + "}",  # a ping, but too long to be read
        ]
        for message in garbage:
            socket.send(message)
        socket.send(json.dumps({"type": "ping"}))
        assert receive(socket) == {"type": "pong"}
        snapshot = push(world.p1)
        assert receive(socket)["snapshot"]["id"] == str(snapshot.uuid)


@pytest.mark.slow
def test_it_sends_a_socket_only_its_own_projects_snapshots(server, world, globex, bob):
    with open_socket(server, world.p1.pk, user=bob) as socket:
        push(world.p2, seed=1)  # the same organisation's other project
        push(make_project(globex, "Elsewhere"), seed=2)  # another organisation's
        own = push(world.p1, seed=3)
        # Broadcasts reach a socket in the order they were sent: the first one it gets is its own.
        assert receive(socket)["snapshot"]["id"] == str(own.uuid)
        with pytest.raises(TimeoutError):
            socket.recv(timeout=0.5)


# ---- refusals ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_it_refuses_an_anonymous_socket(server, world):
    assert_refused(server, world.p1.pk, cookie=None)
    assert sockets_in_group(world.p1) == 0


@pytest.mark.slow
def test_it_refuses_a_user_of_another_organisation(server, world, charlie, globex):
    assert_refused(server, world.p1.pk, cookie=session_cookie(charlie))
    assert sockets_in_group(world.p1) == 0


@pytest.mark.slow
def test_it_refuses_a_member_restricted_out_of_the_project_by_teams(server, world, alice, bob):
    assert_refused(
        server, world.p2.pk, cookie=session_cookie(bob)
    )  # P2 belongs to a team bob is not in
    assert sockets_in_group(world.p2) == 0
    with open_socket(server, world.p2.pk, user=alice):  # alice is in the team
        assert sockets_in_group(world.p2) == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "other port", "https", "null", "ftp://127.0.0.1", None],
    ids=[
        "foreign-site",
        "same-host-other-port",
        "same-host-and-port-over-https",  # an https page may not open this plain ws:// socket
        "null",
        "other-scheme",
        "missing",
    ],
)
def test_it_refuses_a_cross_site_socket(server, world, bob, origin):
    if origin == "other port":
        origin = f"http://127.0.0.1:{free_port()}"
    elif origin == "https":
        origin = server.origin.replace("http://", "https://")
    assert_refused(server, world.p1.pk, cookie=session_cookie(bob), origin=origin)
    assert sockets_in_group(world.p1) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "project_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%27%20or%201=1"]
)
def test_it_refuses_a_malformed_or_unknown_project(server, world, bob, project_id):
    assert_refused(server, project_id, cookie=session_cookie(bob))


@pytest.mark.slow
def test_it_refuses_a_forged_session(server, world):
    assert_refused(server, world.p1.pk, cookie=f"{settings.SESSION_COOKIE_NAME}=forged")
    assert sockets_in_group(world.p1) == 0


# ---- access revoked while the socket is open -----------------------------------------------------


def remove_bob(world: Any, bob: User) -> None:
    Membership.objects.filter(organization=world.org, user=bob).delete()


def restrict_p1_to_a_team_without_bob(world: Any, bob: User) -> None:
    world.p1.teams.add(make_team(world.org, "Core"))


@pytest.mark.slow
@pytest.mark.parametrize("revoke", [remove_bob, restrict_p1_to_a_team_without_bob])
def test_it_closes_a_socket_whose_access_was_revoked(eager_recheck_server, world, bob, revoke):
    with open_socket(eager_recheck_server, world.p1.pk, user=bob) as socket:
        first = push(world.p1, seed=1)
        assert receive(socket)["snapshot"]["id"] == str(first.uuid)
        revoke(world, bob)
        push(world.p1, seed=2)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert sockets_in_group(world.p1) == 0


# ---- the embedded default: the in-memory channel layer -------------------------------------------


EMBEDDED_SETUP = r"""
import json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
from mlplatform.accounts.models import TokenScope
from tests.factories import make_org, make_project, make_token, make_user
owner = make_user("demo@example.com")
org = make_org("Demo", owner)
project = make_project(org, "Churn")
client = Client()
client.force_login(owner)
print(json.dumps({
    "project": str(project.pk),
    "token": make_token(org, TokenScope.INGEST, project=project)[1],
    "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
}))
"""


@pytest.mark.slow
def test_it_works_in_the_embedded_default_with_the_in_memory_layer(tmp_path):
    """One uvicorn process on the local settings (SQLite, eager Celery, in-memory layer): a
    snapshot pushed over HTTP is processed in that process and reaches the open socket."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mlplatform.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    setup = subprocess.run(
        [sys.executable, "-c", EMBEDDED_SETUP], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    demo = json.loads(setup.stdout.strip().splitlines()[-1])
    assert demo["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    port = free_port()
    args = [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--port", str(port)]
    with running(args, env, ready="Uvicorn running on") as process:
        embedded = Server(process, port)
        document = snapshot_document(seed=5)
        request = urllib.request.Request(
            f"{embedded.origin}/api/v1/projects/{demo['project']}/snapshots",
            data=json.dumps(document).encode(),
            headers={
                "Authorization": f"Bearer {demo['token']}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with dial(
            embedded, demo["project"], cookie=demo["cookie"], origin=embedded.origin
        ) as socket:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                assert response.status == 201
            message = receive(socket)
        # The owner's session, but a page on another port of this host: refused here too.
        other_port = f"http://127.0.0.1:{free_port()}"
        assert_refused(embedded, demo["project"], cookie=demo["cookie"], origin=other_port)
    assert message["type"] == "snapshot"
    assert message["snapshot"]["id"] == document["id"]
    assert message["snapshot"]["iso"] == datetime.fromisoformat(document["timestamp"]).isoformat()
    assert len(message["points"]) == len(list(ingestion.points_of(document)))


def test_a_broadcast_failure_never_breaks_processing(world):
    # A channel layer on a port nothing listens on: Redis is down.
    down = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"], "prefix": "down"},
        }
    }
    snapshot = make_snapshot(world.p1)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logger = logging.getLogger("projects.live")
    logger.addHandler(handler)
    try:
        with override_settings(CHANNEL_LAYERS=down):
            assert processing.process_snapshot(snapshot.pk) is True
    finally:
        logger.removeHandler(handler)
    snapshot.refresh_from_db()
    assert snapshot.processed_at is not None
    assert [record.getMessage() for record in records] == [
        f"Live update of snapshot {snapshot.uuid} (project {world.p1.pk}) not sent."
    ]
