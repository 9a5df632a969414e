"""RemoteWorkspace against the real platform (pytest-django's live server, a real threaded HTTP
server on the test database): the snapshot of every preset of the metrics library is pushed,
listed, loaded back unchanged, and its values read back as series points; retries are idempotent;
errors come back as the workspace's exceptions with the server's words."""

from __future__ import annotations

import copy
import inspect
import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from metrics import DataDefinition, Report
from metrics import presets as preset_module
from metrics.client import remote as remote_module
from metrics.client.remote import RemoteError, RemoteWorkspace
from metrics.core.snapshot import Snapshot
from metrics.workspaces.base import (
    AuthenticationFailed,
    Conflict,
    InvalidSnapshot,
    NotFound,
    PermissionDenied,
)
from mlplatform.accounts.models import TokenScope
from projects.models import MetricPoint
from projects.models import Snapshot as StoredSnapshot
from tests.factories import make_org, make_project, make_token, make_user

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 11, 1, tzinfo=UTC)
WORDS = [
    "the", "service", "was", "fast", "slow", "friendly", "rude", "cheap", "expensive", "great",
    "awful", "support", "delivery", "app", "price", "quality",
]  # fmt: skip


# ---- synthetic data for each kind of preset -----------------------------------------------------


def tabular(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, rows).round(1),
            "income": rng.lognormal(10, 0.5, rows).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
            "active": rng.choice([True, False], rows),
        }
    )


def binary(rows: int, seed: int) -> pd.DataFrame:
    frame = tabular(rows, seed)
    rng = np.random.default_rng(seed + 100)
    probability = 1 / (1 + np.exp(-(frame["age"] - 40) / 8))
    frame["target"] = (rng.random(rows) < probability).astype(int)
    frame["proba"] = np.clip(probability + rng.normal(0, 0.1, rows), 0, 1).round(4)
    frame["prediction"] = (frame["proba"] >= 0.5).astype(int)
    return frame


def multiclass(rows: int, seed: int) -> pd.DataFrame:
    frame = tabular(rows, seed)
    rng = np.random.default_rng(seed + 200)
    probas = rng.dirichlet([2, 2, 2], rows)
    labels = np.array(["a", "b", "c"])
    frame["target"] = labels[[rng.choice(3, p=p) for p in probas]]
    for index, label in enumerate(labels):
        frame[label] = probas[:, index]
    frame["prediction"] = labels[probas.argmax(axis=1)]
    return frame


def regression(rows: int, seed: int) -> pd.DataFrame:
    frame = tabular(rows, seed)
    rng = np.random.default_rng(seed + 300)
    frame["target"] = (frame["age"] * 2 + rng.normal(0, 5, rows)).round(2)
    frame["prediction"] = (frame["age"] * 2 + rng.normal(0, 6, rows)).round(2)
    return frame


def ranking(users: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        for item in rng.choice(40, 10, replace=False):
            rows.append(
                {
                    "user": f"u{user}",
                    "item": f"i{item}",
                    "score": round(float(rng.random()), 4),
                    "relevance": int(rng.random() < 0.3),
                    "genre_a": float(item % 3 == 0),
                    "genre_b": float(item % 2),
                }
            )
    return pd.DataFrame(rows)


def text(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = tabular(rows, seed)
    frame["review"] = [" ".join(rng.choice(WORDS, rng.integers(4, 12))) + "." for _ in range(rows)]
    return frame


def preset_cases() -> list[
    tuple[str, list[Any], tuple[pd.DataFrame, pd.DataFrame], DataDefinition]
]:
    """(name, items, (reference, current), definition) for every preset."""
    p = preset_module
    table = (tabular(400, 1), tabular(500, 2, shift=2))
    labelled = (binary(400, 3), binary(500, 4))
    classes = (multiclass(400, 5), multiclass(500, 6))
    values = (regression(400, 7), regression(500, 8))
    lists = (ranking(30, 9), ranking(40, 10))
    texts = (text(150, 11), text(200, 12))
    unlabelled = (labelled[0].drop(columns="target"), labelled[1].drop(columns="target"))
    plain = DataDefinition()
    binary_roles = DataDefinition(
        target="target", prediction="prediction", prediction_probas="proba"
    )
    multi_roles = DataDefinition(
        target="target", prediction="prediction", prediction_probas=["a", "b", "c"]
    )
    regression_roles = DataDefinition(target="target", prediction="prediction")
    ranking_roles = DataDefinition(
        user_id="user", item_id="item", prediction="score", target="relevance"
    )
    text_roles = DataDefinition(text_columns=["review"])
    no_target_roles = DataDefinition(prediction="prediction", prediction_probas="proba")
    features = ["genre_a", "genre_b"]
    return [
        ("data-summary", [p.DataSummaryPreset()], table, plain),
        ("data-drift", [p.DataDriftPreset()], table, plain),
        ("classification", [p.ClassificationPreset()], labelled, binary_roles),
        (
            "multiclass",
            [p.ClassificationPreset(), p.MulticlassClassificationTestPreset()],
            classes,
            multi_roles,
        ),
        ("regression", [p.RegressionPreset()], values, regression_roles),
        ("ranking", [p.RankingPreset(k=5, item_features=features)], lists, ranking_roles),
        ("text-evals", [p.TextEvalsPreset(columns=["review"])], texts, text_roles),
        ("data-stability-tests", [p.DataStabilityTestPreset()], table, plain),
        ("data-quality-tests", [p.DataQualityTestPreset()], table, plain),
        ("data-drift-tests", [p.DataDriftTestPreset()], table, plain),
        ("binary-tests", [p.BinaryClassificationTestPreset()], labelled, binary_roles),
        (
            "binary-top-k-tests",
            [p.BinaryClassificationTopKTestPreset(k=50)],
            labelled,
            binary_roles,
        ),
        ("regression-tests", [p.RegressionTestPreset()], values, regression_roles),
        ("ranking-tests", [p.RankingTestPreset(k=5)], lists, ranking_roles),
        ("no-target-tests", [p.NoTargetPerformanceTestPreset()], unlabelled, no_target_roles),
        ("text-evals-tests", [p.TextEvalsTestPreset(columns=["review"])], texts, text_roles),
        (
            "segmented",
            [
                p.Segmented(
                    [p.DataSummaryPreset(correlations=False), p.DataQualityTestPreset()], by="plan"
                )
            ],
            table,
            plain,
        ),
    ]


def every_preset_class() -> set[type]:
    return {
        cls
        for _, cls in inspect.getmembers(preset_module, inspect.isclass)
        if cls.__module__ == preset_module.__name__
        and (hasattr(cls, "metrics") or hasattr(cls, "tests"))
    }


@pytest.fixture(scope="module")
def snapshots() -> list[Snapshot]:
    """One snapshot per case, a day apart, tagged with the case's name."""
    found = []
    for day, (name, items, (reference, current), definition) in enumerate(preset_cases()):
        run = Report(items, definition=definition, progress=False).run(
            current,
            reference,
            name=f"{name} run",
            tags=["e2e", name],
            metadata={"case": name, "day": day},
            timestamp=START + timedelta(days=day),
        )
        found.append(run.snapshot())
    return found


def test_the_cases_cover_every_preset_of_the_library():
    used = {type(item) for _, items, _, _ in preset_cases() for item in items}
    assert every_preset_class() - used == set()


def test_every_case_computes_cleanly(snapshots):
    # A metric error would push an "error" entry with no values: the round trip below would then
    # check less than it seems to.
    for snapshot in snapshots:
        assert snapshot.metrics
        broken = [(m["id"], m.get("reason")) for m in snapshot.metrics if m["status"] != "ok"]
        assert broken == [], snapshot.name


# ---- the platform -------------------------------------------------------------------------------


def api_get(base: str, secret: str, path: str, query: dict[str, Any] | None = None) -> Any:
    """A plain GET, independent of the client under test."""
    url = f"{base}/api/v1{path}" + (
        f"?{urllib.parse.urlencode(query, doseq=True)}" if query else ""
    )
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def numbers(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number of a metric's values by field path (booleans as 0/1), as the platform stores."""
    found: dict[str, float] = {}
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            found.update(numbers(value, path))
        elif isinstance(value, (bool, int, float)):
            found[path] = float(value)
    return found


def test_every_preset_round_trips_through_the_platform(
    live_server, acme, alice, snapshots, monkeypatch
):
    # A small page size, so that listing follows the server's own cursors several times.
    monkeypatch.setattr(remote_module, "PAGE_SIZE", 5)
    _, secret = make_token(acme, TokenScope.WRITE)
    workspace = RemoteWorkspace(live_server.url, secret, backoff=0.05)

    project = workspace.create_project("Every preset", "one snapshot per preset")
    assert workspace.get_project(project.id).name == "Every preset"
    assert [p.name for p in workspace.list_projects()] == ["Every preset"]

    for snapshot in snapshots:
        assert workspace.add_snapshot(project.id, snapshot) == snapshot.id
    assert StoredSnapshot.objects.filter(project_id=project.id).count() == len(snapshots)

    # Listed oldest first, with their labels and test counts.
    listed = workspace.list_snapshots(project.id)
    assert [s.id for s in listed] == [s.id for s in snapshots]
    for info, snapshot in zip(listed, snapshots, strict=True):
        assert info.timestamp == snapshot.timestamp
        assert info.name == snapshot.name
        assert info.tags == sorted(snapshot.tags)
        assert info.metadata == snapshot.metadata
        assert info.test_counts == snapshot.test_counts
    # Filters: a tag, and a time window [since, until).
    assert [s.name for s in workspace.list_snapshots(project.id, tags=["e2e", "ranking"])] == [
        "ranking run"
    ]
    window = workspace.list_snapshots(
        project.id, since=START + timedelta(days=2), until=START + timedelta(days=5)
    )
    assert [s.id for s in window] == [s.id for s in snapshots[2:5]]

    # Loaded back unchanged.
    for snapshot in snapshots:
        assert workspace.load_snapshot(project.id, snapshot.id).to_dict() == snapshot.to_dict()

    # Every number of every metric, read back as series points.
    expected = {
        (metric["id"], path, snapshot.id): value
        for snapshot in snapshots
        for metric in snapshot.metrics
        for path, value in numbers(metric["values"]).items()
    }
    assert len(expected) > 1000
    series = {
        (entry["metric"], one["field"]): one["id"]
        for entry in api_get(live_server.url, secret, f"/projects/{project.id}/metrics")
        for one in entry["fields"]
    }
    assert set(series) == {(metric, path) for metric, path, _ in expected}
    found: dict[tuple[str, str, str], float] = {}
    ids = sorted(series.values())
    for start in range(0, len(ids), 20):  # the API reads at most 20 series per request
        answer = api_get(
            live_server.url,
            secret,
            f"/projects/{project.id}/series",
            {"id": ids[start : start + 20]},
        )
        for one in answer["series"]:
            assert not one["downsampled"]
            points = one["points"]
            for value, snapshot_id in zip(points["v"], points["snapshot"], strict=True):
                found[(one["metric"], one["field"], snapshot_id)] = value
    assert found == expected

    # Pushing the same snapshot again (a retry) changes nothing; another body with its id conflicts.
    points_before = MetricPoint.objects.count()
    assert workspace.add_snapshot(project.id, snapshots[0]) == snapshots[0].id
    assert len(workspace.list_snapshots(project.id)) == len(snapshots)
    assert MetricPoint.objects.count() == points_before
    changed = copy.deepcopy(snapshots[0])
    changed.metadata = {**changed.metadata, "case": "something else"}
    with pytest.raises(Conflict, match="already exists in this project with a different body"):
        workspace.add_snapshot(project.id, changed)

    # No token may delete (only owners and admins, signed in): the server's reason comes back.
    gone = snapshots[3]
    with pytest.raises(
        PermissionDenied, match="Only owners and admins can archive or delete"
    ) as caught:
        workspace.delete_snapshot(project.id, gone.id)
    assert isinstance(caught.value, RemoteError)  # the remote kind: with its status and code
    assert caught.value.status == 403
    # The owner deletes it (signed in), and the workspace no longer finds it.
    from rest_framework.test import APIClient

    owner = APIClient()
    owner.force_login(alice)
    assert owner.delete(f"/api/v1/projects/{project.id}/snapshots/{gone.id}").status_code == 204
    with pytest.raises(NotFound):
        workspace.load_snapshot(project.id, gone.id)
    assert gone.id not in [s.id for s in workspace.list_snapshots(project.id)]


def test_a_snapshot_over_a_megabyte_travels_gzipped_and_comes_back_whole(
    live_server, acme, snapshots
):
    project = make_project(acme, "Big")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    big = copy.deepcopy(snapshots[0])
    big.metrics[0]["details"]["padding"] = [f"row {i} " + "x" * 40 for i in range(40_000)]
    assert len(big.json().encode()) > 1.5 * 1024 * 1024  # over the 1 MiB limit of other bodies
    ingest = RemoteWorkspace(live_server.url, secret)
    assert ingest.add_snapshot(str(project.pk), big) == big.id
    stored = StoredSnapshot.objects.get(project=project)
    assert stored.size_bytes == len(big.json().encode())  # the size unzipped
    _, reader = make_token(acme, TokenScope.READ)
    loaded = RemoteWorkspace(live_server.url, reader).load_snapshot(str(project.pk), big.id)
    assert loaded.to_dict() == big.to_dict()


def test_errors_come_back_as_the_workspace_exceptions(live_server, acme, snapshots):
    project = make_project(acme, "Churn")
    project_id = str(project.pk)
    _, ingest_secret = make_token(acme, TokenScope.INGEST, project=project)
    _, read_secret = make_token(acme, TokenScope.READ)

    with pytest.raises(AuthenticationFailed) as caught:
        RemoteWorkspace(live_server.url, "mlp_org_not-a-real-token").list_snapshots(project_id)
    assert isinstance(caught.value, RemoteError)  # the remote kind: with its status and code
    assert caught.value.status == 401
    assert "MLP_TOKEN" in str(caught.value)

    ingest = RemoteWorkspace(live_server.url, ingest_secret)
    with pytest.raises(PermissionDenied, match="An ingest token can only push data to its project"):
        ingest.list_snapshots(project_id)
    with pytest.raises(PermissionDenied, match="does not allow that"):
        RemoteWorkspace(live_server.url, read_secret).add_snapshot(project_id, snapshots[0])

    invalid = copy.deepcopy(snapshots[0])
    invalid.metadata = {"nested": {"not": "allowed"}}
    with pytest.raises(InvalidSnapshot) as caught:
        ingest.add_snapshot(project_id, invalid)
    assert isinstance(caught.value, RemoteError)  # the remote kind: with its status and code
    assert caught.value.status == 400
    assert caught.value.code == "validation_error"
    assert "metadata.nested" in caught.value.fields
    assert not StoredSnapshot.objects.exists()

    # Another organisation's project does not exist, as far as this token can tell.
    globex = make_org("Globex", make_user("charlie@example.com"))
    _, outsider = make_token(globex, TokenScope.WRITE)
    with pytest.raises(NotFound, match="No such project"):
        RemoteWorkspace(live_server.url, outsider).add_snapshot(project_id, snapshots[0])
    with pytest.raises(NotFound):
        RemoteWorkspace(live_server.url, outsider).get_project(project_id)


def test_a_snapshot_document_pushes_like_the_snapshot(live_server, acme, snapshots):
    """`add_snapshot` takes a snapshot document (a dict, as `Snapshot.dict()` or a stored file
    gives it), as docs/metrics.md says."""
    project = make_project(acme, "Documents")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    document = snapshots[0].to_dict()
    workspace = RemoteWorkspace(live_server.url, secret)
    assert workspace.add_snapshot(str(project.pk), document) == document["id"]
    stored = StoredSnapshot.objects.get(project=project)
    assert str(stored.uuid) == document["id"]
    with pytest.raises(TypeError, match="snapshot document"):
        workspace.add_snapshot(str(project.pk), ["not", "a", "snapshot"])


def test_the_exceptions_the_docs_name_come_from_metrics():
    import metrics

    for name in (
        "WorkspaceError", "NotFound", "Conflict", "AuthenticationFailed", "PermissionDenied",
        "InvalidSnapshot", "RemoteError", "SnapshotError", "MetricError", "MissingLabels",
        "DataDefinitionError",
    ):  # fmt: skip
        assert isinstance(getattr(metrics, name), type), name
    assert metrics.NotFound is NotFound
    assert metrics.InvalidSnapshot is InvalidSnapshot
