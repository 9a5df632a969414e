"""`mlp import-evidently PATH --project ID` uploads a local Evidently workspace folder's snapshots
to a live server of ours, with a progress bar on stderr; a second run stores nothing new; a
missing or invalid folder is a clear usage error before anything is sent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evidently_compat.translation import translate
from metrics.client import cli
from mlplatform.accounts.models import TokenScope
from projects.models import MetricPoint, Snapshot, TestOutcome
from tests.evidently_compat.conftest import FIXTURES, RUNS, dump, run_side
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db(transaction=True)

EVIDENTLY_PROJECT = "0195e6b8-3f0c-7a51-b2a4-6f1d2c3b4a59"


def workspace_from_fixtures(root: Path) -> Path:
    """An Evidently 0.7 workspace folder as its `Workspace` lays it out, holding the fixtures."""
    project = root / EVIDENTLY_PROJECT
    (project / "snapshots").mkdir(parents=True)
    (project / "metadata.json").write_text(json.dumps({"id": EVIDENTLY_PROJECT, "name": "Local"}))
    for index, name in enumerate(RUNS):
        shutil.copy(FIXTURES / f"{name}.json", project / "snapshots" / f"0195e6b8-{index:04}.json")
    return root


def counts(project) -> tuple[int, int, int]:
    snapshots = Snapshot.objects.filter(project=project)
    return (
        snapshots.count(),
        MetricPoint.objects.filter(snapshot_id__in=snapshots.values("pk")).count(),
        TestOutcome.objects.filter(snapshot__in=snapshots).count(),
    )


def test_it_imports_a_workspace_once_however_often_it_runs(live_server, acme, tmp_path, capsys):
    project = make_project(acme, "Imported")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    folder = workspace_from_fixtures(tmp_path / "workspace")
    argv = ["import-evidently", str(folder), "--project", str(project.pk)]
    argv += ["--url", live_server.url, "--token", secret]
    assert cli.main(argv) == cli.EXIT_OK
    captured = capsys.readouterr()
    assert "5 snapshots: 5 new, 0 already in project" in captured.out
    assert "Importing [" in captured.err
    assert "5/5" in captured.err
    stored = set(Snapshot.objects.filter(project=project).values_list("uuid", flat=True))
    assert {str(u) for u in stored} == {translate(dump(name))["id"] for name in RUNS}
    first = counts(project)
    assert first[1] > 100
    assert first[2] > 50
    # Again: nothing new.
    assert cli.main(argv) == cli.EXIT_OK
    assert "5 snapshots: 0 new, 5 already in project" in capsys.readouterr().out
    assert counts(project) == first
    # One project's folder works too.
    assert cli.main([*argv[:1], str(folder / EVIDENTLY_PROJECT), *argv[2:]]) == cli.EXIT_OK
    assert counts(project) == first


def test_a_workspace_made_by_evidentlys_own_client(
    live_server, acme, tmp_path, capsys, evidently_python
):
    project = make_project(acme, "From Evidently")
    _, secret = make_token(acme, TokenScope.WRITE)
    run_side(evidently_python, "workspace", str(tmp_path / "ws"))
    argv = ["import-evidently", str(tmp_path / "ws"), "--project", str(project.pk)]
    argv += ["--url", live_server.url, "--token", secret, "--quiet"]
    assert cli.main(argv) == cli.EXIT_OK
    first = counts(project)
    assert first[0] == 5
    assert cli.main(argv) == cli.EXIT_OK
    assert counts(project) == first
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda root: root / "nowhere", "does not exist"),
        (lambda root: (root / "f.json").write_text("{}") and root / "f.json", "is not a folder"),
        (lambda root: root, "is not an Evidently workspace"),
        (
            lambda root: (root / "p" / "snapshots").mkdir(parents=True) or root,
            "without any snapshot",
        ),
        (
            lambda root: (
                (root / "p" / "snapshots").mkdir(parents=True)
                or ((root / "p" / "snapshots" / "s.json").write_text("{not json") and root)
            ),
            "s.json is not JSON",
        ),
        (
            lambda root: (
                (root / "p" / "snapshots").mkdir(parents=True)
                or ((root / "p" / "snapshots" / "s.json").write_text('{"metrics": []}') and root)
            ),
            "is not an Evidently snapshot",
        ),
    ],
)
def test_a_missing_or_invalid_folder_is_a_usage_error(acme, tmp_path, capsys, make, words):
    project = make_project(acme, "P")
    path = make(tmp_path)
    argv = ["import-evidently", str(path), "--project", str(project.pk)]
    argv += ["--url", "http://127.0.0.1:9", "--token", "mlp_org_x"]  # never reached
    assert cli.main(argv) == cli.EXIT_USAGE
    assert words in capsys.readouterr().err
    assert not Snapshot.objects.exists()
