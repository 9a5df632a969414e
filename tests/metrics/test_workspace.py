"""The local workspace: projects and snapshots in a folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from metrics import LocalWorkspace, Report, TestRowCount, TestSuite
from metrics.workspaces.base import Conflict, NotFound, Workspace, WorkspaceError


@pytest.fixture
def workspace(tmp_path) -> LocalWorkspace:
    return LocalWorkspace(tmp_path / "ws")


def _snapshot(day: int, tags=(), rows: int = 10):
    frame = pd.DataFrame({"x": range(rows)})
    when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day)
    return TestSuite([TestRowCount(gt=5)]).run(frame, timestamp=when, tags=tags).snapshot()


def test_it_implements_the_workspace_interface(workspace):
    assert isinstance(workspace, Workspace)


def test_projects_are_created_listed_and_deleted(workspace):
    churn = workspace.create_project("Churn", "monthly churn model")
    credit = workspace.create_project("Credit")
    assert [p.name for p in workspace.list_projects()] == ["Churn", "Credit"]
    assert workspace.get_project(churn.id).description == "monthly churn model"
    workspace.delete_project(churn.id)
    assert [p.id for p in workspace.list_projects()] == [credit.id]
    with pytest.raises(NotFound):
        workspace.get_project(churn.id)


def test_snapshots_are_added_listed_loaded_and_deleted(workspace):
    project = workspace.create_project("Churn")
    snapshots = [_snapshot(day, tags=["daily"] if day % 2 else []) for day in (3, 1, 2)]
    for snapshot in snapshots:
        assert workspace.add_snapshot(project.id, snapshot) == snapshot.id
    listed = workspace.list_snapshots(project.id)
    assert [s.timestamp.day for s in listed] == [2, 3, 4]  # oldest first
    assert listed[0].test_counts["SUCCESS"] == 1
    loaded = workspace.load_snapshot(project.id, snapshots[0].id)
    assert loaded.to_dict() == snapshots[0].to_dict()
    workspace.delete_snapshot(project.id, snapshots[0].id)
    assert len(workspace.list_snapshots(project.id)) == 2
    with pytest.raises(NotFound):
        workspace.load_snapshot(project.id, snapshots[0].id)


def test_listing_filters_by_time_and_tags(workspace):
    project = workspace.create_project("Churn")
    for day in range(5):
        workspace.add_snapshot(project.id, _snapshot(day, tags=["prod"] if day >= 2 else ["dev"]))
    since = datetime(2026, 11, 2, tzinfo=UTC)
    until = datetime(2026, 11, 4, tzinfo=UTC)
    assert [
        s.timestamp.day for s in workspace.list_snapshots(project.id, since=since, until=until)
    ] == [2, 3]
    assert len(workspace.list_snapshots(project.id, tags=["prod"])) == 3
    assert (
        len(workspace.list_snapshots(project.id, since="2026-11-04T00:00:00Z")) == 2
    )  # the 4th and 5th


def test_adding_the_same_snapshot_twice_is_idempotent_but_a_different_one_conflicts(workspace):
    project = workspace.create_project("Churn")
    snapshot = _snapshot(1)
    workspace.add_snapshot(project.id, snapshot)
    workspace.add_snapshot(project.id, snapshot)
    assert len(workspace.list_snapshots(project.id)) == 1
    other = _snapshot(1, rows=20)
    other.id = snapshot.id
    with pytest.raises(Conflict):
        workspace.add_snapshot(project.id, other)


def test_a_run_can_be_added_directly(workspace):
    project = workspace.create_project("Churn")
    run = Report([]).run(pd.DataFrame({"x": [1]}))
    assert workspace.add_snapshot(project.id, run) == run.id


def test_unknown_ids_are_not_found(workspace):
    with pytest.raises(NotFound):
        workspace.list_snapshots("not-a-uuid")
    project = workspace.create_project("Churn")
    with pytest.raises(NotFound):
        workspace.delete_snapshot(project.id, "00000000-0000-0000-0000-000000000000")


def test_a_damaged_file_is_reported(workspace):
    project = workspace.create_project("Churn")
    snapshot = _snapshot(1)
    workspace.add_snapshot(project.id, snapshot)
    (workspace.root / project.id / "snapshots" / f"{snapshot.id}.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match="damaged"):
        workspace.list_snapshots(project.id)


def test_a_project_needs_a_name(workspace):
    with pytest.raises(WorkspaceError):
        workspace.create_project("  ")
