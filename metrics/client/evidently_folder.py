"""A local Evidently 0.7 workspace folder, read for `mlp import-evidently`.

Evidently's `Workspace(path)` keeps one folder per project, named by the project's id, holding
`metadata.json` (the project) and `snapshots/<snapshot id>.json` (each run's `dump_dict()`).
This module finds those files and checks each is an Evidently snapshot; it never imports
Evidently, and the platform translates the snapshots (its Evidently-compatible API).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PROJECT_FILE = "metadata.json"
SNAPSHOTS_DIR = "snapshots"


class EvidentlyFolderError(ValueError):
    """The folder is missing, or is not an Evidently workspace, or holds a file that is not an
    Evidently snapshot; the message names the path."""


@dataclass(frozen=True)
class EvidentlySnapshotFile:
    """One snapshot file: its Evidently project's name and id, the snapshot's id, the path."""

    project_name: str
    project_id: str
    snapshot_id: str
    path: Path


def _project_name(folder: Path) -> str:
    metadata = folder / PROJECT_FILE
    try:
        return str(json.loads(metadata.read_text(encoding="utf-8")).get("name") or folder.name)
    except (OSError, ValueError, AttributeError):
        return folder.name


def _project_folders(root: Path) -> list[Path]:
    if (root / SNAPSHOTS_DIR).is_dir():  # the folder of one project
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / SNAPSHOTS_DIR).is_dir())


def check_snapshot(path: Path) -> None:
    """Raise EvidentlyFolderError unless `path` holds an Evidently 0.7 snapshot dump."""
    try:
        # Evidently's own writer lets NaN through (json.dump allows it): read it as null.
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda _: None)
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidentlyFolderError(f"{path} cannot be read: {exc}") from None
    except ValueError as exc:
        raise EvidentlyFolderError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("metric_results"), dict):
        raise EvidentlyFolderError(
            f"{path} is not an Evidently snapshot (no metric_results object); "
            "this command reads Evidently 0.7 workspaces."
        )


def find_snapshots(path: str | Path) -> list[EvidentlySnapshotFile]:
    """Every snapshot of the Evidently workspace at `path` (or of one project's folder), by
    project and file name, each checked; EvidentlyFolderError for a missing or invalid folder."""
    root = Path(path)
    if not root.exists():
        raise EvidentlyFolderError(f"{root} does not exist.")
    if not root.is_dir():
        raise EvidentlyFolderError(f"{root} is not a folder (give the Evidently workspace folder).")
    folders = _project_folders(root)
    if not folders:
        raise EvidentlyFolderError(
            f"{root} is not an Evidently workspace: no project folder with a {SNAPSHOTS_DIR}/ "
            "folder in it."
        )
    found = []
    for folder in folders:
        name = _project_name(folder)
        for file in sorted((folder / SNAPSHOTS_DIR).glob("*.json")):
            check_snapshot(file)
            found.append(EvidentlySnapshotFile(name, folder.name, file.stem, file))
    if not found:
        raise EvidentlyFolderError(f"{root} is an Evidently workspace without any snapshot.")
    return found
