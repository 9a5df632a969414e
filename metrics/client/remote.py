"""A workspace on the platform: the `Workspace` interface over the REST API.

Code written against `LocalWorkspace` moves to the platform by changing the line that makes the
workspace::

    from metrics import DataDriftPreset, DataStabilityTestPreset, RemoteWorkspace, Report

    # The URL and token from the arguments, or from the environment variables MLP_URL and MLP_TOKEN.
    workspace = RemoteWorkspace("https://monitor.example.com", token="mlp_org_...")
    project = workspace.create_project("Churn model", "nightly scoring")  # needs a write token

    run = Report([DataDriftPreset(), DataStabilityTestPreset()]).run(current, reference)
    workspace.add_snapshot(project.id, run)  # an ingest token for the project is enough for this
    for info in workspace.list_snapshots(project.id, since="2026-11-01", tags=["prod"]):
        print(info.timestamp, info.test_counts)
    snapshot = workspace.load_snapshot(project.id, run.id)

Only the standard library (urllib) is used, so the library keeps its small set of dependencies.

Transient failures are retried with exponential backoff and jitter (0.5 s doubling to 30 s between
attempts, `metrics.client.backoff`) for 5 minutes by default, so a restart or a failover of the
platform is ridden out: 429 and 503 (after the server's `Retry-After`), any other 5xx, timeouts and
connection errors. A 500 is usually a bug, but also what a database failover looks like for a
moment, and repeating a read or a push is harmless. After the last retry the server's error is
raised. Creating a project is not
idempotent, so it is retried only when the server certainly did not act on the request (429, 503,
connection refused). Pushing a snapshot is: the snapshot's id makes a repeated push harmless.

Error answers raise `WorkspaceError` subclasses that carry the server's `status`, `code`, `detail`
and `fields` (see `RemoteError`): `AuthenticationFailed` (401), `PermissionDenied` (403), `NotFound`
(404), `Conflict` (409), `InvalidSnapshot` (400 or 413 on a push).
"""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from metrics.client.backoff import (
    FIRST_DELAY_SECONDS,
    MAX_DELAY_SECONDS,
    RETRY_FOR_SECONDS,
    Backoff,
    retry_after_seconds,
)
from metrics.core.snapshot import Snapshot, SnapshotError, parse_timestamp
from metrics.version import __version__
from metrics.workspaces.base import (
    AuthenticationFailed,
    Conflict,
    InvalidSnapshot,
    NotFound,
    PermissionDenied,
    ProjectInfo,
    SnapshotInfo,
    Workspace,
    WorkspaceError,
    as_snapshot,
    checked_uuid,
)

logger = logging.getLogger(__name__)

URL_VARIABLE = "MLP_URL"
TOKEN_VARIABLE = "MLP_TOKEN"
# Bodies above this are gzipped (the server's default limit for other API bodies is 1 MiB).
GZIP_ABOVE_BYTES = 1024 * 1024
PAGE_SIZE = 500  # the API's largest page
RETRY_STATUSES = frozenset({429, *range(500, 600)})
# Statuses after which the server certainly did not act on the request: safe to retry anything.
NOT_ACTED_STATUSES = frozenset({429, 503})


class RemoteError(WorkspaceError):
    """An error from the platform, or no answer at all.

    `status` is the HTTP status (None when the server could not be reached), `code` the API's
    stable error code (``validation_error``, ``not_found``, …), `detail` its sentence for people and
    `fields` the messages per offending field path (validation errors only).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        fields: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail if detail is not None else message
        self.fields: dict[str, list[str]] = dict(fields or {})


# Each is both the workspace's exception (what callers catch) and a RemoteError (what it carries).
class RemoteAuthenticationFailed(AuthenticationFailed, RemoteError):
    """401 from the platform."""


class RemotePermissionDenied(PermissionDenied, RemoteError):
    """403 from the platform."""


class RemoteNotFound(NotFound, RemoteError):
    """404 from the platform."""


class RemoteConflict(Conflict, RemoteError):
    """409 from the platform."""


class RemoteInvalidSnapshot(InvalidSnapshot, RemoteError):
    """400 or 413 from the platform on a push."""


_BY_STATUS: dict[int, type[RemoteError]] = {
    401: RemoteAuthenticationFailed,
    403: RemotePermissionDenied,
    404: RemoteNotFound,
    409: RemoteConflict,
}


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect with the Authorization header to wherever it points, and turn
    # a POST into a body-less GET. A redirect means the URL is wrong: say so instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class RemoteWorkspace(Workspace):
    """Projects and snapshots on the platform, through its REST API.

    Parameters
    ----------
    url
        The platform's address, e.g. ``https://monitor.example.com`` (a trailing ``/api/v1`` is
        accepted); default: the environment variable ``MLP_URL``.
    token
        An API token; default: the environment variable ``MLP_TOKEN``. Pushing needs an ingest
        token for the project or a write token; listing and loading a read token; creating projects
        a write token.
    timeout
        Seconds to wait for each answer.
    retry_for
        Seconds during which a transient failure is retried (5 minutes); ``math.inf`` retries
        for ever.
    retries
        The most retries of one request; None (the default) for as many as `retry_for` allows.
    backoff
        The first retry's delay in seconds; it doubles on each retry, with jitter, up to
        `max_backoff`.
    max_backoff
        The longest wait between two attempts, in seconds, unless the server's ``Retry-After``
        asks for longer.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30,
        retry_for: float = RETRY_FOR_SECONDS,
        retries: int | None = None,
        backoff: float = FIRST_DELAY_SECONDS,
        max_backoff: float = MAX_DELAY_SECONDS,
    ) -> None:
        url = url or os.environ.get(URL_VARIABLE, "")
        token = token or os.environ.get(TOKEN_VARIABLE, "")
        if not url.strip():
            raise WorkspaceError(
                f"No platform URL: pass url=... or set the environment variable {URL_VARIABLE} "
                "(e.g. https://monitor.example.com)."
            )
        if not token.strip():
            raise WorkspaceError(
                f"No API token: pass token=... or set the environment variable {TOKEN_VARIABLE} "
                "(create a token on the organisation's API tokens page)."
            )
        self.url = _base_url(url.strip())
        self.api = self.url + "/api/v1"
        self.timeout = timeout
        try:
            self.backoff = Backoff(
                first=backoff, cap=max_backoff, retry_for=retry_for, retries=retries
            )
        except ValueError as exc:
            raise WorkspaceError(str(exc)) from None
        self._headers = {
            "Authorization": f"Bearer {token.strip()}",
            "Accept": "application/json",
            "User-Agent": f"mlp-metrics/{__version__} (python-urllib)",
        }
        self._opener = urllib.request.build_opener(_RefuseRedirects())
        self._organization_id: str | None = None

    def __repr__(self) -> str:
        return f"RemoteWorkspace({self.url!r})"  # never the token

    # ---- projects -------------------------------------------------------------------------------

    def organization_id(self) -> str:
        """The id of the token's organisation (asked once, from ``/me``)."""
        if self._organization_id is None:
            me = self._request("GET", "/me")
            organization = me.get("organization") if isinstance(me, dict) else None
            if not isinstance(organization, dict) or not organization.get("id"):
                raise RemoteError(
                    f"{self.api}/me did not name an organisation for this token; "
                    "use an organisation's API token."
                )
            self._organization_id = str(organization["id"])
        return self._organization_id

    def create_project(self, name: str, description: str = "") -> ProjectInfo:
        if not name or not name.strip():
            raise WorkspaceError("A project needs a name.")
        answer = self._request(
            "POST",
            f"/orgs/{self.organization_id()}/projects",
            json_body={"name": name.strip(), "description": description},
            idempotent=False,
        )
        return _project_info(answer)

    def list_projects(self) -> list[ProjectInfo]:
        answer = self._request("GET", f"/orgs/{self.organization_id()}/projects")
        projects = [_project_info(one) for one in _results(answer)]
        return sorted(projects, key=lambda p: (p.created_at, p.name))

    def get_project(self, project_id: str) -> ProjectInfo:
        return _project_info(self._request("GET", _project_path(project_id)))

    def delete_project(self, project_id: str) -> None:
        self._request("DELETE", _project_path(project_id), gone_ok_on_retry=True)

    # ---- snapshots ------------------------------------------------------------------------------

    def add_snapshot(self, project_id: str, snapshot: Any, *, batch_id: str | None = None) -> str:
        document = as_snapshot(snapshot, batch_id)
        try:
            body = document.json().encode("utf-8")
        except ValueError as exc:  # NaN or infinity somewhere: not JSON
            raise InvalidSnapshot(f"Snapshot {document.id} cannot be sent: {exc}.") from None
        body, headers = _json_body(body)
        answer = self._request(
            "POST",
            f"{_project_path(project_id)}/snapshots",
            body=body,
            headers=headers,
            invalid=RemoteInvalidSnapshot,
        )
        return str(answer["id"])

    def add_evidently_snapshot(self, project_id: str, body: bytes) -> tuple[str, bool]:
        """Push an Evidently snapshot (its `dump_dict()` as JSON, as read from its workspace
        folder) to the platform's Evidently-compatible API, which translates it; (the snapshot's
        id, whether it is new). The id comes from the document, so a re-push stores nothing."""
        body, headers = _json_body(body)
        answer = self._request(
            "POST",
            f"/evidently/api/v2/snapshots/{urllib.parse.quote(project_id, safe='')}",
            body=body,
            headers=headers,
            invalid=RemoteInvalidSnapshot,
            root=True,
        )
        return str(answer["snapshot_id"]), bool(answer.get("created", True))

    def list_snapshots(
        self,
        project_id: str,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tags: Iterable[str] = (),
    ) -> list[SnapshotInfo]:
        query: dict[str, Any] = {"limit": PAGE_SIZE}
        if since is not None:
            query["since"] = parse_timestamp(since, "since").isoformat()
        if until is not None:
            query["until"] = parse_timestamp(until, "until").isoformat()
        wanted = list(tags)
        if wanted:
            query["tag"] = wanted
        path = f"{_project_path(project_id)}/snapshots"
        found: list[SnapshotInfo] = []
        seen_cursors: set[str] = set()
        cursor: str | None = None
        while True:
            # The cursor only marks a position: the filters go with every page.
            page = self._request(
                "GET", path, query={**query, "cursor": cursor} if cursor else query
            )
            found += [_snapshot_info(summary) for summary in _results(page)]
            cursor = page.get("next") if isinstance(page, dict) else None
            if not cursor:
                break
            if cursor in seen_cursors:
                raise RemoteError(
                    f"The server repeated the cursor {cursor!r} while listing {path}."
                )
            seen_cursors.add(cursor)
        # The API pages newest first; the interface lists oldest first, as LocalWorkspace does.
        return sorted(found, key=lambda s: (s.timestamp, s.id))

    def load_snapshot(self, project_id: str, snapshot_id: str) -> Snapshot:
        answer = self._request("GET", _snapshot_path(project_id, snapshot_id))
        try:
            return Snapshot.from_dict(answer["document"])
        except (KeyError, TypeError, SnapshotError) as exc:
            raise RemoteError(
                f"Snapshot {snapshot_id} came back without a readable document: {exc}"
            ) from None

    def delete_snapshot(self, project_id: str, snapshot_id: str) -> None:
        self._request("DELETE", _snapshot_path(project_id, snapshot_id), gone_ok_on_retry=True)

    # ---- dashboards -----------------------------------------------------------------------------
    # A project's dashboard as code: the same JSON document the browser's editor writes
    # (the platform's docs/dashboards.md describes it).

    def get_dashboard(self, project_id: str) -> dict[str, Any]:
        """The project's dashboard: ``{"version": n, "tabs": [...]}``. Version 0 means nobody has
        saved one yet and this is the default made from what the project received."""
        return self._request("GET", f"{_project_path(project_id)}/dashboard")

    def set_dashboard(
        self, project_id: str, dashboard: Mapping[str, Any], *, version: int | None = None
    ) -> dict[str, Any]:
        """Replace the project's dashboard with ``dashboard`` (``{"tabs": [...]}``) and return it
        as stored (ids given to new tabs and panels, defaults filled in).

        With ``version`` (the one read with `get_dashboard`), a change made meanwhile by someone
        else is not overwritten: `Conflict` is raised instead. A document the platform refuses
        raises `RemoteError` whose ``fields`` name each bad field, e.g.
        ``tabs[0].panels[2].series[0].field``.
        """
        body: dict[str, Any] = {"tabs": list(dashboard.get("tabs", []))}
        if version is not None:
            body["version"] = version
        return self._request("PUT", f"{_project_path(project_id)}/dashboard", json_body=body)

    def add_panel(
        self, project_id: str, panel: Mapping[str, Any], *, tab: str = "Overview"
    ) -> dict[str, Any]:
        """Append ``panel`` to the tab with this id or title (a new tab if none has it); returns
        the panel as stored, with its id. Not retried: a retry could add it twice."""
        answer = self._request(
            "POST",
            f"{_project_path(project_id)}/dashboard/panels",
            json_body={"tab": tab, "panel": dict(panel)},
            idempotent=False,
        )
        return answer["panel"]

    def delete_panel(self, project_id: str, panel_id: str) -> None:
        self._request(
            "DELETE",
            f"{_project_path(project_id)}/dashboard/panels/{urllib.parse.quote(panel_id, safe='')}",
            gone_ok_on_retry=True,
        )

    # ---- HTTP -----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        invalid: type[RemoteError] = RemoteError,
        gone_ok_on_retry: bool = False,
        backoff: Backoff | None = None,
        on_retry: Callable[[], None] | None = None,
        root: bool = False,
    ) -> Any:
        """Send one API request, retrying transient failures; the decoded JSON answer (None for
        an empty one). `invalid` is the exception for 400 and 413; `gone_ok_on_retry` treats a 404
        after a retry as done (a DELETE whose first attempt went through). `backoff` replaces the
        workspace's retry policy for this request; `on_retry` is called before each wait. `path`
        is under /api/v1, or under the site's root with `root`."""
        url = (self.url if root else self.api) + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        all_headers = dict(self._headers)
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        where = f"{method} {path}"
        attempts = (backoff or self.backoff).start()
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    status, raw = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, raw, answer_headers = exc.code, _read_error(exc), exc.headers
                retryable = status in RETRY_STATUSES and (
                    idempotent or status in NOT_ACTED_STATUSES
                )
                wanted = retry_after_seconds(answer_headers.get("Retry-After"))
                delay = attempts.next_delay(wanted) if retryable else None
                if delay is not None:
                    self._note_retry(where, f"HTTP {status}", delay, attempt, on_retry)
                    _sleep(delay)
                    attempt += 1
                    continue
                if status == 404 and gone_ok_on_retry and attempt > 0:
                    return None
                error = self._error(status, raw, answer_headers, where, invalid, attempt)
                if retryable and wanted is not None:
                    error.args = (
                        f"{error} The server asked to wait {wanted:.0f} s, past the time left to "
                        "retry (retry_for).",
                    )
                raise error from None
            except (OSError, http.client.HTTPException) as exc:
                # URLError (refused, DNS, TLS), timeouts, resets, truncated answers.
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                if isinstance(reason, ssl.SSLCertVerificationError):
                    raise RemoteError(
                        f"{where}: the certificate of {self.url} could not be verified: {reason}"
                    ) from None
                never_sent = isinstance(reason, (ConnectionRefusedError, socket.gaierror))
                delay = attempts.next_delay() if idempotent or never_sent else None
                if delay is not None:
                    self._note_retry(where, _describe(reason), delay, attempt, on_retry)
                    _sleep(delay)
                    attempt += 1
                    continue
                raise RemoteError(
                    f"{where}: no answer from {self.url} ({_describe(reason)}); "
                    f"gave up after {attempt + 1} attempt{'s' if attempt else ''}."
                ) from None
            return self._decode(status, raw, where)

    def _note_retry(
        self,
        where: str,
        what: str,
        delay: float,
        attempt: int,
        on_retry: Callable[[], None] | None,
    ) -> None:
        logger.warning("%s: %s; retrying in %.1f s (retry %d)", where, what, delay, attempt + 1)
        if on_retry is not None:
            on_retry()

    def _decode(self, status: int, raw: bytes, where: str) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise RemoteError(
                f"{where}: {self.url} answered {status} with something other than JSON "
                f"({_snippet(raw)!r}); is {URL_VARIABLE} the platform's address?",
                status=status,
            ) from None

    def _error(
        self,
        status: int,
        raw: bytes,
        headers: Message,
        where: str,
        invalid: type[RemoteError],
        attempt: int,
    ) -> RemoteError:
        code, detail, fields = _error_body(raw)
        if 300 <= status < 400:
            location = headers.get("Location", "?")
            detail = (
                f"The server redirected to {location}; use the final address as the URL "
                f"(or {URL_VARIABLE})."
            )
        if detail is None:
            detail = f"HTTP {status} {http.client.responses.get(status, '')}".strip()
            if raw.strip():
                detail += f": {_snippet(raw)}"
        if status in (400, 413):
            cls = invalid
        elif status >= 500 or status == 429:
            cls = RemoteError
        else:
            cls = _BY_STATUS.get(status, RemoteError)
        message = f"{detail} ({where}: HTTP {status}{f' {code}' if code else ''}"
        if attempt:
            message += f", after {attempt} retr{'ies' if attempt > 1 else 'y'}"
        message += ")"
        if len(fields) > 1:
            message += " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in list(fields.items())[:10])
        if status == 401:
            message += f" Check the token ({TOKEN_VARIABLE})."
        return cls(message, status=status, code=code, detail=detail, fields=fields)


# ---- helpers ------------------------------------------------------------------------------------


def _base_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise WorkspaceError(
            f"{url!r} is not an http(s) URL; give the platform's address, "
            "e.g. https://monitor.example.com."
        )
    path = parsed.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def _project_path(project_id: str) -> str:
    return f"/projects/{checked_uuid(project_id, 'project')}"


def _snapshot_path(project_id: str, snapshot_id: str) -> str:
    return f"{_project_path(project_id)}/snapshots/{checked_uuid(snapshot_id, 'snapshot')}"


def _results(answer: Any) -> list[dict[str, Any]]:
    """A list answer, bare or paged (``{"results": [...]}``)."""
    if isinstance(answer, dict):
        answer = answer.get("results")
    if not isinstance(answer, list):
        raise RemoteError(f"Expected a list from the server, got {type(answer).__name__}.")
    return answer


def _project_info(document: Mapping[str, Any]) -> ProjectInfo:
    created = document.get("created_at")
    return ProjectInfo(
        id=str(document["id"]),
        name=document["name"],
        description=document.get("description") or "",
        created_at=parse_timestamp(created, "created_at") if created else datetime.now(UTC),
    )


def _snapshot_info(summary: Mapping[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(
        id=str(summary["id"]),
        timestamp=parse_timestamp(summary["timestamp"], "timestamp"),
        # The API stores a missing name as "": give back None, as LocalWorkspace does.
        name=summary.get("name") or None,
        tags=list(summary.get("tags") or []),
        metadata=dict(summary.get("metadata") or {}),
        test_counts={k: int(v) for k, v in (summary.get("test_counts") or {}).items()},
    )


def _read_error(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        exc.close()


def _error_body(raw: bytes) -> tuple[str | None, str | None, dict[str, list[str]]]:
    """The API's error format: {"error": code, "detail": sentence, "fields": {path: [messages]}}."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None, None, {}
    if not isinstance(body, dict):
        return None, None, {}
    fields = body.get("fields")
    if not isinstance(fields, dict):
        fields = {}
    return (
        body.get("error") if isinstance(body.get("error"), str) else None,
        str(body["detail"]) if body.get("detail") is not None else None,
        {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in fields.items()},
    )


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    text = str(reason) or type(reason).__name__
    return text if isinstance(reason, str) else f"{type(reason).__name__}: {text}"


def _snippet(raw: bytes, limit: int = 200) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _json_body(body: bytes) -> tuple[bytes, dict[str, str]]:
    """A JSON request body and its headers, gzipped past GZIP_ABOVE_BYTES (mtime=0: the same
    snapshot gives the same bytes, whenever it is compressed)."""
    headers = {"Content-Type": "application/json"}
    if len(body) > GZIP_ABOVE_BYTES:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return body, headers
