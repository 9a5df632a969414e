"""The local workspace: a folder of projects and their snapshots as JSON files, no server."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from metrics.core.snapshot import Snapshot, SnapshotError, parse_timestamp
from metrics.workspaces.base import (
    Conflict,
    NotFound,
    ProjectInfo,
    SnapshotInfo,
    Workspace,
    WorkspaceError,
    as_snapshot,
    checked_uuid,
)


class LocalWorkspace(Workspace):
    """A folder of projects: ``<root>/<project id>/project.json`` and
    ``<root>/<project id>/snapshots/<snapshot id>.json``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _project_dir(self, project_id: str) -> Path:
        folder = self.root / checked_uuid(project_id, "project")
        if not (folder / "project.json").exists():
            raise NotFound(f"No project {project_id} in {self.root}.")
        return folder

    def create_project(self, name: str, description: str = "") -> ProjectInfo:
        if not name or not name.strip():
            raise WorkspaceError("A project needs a name.")
        info = ProjectInfo(id=str(uuid.uuid4()), name=name.strip(), description=description)
        folder = self.root / info.id
        (folder / "snapshots").mkdir(parents=True)
        document = {**asdict(info), "created_at": info.created_at.isoformat()}
        _write_json(folder / "project.json", document)
        return info

    def list_projects(self) -> list[ProjectInfo]:
        projects = []
        for path in sorted(self.root.glob("*/project.json")):
            projects.append(_project_info(json.loads(path.read_text(encoding="utf-8"))))
        return sorted(projects, key=lambda p: (p.created_at, p.name))

    def get_project(self, project_id: str) -> ProjectInfo:
        folder = self._project_dir(project_id)
        return _project_info(json.loads((folder / "project.json").read_text(encoding="utf-8")))

    def delete_project(self, project_id: str) -> None:
        shutil.rmtree(self._project_dir(project_id))

    def add_snapshot(self, project_id: str, snapshot: Any, *, batch_id: str | None = None) -> str:
        document = as_snapshot(snapshot, batch_id)
        path = self._project_dir(project_id) / "snapshots" / f"{document.id}.json"
        if path.exists():
            existing = Snapshot.load(path)
            if existing.to_dict() != document.to_dict():
                raise Conflict(
                    f"Snapshot {document.id} already exists in this project with different content."
                )
            return document.id
        document.save(path)
        return document.id

    def list_snapshots(
        self,
        project_id: str,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tags: Iterable[str] = (),
    ) -> list[SnapshotInfo]:
        folder = self._project_dir(project_id) / "snapshots"
        start = parse_timestamp(since, "since") if since is not None else None
        end = parse_timestamp(until, "until") if until is not None else None
        wanted = set(tags)
        found = []
        for path in folder.glob("*.json"):
            try:
                snapshot = Snapshot.load(path)
            except SnapshotError as exc:
                raise WorkspaceError(f"{path} is damaged: {exc}") from None
            if (start and snapshot.timestamp < start) or (end and snapshot.timestamp >= end):
                continue
            if not wanted <= set(snapshot.tags):
                continue
            found.append(
                SnapshotInfo(
                    id=snapshot.id,
                    timestamp=snapshot.timestamp,
                    name=snapshot.name,
                    tags=snapshot.tags,
                    metadata=snapshot.metadata,
                    test_counts=snapshot.test_counts,
                )
            )
        return sorted(found, key=lambda s: (s.timestamp, s.id))

    def load_snapshot(self, project_id: str, snapshot_id: str) -> Snapshot:
        path = (
            self._project_dir(project_id)
            / "snapshots"
            / f"{checked_uuid(snapshot_id, 'snapshot')}.json"
        )
        if not path.exists():
            raise NotFound(f"No snapshot {snapshot_id} in project {project_id}.")
        return Snapshot.load(path)

    def delete_snapshot(self, project_id: str, snapshot_id: str) -> None:
        path = (
            self._project_dir(project_id)
            / "snapshots"
            / f"{checked_uuid(snapshot_id, 'snapshot')}.json"
        )
        if not path.exists():
            raise NotFound(f"No snapshot {snapshot_id} in project {project_id}.")
        path.unlink()


def _project_info(document: dict[str, Any]) -> ProjectInfo:
    return ProjectInfo(
        id=document["id"],
        name=document["name"],
        description=document.get("description", ""),
        created_at=parse_timestamp(document["created_at"], "created_at"),
    )


def _write_json(path: Path, document: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=1), encoding="utf-8")
    temporary.replace(path)
