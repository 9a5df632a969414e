"""RemoteWorkspace against a scripted HTTP server on loopback: retries (429 with Retry-After, 5xx,
timeouts, refused connections), errors carrying the server's detail and fields, gzip, cursors, configuration from the environment. No database: the platform itself is
exercised in tests/projects/test_remote_end_to_end.py."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from metrics import Report, TestRowCount
from metrics.client import remote as remote_module
from metrics.client.remote import RemoteError, RemoteWorkspace
from metrics.core.snapshot import Snapshot
from metrics.workspaces.base import (
    AuthenticationFailed,
    Conflict,
    InvalidSnapshot,
    NotFound,
    PermissionDenied,
    Workspace,
    WorkspaceError,
)
from tests.processes import free_port

PROJECT = "7d3f4c1e-2b5a-4e8f-9c0d-1a2b3c4d5e6f"
ORG = "5b2f0000-0000-4000-8000-000000000001"
TOKEN = "mlp_org_test_secret"


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class FakePlatform:
    """Answers requests in order from a script, and records them."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                with platform.lock:
                    platform.seen.append(
                        Seen(self.command, url.path, parse_qs(url.query), dict(self.headers), body)
                    )
                    answer = (
                        platform.script.pop(0)
                        if platform.script
                        else Answer(500, {"error": "unscripted", "detail": "No answer scripted."})
                    )
                if answer.delay:
                    time.sleep(answer.delay)
                payload = (
                    answer.body
                    if isinstance(answer.body, bytes)
                    else b""
                    if answer.body is None
                    else json.dumps(answer.body).encode()
                )
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests)

            do_GET = do_POST = do_DELETE = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    server = FakePlatform()
    yield server
    server.close()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The client's waits between retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(remote_module, "_sleep", recorded.append)
    return recorded


def workspace_for(platform: FakePlatform, **options: Any) -> RemoteWorkspace:
    return RemoteWorkspace(platform.url, TOKEN, **{"backoff": 0.01, **options})


def make_snapshot(rows: int = 10, *, day: int = 1, tags: tuple[str, ...] = ()) -> Snapshot:
    frame = pd.DataFrame({"x": range(rows)})
    when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day)
    return Report([TestRowCount(gt=5)]).run(frame, timestamp=when, tags=tags).snapshot()


def summary_of(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "project": PROJECT,
        "timestamp": snapshot.timestamp.isoformat().replace("+00:00", "Z"),
        "name": snapshot.name or "",
        "tags": sorted(snapshot.tags),
        "metadata": snapshot.metadata,
        "status": "SUCCESS",
        "test_counts": snapshot.test_counts,
        "metrics": len(snapshot.metrics),
    }


def error(status: int, code: str, detail: str, fields: dict[str, list[str]] | None = None):
    body: dict[str, Any] = {"error": code, "detail": detail}
    if fields is not None:
        body["fields"] = fields
    return Answer(status, body)


# ---- configuration ------------------------------------------------------------------------------


def test_it_implements_the_workspace_interface(platform):
    assert isinstance(workspace_for(platform), Workspace)


def test_url_and_token_come_from_the_environment(platform, monkeypatch):
    monkeypatch.setenv("MLP_URL", platform.url + "/api/v1/")
    monkeypatch.setenv("MLP_TOKEN", TOKEN)
    platform.answer(
        Answer(200, {"id": PROJECT, "name": "Churn", "created_at": "2026-11-01T00:00:00Z"})
    )
    workspace = RemoteWorkspace()
    assert workspace.url == platform.url  # the /api/v1 suffix is accepted and dropped
    assert workspace.get_project(PROJECT).name == "Churn"
    seen = platform.seen[0]
    assert (seen.method, seen.path) == ("GET", f"/api/v1/projects/{PROJECT}")
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["Accept"] == "application/json"


def test_arguments_win_over_the_environment(platform, monkeypatch):
    monkeypatch.setenv("MLP_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MLP_TOKEN", "from-the-environment")
    platform.answer(Answer(200, {"id": PROJECT, "name": "Churn"}))
    RemoteWorkspace(platform.url, "from-the-argument").get_project(PROJECT)
    assert platform.seen[0].headers["Authorization"] == "Bearer from-the-argument"


@pytest.mark.parametrize(
    ("variables", "missing"),
    [({"MLP_TOKEN": TOKEN}, "MLP_URL"), ({"MLP_URL": "http://x"}, "MLP_TOKEN")],
)
def test_a_missing_url_or_token_names_the_variable_to_set(monkeypatch, variables, missing):
    monkeypatch.delenv("MLP_URL", raising=False)
    monkeypatch.delenv("MLP_TOKEN", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(WorkspaceError, match=missing):
        RemoteWorkspace()


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(WorkspaceError, match="not an http"):
        RemoteWorkspace("monitor.example.com", TOKEN)


def test_the_token_is_not_in_the_representation(platform):
    assert TOKEN not in repr(workspace_for(platform))


# ---- retries ------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(platform):
    platform.answer(
        Answer(429, {"error": "throttled", "detail": "Slow down."}, {"Retry-After": "1"}),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    started = time.monotonic()
    assert workspace_for(platform).get_project(PROJECT).name == "Churn"
    elapsed = time.monotonic() - started
    assert len(platform.seen) == 2
    assert 1.0 <= elapsed < 3.0  # the server's second, plus jitter of at most the backoff


def test_a_retry_after_past_the_time_left_to_retry_gives_up_at_once(platform, sleeps):
    platform.answer(
        Answer(429, {"error": "throttled", "detail": "Slow down."}, {"Retry-After": "3600"}),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    with pytest.raises(RemoteError, match="asked to wait 3600 s, past the time left") as caught:
        workspace_for(platform, retry_for=300).get_project(PROJECT)
    assert caught.value.status == 429
    assert sleeps == []


def test_a_long_retry_after_is_waited_for_when_there_is_time(platform, sleeps):
    platform.answer(
        Answer(503, {"error": "unavailable", "detail": "Busy."}, {"Retry-After": "120"}),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    # Longer than the backoff's cap (30 s): the server knows best.
    assert workspace_for(platform).get_project(PROJECT).name == "Churn"
    assert len(sleeps) == 1
    assert 120 <= sleeps[0] <= 121


def test_retry_after_as_an_http_date_is_honoured(platform, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=20)
    platform.answer(
        Answer(429, {}, {"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    workspace_for(platform).get_project(PROJECT)
    assert 17 <= sleeps[0] <= 21


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_with_growing_delays(platform, sleeps, status):
    platform.answer(
        Answer(status, b"<html>Bad gateway</html>"),
        Answer(status, b"<html>Bad gateway</html>"),
        Answer(status, b"<html>Bad gateway</html>"),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    workspace = workspace_for(platform, backoff=1.0)
    assert workspace.get_project(PROJECT).name == "Churn"
    assert len(platform.seen) == 4
    # Exponential with jitter: each delay in [base/2, base] for base 1, 2, 4.
    assert len(sleeps) == 3
    for delay, base in zip(sleeps, (1, 2, 4), strict=True):
        assert base / 2 <= delay <= base


def test_retries_stop_after_the_limit(platform, sleeps):
    platform.answer(*[Answer(503, {"error": "unavailable", "detail": "Down for maintenance."})] * 4)
    with pytest.raises(RemoteError, match="Down for maintenance") as caught:
        workspace_for(platform, retries=3).get_project(PROJECT)
    assert caught.value.status == 503
    assert len(platform.seen) == 4  # the first attempt and three retries
    assert "after 3 retries" in str(caught.value)


def test_a_timeout_is_retried(platform):
    platform.answer(
        Answer(200, {"id": PROJECT, "name": "Late"}, delay=1.5),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    workspace = workspace_for(platform, timeout=0.3)
    assert workspace.get_project(PROJECT).name == "Churn"
    assert len(platform.seen) == 2


def test_timeouts_every_time_give_up_with_a_clear_error(platform):
    platform.answer(*[Answer(200, {}, delay=1.0)] * 3)
    with pytest.raises(
        RemoteError, match=r"no answer from .* \(timed out\); gave up after 3 attempts"
    ) as caught:
        workspace_for(platform, timeout=0.2, retries=2).get_project(PROJECT)
    assert caught.value.status is None


def test_a_refused_connection_is_retried_then_reported(sleeps):
    workspace = RemoteWorkspace(f"http://127.0.0.1:{free_port()}", TOKEN, retries=2)
    with pytest.raises(
        RemoteError, match=r"no answer from .*Connection refused.*gave up after 3 attempts"
    ):
        workspace.get_project(PROJECT)
    assert len(sleeps) == 2


def test_a_500_is_retried_and_raised_with_the_servers_message_when_it_persists(platform, sleeps):
    platform.answer(
        error(500, "server_error", "Something went wrong on our side; it has been logged."),
        Answer(200, {"id": PROJECT, "name": "Churn"}),
    )
    assert workspace_for(platform).get_project(PROJECT).name == "Churn"
    assert len(platform.seen) == 2
    assert len(sleeps) == 1
    platform.answer(
        *[error(500, "server_error", "Something went wrong on our side; it has been logged.")] * 3
    )
    with pytest.raises(RemoteError, match="Something went wrong") as caught:
        workspace_for(platform, retries=2).get_project(PROJECT)
    assert caught.value.status == 500
    assert caught.value.code == "server_error"


def test_creating_a_project_is_not_retried_when_the_server_may_have_acted(platform, sleeps):
    # A 502 can come after the application created the project: retrying could create two.
    platform.answer(
        Answer(200, {"type": "token", "organization": {"id": ORG}}),
        Answer(502, b"Bad gateway"),
    )
    with pytest.raises(RemoteError) as caught:
        workspace_for(platform).create_project("Churn")
    assert caught.value.status == 502
    assert [s.method for s in platform.seen] == ["GET", "POST"]


def test_creating_a_project_is_retried_after_429(platform, sleeps):
    platform.answer(
        Answer(200, {"type": "token", "organization": {"id": ORG}}),
        Answer(429, {}, {"Retry-After": "2"}),
        Answer(201, {"id": PROJECT, "name": "Churn", "created_at": "2026-11-01T00:00:00Z"}),
    )
    project = workspace_for(platform).create_project("Churn", "monthly")
    assert project.id == PROJECT
    assert len(sleeps) == 1
    assert 2 <= sleeps[0] <= 2.01
    posts = [s for s in platform.seen if s.method == "POST"]
    assert len(posts) == 2
    assert json.loads(posts[1].body) == {"name": "Churn", "description": "monthly"}


def test_a_delete_whose_first_attempt_went_through_is_done(platform, sleeps):
    platform.answer(Answer(504, b""), error(404, "not_found", "No such snapshot."))
    workspace_for(platform).delete_snapshot(PROJECT, str(uuid.uuid4()))
    assert len(platform.seen) == 2


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (401, "authentication_failed", AuthenticationFailed),
        (403, "permission_denied", PermissionDenied),
        (404, "not_found", NotFound),
        (409, "conflict", Conflict),
    ],
)
def test_client_errors_raise_the_matching_exception_with_the_server_detail(
    platform, status, code, exception
):
    detail = f"The server's own words for {status}."
    platform.answer(error(status, code, detail))
    snapshot = make_snapshot()
    with pytest.raises(exception) as caught:
        workspace_for(platform).add_snapshot(PROJECT, snapshot)
    assert isinstance(caught.value, RemoteError)
    assert isinstance(caught.value, WorkspaceError)
    assert caught.value.status == status
    assert caught.value.code == code
    assert caught.value.detail == detail
    assert detail in str(caught.value)
    assert len(platform.seen) == 1  # client errors are never retried


def test_an_invalid_snapshot_carries_the_fields(platform):
    fields = {
        "metrics.0.values.current.mean": ["'x' is not of type 'number'"],
        "tags.0": ["'' is too short"],
    }
    platform.answer(
        error(400, "validation_error", "metrics.0.values.current.mean: 'x' is not a number", fields)
    )
    with pytest.raises(InvalidSnapshot) as caught:
        workspace_for(platform).add_snapshot(PROJECT, make_snapshot())
    assert isinstance(caught.value, RemoteError)  # the remote kind: with its status and code
    assert caught.value.fields == fields
    assert caught.value.code == "validation_error"
    assert "tags.0: '' is too short" in str(caught.value)  # every field, not only the first


def test_a_body_over_the_limit_is_an_invalid_snapshot(platform):
    platform.answer(error(413, "request_too_large", "The body is 60,000,000 bytes; at most 50."))
    with pytest.raises(InvalidSnapshot, match="at most 50") as caught:
        workspace_for(platform).add_snapshot(PROJECT, make_snapshot())
    assert isinstance(caught.value, RemoteError)  # the remote kind: with its status and code
    assert caught.value.status == 413


def test_a_validation_error_elsewhere_is_not_called_an_invalid_snapshot(platform):
    platform.answer(error(400, "validation_error", "since: not a date", {"since": ["not a date"]}))
    with pytest.raises(RemoteError) as caught:
        workspace_for(platform).list_snapshots(PROJECT)
    assert not isinstance(caught.value, InvalidSnapshot)
    assert caught.value.fields == {"since": ["not a date"]}


def test_ids_that_are_not_uuids_are_not_found_without_asking(platform):
    with pytest.raises(NotFound, match="UUID"):
        workspace_for(platform).load_snapshot(PROJECT, "../../orgs")
    assert platform.seen == []


def test_a_redirect_is_reported_not_followed(platform):
    platform.answer(Answer(301, b"", {"Location": "https://monitor.example.com/api/v1/me"}))
    with pytest.raises(RemoteError, match=r"redirected to https://monitor\.example\.com"):
        workspace_for(platform).get_project(PROJECT)
    assert len(platform.seen) == 1


def test_an_answer_that_is_not_json_says_the_url_may_be_wrong(platform):
    platform.answer(Answer(200, b"<html>Welcome to nginx</html>"))
    with pytest.raises(RemoteError, match=r"something other than JSON.*MLP_URL"):
        workspace_for(platform).get_project(PROJECT)


# ---- snapshots ----------------------------------------------------------------------------------


def test_a_small_snapshot_is_sent_as_plain_json(platform):
    snapshot = make_snapshot()
    platform.answer(Answer(201, summary_of(snapshot)))
    assert workspace_for(platform).add_snapshot(PROJECT, snapshot) == snapshot.id
    seen = platform.seen[0]
    assert (seen.method, seen.path) == ("POST", f"/api/v1/projects/{PROJECT}/snapshots")
    assert seen.headers["Content-Type"] == "application/json"
    assert "Content-Encoding" not in seen.headers
    assert json.loads(seen.body) == snapshot.to_dict()


def test_a_snapshot_over_a_megabyte_is_gzipped(platform):
    snapshot = make_snapshot()
    snapshot.metadata = {f"key{i}": "v" * 200 for i in range(6000)}  # about 1.3 MB of JSON
    assert len(snapshot.json().encode()) > 1024 * 1024
    platform.answer(Answer(201, summary_of(snapshot)))
    workspace_for(platform).add_snapshot(PROJECT, snapshot)
    seen = platform.seen[0]
    assert seen.headers["Content-Encoding"] == "gzip"
    assert int(seen.headers["Content-Length"]) == len(seen.body) < 100_000
    assert json.loads(gzip.decompress(seen.body)) == snapshot.to_dict()


def test_a_run_is_accepted_like_its_snapshot(platform):
    run = Report([TestRowCount(gt=5)]).run(pd.DataFrame({"x": range(10)}))
    platform.answer(Answer(200, summary_of(run.snapshot())))
    assert workspace_for(platform).add_snapshot(PROJECT, run) == run.id
    assert json.loads(platform.seen[0].body)["id"] == run.id


def test_listing_follows_the_cursors_and_sends_the_filters_with_each_page(platform):
    snapshots = [make_snapshot(day=day, tags=("prod",)) for day in range(5)]
    newest_first = [summary_of(s) for s in reversed(snapshots)]
    platform.answer(
        Answer(200, {"results": newest_first[:2], "next": "cursor-1"}),
        Answer(200, {"results": newest_first[2:4], "next": "cursor-2"}),
        Answer(200, {"results": newest_first[4:], "next": None}),
    )
    listed = workspace_for(platform).list_snapshots(
        PROJECT,
        since="2026-11-01T00:00:00Z",
        until=datetime(2026, 12, 1, tzinfo=UTC),
        tags=["prod"],
    )
    assert [s.id for s in listed] == [s.id for s in snapshots]  # oldest first
    assert listed[0].tags == ["prod"]
    assert listed[0].name is None  # "" from the API
    assert listed[0].test_counts["SUCCESS"] == 1
    assert [s.query.get("cursor") for s in platform.seen] == [None, ["cursor-1"], ["cursor-2"]]
    for seen in platform.seen:
        assert seen.query["since"] == ["2026-11-01T00:00:00+00:00"]
        assert seen.query["until"] == ["2026-12-01T00:00:00+00:00"]
        assert seen.query["tag"] == ["prod"]
        assert seen.query["limit"] == ["500"]


def test_a_repeated_cursor_stops_the_listing(platform):
    platform.answer(
        Answer(200, {"results": [], "next": "same"}), Answer(200, {"results": [], "next": "same"})
    )
    with pytest.raises(RemoteError, match="repeated the cursor"):
        workspace_for(platform).list_snapshots(PROJECT)


def test_loading_returns_the_document_as_a_snapshot(platform):
    snapshot = make_snapshot()
    platform.answer(Answer(200, {**summary_of(snapshot), "document": snapshot.to_dict()}))
    loaded = workspace_for(platform).load_snapshot(PROJECT, snapshot.id)
    assert isinstance(loaded, Snapshot)
    assert loaded.to_dict() == snapshot.to_dict()
    assert platform.seen[0].path == f"/api/v1/projects/{PROJECT}/snapshots/{snapshot.id}"


def test_deleting_a_snapshot(platform):
    snapshot_id = str(uuid.uuid4())
    platform.answer(Answer(204, None))
    workspace_for(platform).delete_snapshot(PROJECT, snapshot_id)
    seen = platform.seen[0]
    assert (seen.method, seen.path) == (
        "DELETE",
        f"/api/v1/projects/{PROJECT}/snapshots/{snapshot_id}",
    )


# ---- projects -----------------------------------------------------------------------------------


def test_the_organisation_is_asked_once(platform):
    project = {"id": PROJECT, "name": "Churn", "created_at": "2026-11-01T00:00:00Z"}
    older = {"id": str(uuid.uuid4()), "name": "Credit", "created_at": "2026-10-01T00:00:00Z"}
    platform.answer(
        Answer(200, {"type": "token", "organization": {"id": ORG, "name": "Acme"}}),
        Answer(200, [project, older]),
        Answer(201, project),
    )
    workspace = workspace_for(platform)
    assert [p.name for p in workspace.list_projects()] == ["Credit", "Churn"]  # oldest first
    assert workspace.create_project("  Churn ").name == "Churn"
    assert [s.path for s in platform.seen] == [
        "/api/v1/me",
        f"/api/v1/orgs/{ORG}/projects",
        f"/api/v1/orgs/{ORG}/projects",
    ]
    assert json.loads(platform.seen[2].body)["name"] == "Churn"


def test_a_project_needs_a_name(platform):
    with pytest.raises(WorkspaceError, match="needs a name"):
        workspace_for(platform).create_project("  ")
    assert platform.seen == []


def test_a_me_answer_without_an_organisation_is_explained(platform):
    platform.answer(Answer(200, {"type": "user", "organizations": []}))
    with pytest.raises(RemoteError, match="did not name an organisation"):
        workspace_for(platform).list_projects()
