"""The workspace interface: projects holding snapshots, and the errors every workspace raises.

`LocalWorkspace` (metrics.workspaces.local) keeps them in a folder, with no server; the platform's
REST API implements the same interface as `RemoteWorkspace` (metrics.client.remote), so code written
against `Workspace` moves from a laptop to the platform by changing one line.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from metrics.core.snapshot import Snapshot


class WorkspaceError(Exception):
    """A workspace operation failed; the message says which object and why."""


class NotFound(WorkspaceError):
    """No such project or snapshot."""


class Conflict(WorkspaceError):
    """A snapshot with this id exists with different content."""


class AuthenticationFailed(WorkspaceError):
    """The credentials were refused: no token, or an unknown, revoked or expired one."""


class PermissionDenied(WorkspaceError):
    """The credentials are valid but do not allow this (a read token pushing, say)."""


class InvalidSnapshot(WorkspaceError):
    """The snapshot (or request) was refused as invalid or too large; nothing was stored."""


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    name: str
    description: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class SnapshotInfo:
    id: str
    timestamp: datetime
    name: str | None
    tags: list[str]
    metadata: dict[str, Any]
    test_counts: dict[str, int]


class Workspace(ABC):
    """Projects and their snapshots."""

    @abstractmethod
    def create_project(self, name: str, description: str = "") -> ProjectInfo: ...

    @abstractmethod
    def list_projects(self) -> list[ProjectInfo]: ...

    @abstractmethod
    def get_project(self, project_id: str) -> ProjectInfo: ...

    @abstractmethod
    def delete_project(self, project_id: str) -> None: ...

    @abstractmethod
    def add_snapshot(self, project_id: str, snapshot: Any, *, batch_id: str | None = None) -> str:
        """Store a snapshot (a `Snapshot`, or a run with `.snapshot()`); returns its id. Adding the
        same snapshot again is a no-op; a different one with the same id raises `Conflict`.

        `batch_id` sets the snapshot's ``metadata["batch_id"]``: snapshots of one batch of data
        (a report's and a test suite's pushed separately) are then counted once by sums and counts."""

    @abstractmethod
    def list_snapshots(
        self,
        project_id: str,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tags: Iterable[str] = (),
    ) -> list[SnapshotInfo]:
        """Snapshots by timestamp, oldest first; filtered to [since, until) and to those carrying
        every given tag."""

    @abstractmethod
    def load_snapshot(self, project_id: str, snapshot_id: str) -> Snapshot: ...

    @abstractmethod
    def delete_snapshot(self, project_id: str, snapshot_id: str) -> None: ...


def as_snapshot(snapshot: Any, batch_id: str | None = None) -> Snapshot:
    """The snapshot of a `Snapshot`, a run or a snapshot document (a dict, as `Snapshot.dict()`
    or a stored file gives it), naming `batch_id` when given."""
    if isinstance(snapshot, Snapshot):
        found = snapshot
    elif hasattr(snapshot, "snapshot"):
        found = snapshot.snapshot()
    elif isinstance(snapshot, Mapping):
        found = Snapshot.from_dict(snapshot)
    else:
        raise TypeError(
            f"Expected a Snapshot, a run or a snapshot document (dict), not "
            f"{type(snapshot).__name__}."
        )
    return found if batch_id is None else found.with_batch_id(batch_id)


def checked_uuid(value: str, what: str) -> str:
    """The id in canonical form; an id that is not a UUID names nothing (`NotFound`)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFound(f"No {what} {value!r}: ids are UUIDs.") from None
