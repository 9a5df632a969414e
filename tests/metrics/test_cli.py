"""The `mlp` command line, in-process through `main([...])` and as the installed console script:
inputs, the summary, the snapshot file, exit codes, and pushing to a live platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics import Snapshot
from metrics.client.cli import main
from metrics.presets import PRESETS
from mlplatform.accounts.models import TokenScope
from projects.models import Project
from projects.models import Snapshot as StoredSnapshot
from tests.factories import make_project, make_token

MLP = Path(sys.executable).parent / "mlp"


def make_frame(rows: int, seed: int, *, shift: float = 0.0, age_shift: float = 0.0) -> pd.DataFrame:
    """Customers with a churn label and a model's prediction; `shift` moves every number and adds
    a category, `age_shift` moves one column only."""
    rng = np.random.default_rng(seed)
    plans = ["basic", "plus", "pro", "family"] if shift else ["basic", "plus", "pro"]
    probability = rng.random(rows)
    return pd.DataFrame(
        {
            "customer": np.arange(rows) + seed * 100_000,
            "age": rng.normal(40 + 10 * shift + age_shift, 10, rows).round(1),
            "spend": rng.normal(60 + 15 * shift, 15, rows).round(2),
            "plan": rng.choice(plans, rows),
            "churned": (rng.random(rows) < probability).astype(int),
            "score": probability.round(3),
            "predicted": (probability >= 0.5).astype(int),
        }
    )


@pytest.fixture
def data(tmp_path) -> dict[str, Path]:
    """Reference, a similar batch, a drifted batch, and a batch where only `age` drifted, in CSV
    and Parquet."""
    frames = {
        "reference": make_frame(1000, 1),
        "current": make_frame(1000, 2),
        "drifted": make_frame(1000, 3, shift=3),
        "age_drifted": make_frame(1000, 4, age_shift=15),
    }
    paths = {}
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        paths[name] = tmp_path / f"{name}.csv"
        paths[f"{name}.parquet"] = tmp_path / f"{name}.parquet"
    return paths


@pytest.fixture(autouse=True)
def _no_platform_settings(monkeypatch) -> None:
    # The developer's own MLP_URL and MLP_TOKEN must not leak into these runs.
    monkeypatch.delenv("MLP_URL", raising=False)
    monkeypatch.delenv("MLP_TOKEN", raising=False)


def stability_and_drift(current: Path, reference: Path, *more: str) -> list[str]:
    return [
        "run",
        "--preset",
        "data_stability_tests",
        "--preset",
        "data_drift_tests",
        "--current",
        str(current),
        "--reference",
        str(reference),
        "--id-column",
        "customer",
        *more,
    ]


def run_mlp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user's shell or CI runs it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MLP_", "DJANGO_"))}
    environment.update(env or {})
    return subprocess.run(
        [str(MLP), *args], capture_output=True, text=True, env=environment, timeout=120
    )


# ---- run ----------------------------------------------------------------------------------------


def test_similar_data_passes_and_the_snapshot_file_loads(data, tmp_path, capsys):
    output = tmp_path / "out" / "snapshot.json"
    code = main(
        stability_and_drift(
            data["current"],
            data["reference"],
            "--output",
            str(output),
            "--name",
            "nightly",
            "--tag",
            "prod",
            "--tag",
            "v3",
            "--meta",
            "model=v3",
            "--meta",
            "run=1842",
            "--timestamp",
            "2026-11-28T00:00:00Z",
        )
    )
    out = capsys.readouterr().out
    assert code == 0, out
    snapshot = Snapshot.load(output)
    assert snapshot.name == "nightly"
    assert snapshot.tags == ["prod", "v3"]
    assert snapshot.metadata == {"model": "v3", "run": "1842"}
    assert snapshot.timestamp.isoformat() == "2026-11-28T00:00:00+00:00"
    assert snapshot.test_counts["FAIL"] == snapshot.test_counts["ERROR"] == 0
    assert "customer" not in snapshot.data["column_types"]  # the id column is not a feature
    assert f"{len(snapshot.metrics)} metrics" in out
    assert f"{len(snapshot.tests)} tests: {snapshot.test_counts['SUCCESS']} SUCCESS" in out
    assert f"Snapshot written to {output}" in out


def test_drifted_data_fails_with_each_failed_test_described(data, capsys):
    code = main(stability_and_drift(data["drifted"], data["reference"]))
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL: Share of drifted columns is" in out
    assert "FAIL: New values in 'plan' is 1" in out


def test_parquet_gives_the_same_results_as_csv(data, tmp_path):
    from_csv, from_parquet = tmp_path / "csv.json", tmp_path / "parquet.json"
    assert (
        main(
            [
                *stability_and_drift(data["drifted"], data["reference"]),
                "--quiet",
                "--output",
                str(from_csv),
            ]
        )
        == 1
    )
    assert (
        main(
            [
                *stability_and_drift(data["drifted.parquet"], data["reference.parquet"]),
                "--quiet",
                "--output",
                str(from_parquet),
            ]
        )
        == 1
    )
    csv_tests = {t["id"]: (t["status"], t.get("value")) for t in Snapshot.load(from_csv).tests}
    parquet_tests = {
        t["id"]: (t["status"], t.get("value")) for t in Snapshot.load(from_parquet).tests
    }
    assert csv_tests == parquet_tests


def test_warnings_fail_only_when_asked(data, capsys):
    args = [
        "run",
        "--preset",
        "data_drift_tests",
        "--current",
        str(data["age_drifted"]),
        "--reference",
        str(data["reference"]),
        "--id-column",
        "customer",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 WARNING" in out
    assert "WARNING:" not in out  # warnings are not listed as failures by default
    assert main([*args, "--fail-on", "warning"]) == 1
    assert "WARNING: Drift of 'age'" in capsys.readouterr().out


def test_quiet_prints_nothing(data, capsys):
    assert main([*stability_and_drift(data["drifted"], data["reference"]), "--quiet"]) == 1
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("preset", "expected_metric", "expected_test"),
    [
        ("data_summary", "DatasetSummary", None),
        ("data_drift", "DatasetDrift", None),
        ("classification", "ClassificationQuality", None),
        ("regression", "RegressionQuality", None),
        ("data_stability_tests", None, "TestColumnNewCategories"),
        ("data_quality_tests", None, "TestEmptyRows"),
        ("data_drift_tests", None, "TestShareOfDriftedColumns"),
        ("binary_classification_tests", None, "TestRocAuc"),
        ("multiclass_classification_tests", None, "TestPrecisionByLabel"),
        ("regression_tests", None, "TestRMSE"),
        ("no_target_tests", None, "TestColumnDrift"),
    ],
)
def test_every_preset_name_runs_its_preset(data, tmp_path, preset, expected_metric, expected_test):
    output = tmp_path / "snapshot.json"
    code = main(
        [
            "run",
            "--preset",
            preset,
            "--current",
            str(data["current"]),
            "--reference",
            str(data["reference"]),
            "--id-column",
            "customer",
            "--target",
            "churned",
            "--prediction",
            "predicted",
            "--prediction-probas",
            "score",
            "--pos-label",
            "1",
            "--quiet",
            "--output",
            str(output),
        ]
    )
    snapshot = Snapshot.load(output)
    assert code in (0, 1)
    assert [m["id"] for m in snapshot.metrics if m["status"] == "error"] == []
    if expected_metric:
        assert expected_metric in {m["type"] for m in snapshot.metrics}
    if expected_test:
        assert expected_test in {t["type"] for t in snapshot.tests}
        assert snapshot.test_counts["ERROR"] == 0


def test_the_preset_names_are_the_documented_ones():
    assert set(PRESETS) == {
        "data_summary",
        "data_drift",
        "classification",
        "regression",
        "data_stability_tests",
        "data_quality_tests",
        "data_drift_tests",
        "binary_classification_tests",
        "multiclass_classification_tests",
        "regression_tests",
        "no_target_tests",
    }
    documented = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for name in PRESETS:
        assert f"`{name}`" in documented


def test_a_definition_file_sets_types_and_roles_and_flags_override_it(data, tmp_path):
    definition = tmp_path / "definition.json"
    definition.write_text(
        json.dumps(
            {"id_column": "customer", "target": "not_a_column", "categorical_columns": ["churned"]}
        )
    )
    output = tmp_path / "snapshot.json"
    code = main(
        [
            "run", "--preset", "data_summary", "--current", str(data["current"]),
            "--definition", str(definition), "--target", "churned", "--quiet", "--output", str(output),
        ]
    )  # fmt: skip
    assert code == 0
    document = Snapshot.load(output).data
    assert document["roles"] == {"customer": "id", "churned": "target"}
    assert document["column_types"]["churned"] == "categorical"


def test_dates_in_csv_are_parsed_when_declared(data, tmp_path):
    for name in ("current", "reference"):
        frame = pd.read_csv(data[name])
        frame["signup"] = pd.date_range("2026-01-01", periods=len(frame), freq="h").strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        frame.to_csv(tmp_path / f"{name}-dated.csv", index=False)
    definition = tmp_path / "definition.json"
    definition.write_text(json.dumps({"datetime_columns": ["signup"], "id_column": "customer"}))
    output = tmp_path / "snapshot.json"
    args = ["run", "--preset", "data_summary", "--current", str(tmp_path / "current-dated.csv"),
            "--reference", str(tmp_path / "reference-dated.csv"), "--definition", str(definition)]  # fmt: skip
    assert main([*args, "--quiet", "--output", str(output)]) == 0
    snapshot = Snapshot.load(output)
    assert snapshot.data["column_types"]["signup"] == "datetime"
    summary = snapshot.metric('ColumnSummary(column="signup")')["values"]["current"]
    assert summary["min"] == pd.Timestamp("2026-01-01", tz="UTC").timestamp()


# ---- usage and data errors: exit 2, a message, no traceback --------------------------------------


def usage_error(capsys, args: list[str]) -> str:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.startswith("mlp: error: ")
    return captured.err


def test_a_missing_file_is_a_usage_error(data, capsys):
    err = usage_error(capsys, ["run", "--preset", "data_summary", "--current", "nowhere.csv"])
    assert "The current file nowhere.csv does not exist." in err


def test_an_unknown_preset_lists_the_known_ones(data, capsys):
    err = usage_error(capsys, ["run", "--preset", "data_sumary", "--current", str(data["current"])])
    assert "Unknown preset 'data_sumary'" in err
    assert "data_summary, data_drift" in err


def test_a_column_missing_from_the_data_is_a_usage_error(data, capsys):
    err = usage_error(
        capsys,
        [
            "run",
            "--preset",
            "classification",
            "--current",
            str(data["current"]),
            "--target",
            "label",
        ],
    )
    assert "Column 'label' is in the data definition but not in the current data" in err


def test_different_columns_in_reference_and_current_are_a_usage_error(data, tmp_path, capsys):
    pd.read_csv(data["reference"]).drop(columns="spend").to_csv(
        tmp_path / "narrow.csv", index=False
    )
    err = usage_error(
        capsys,
        [
            "run",
            "--preset",
            "data_drift",
            "--current",
            str(data["current"]),
            "--reference",
            str(tmp_path / "narrow.csv"),
        ],
    )
    assert "only in current: 'spend'" in err


def test_an_unreadable_or_unknown_file_is_a_usage_error(tmp_path, capsys):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    err = usage_error(capsys, ["run", "--preset", "data_summary", "--current", str(broken)])
    assert f"Could not read the current file {broken}" in err
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"")
    err = usage_error(capsys, ["run", "--preset", "data_summary", "--current", str(other)])
    assert "neither CSV" in err


def test_a_declared_date_column_that_is_not_dates_is_a_usage_error(data, tmp_path, capsys):
    definition = tmp_path / "definition.json"
    definition.write_text(json.dumps({"datetime_columns": ["plan"]}))
    err = usage_error(
        capsys,
        [
            "run",
            "--preset",
            "data_summary",
            "--current",
            str(data["current"]),
            "--definition",
            str(definition),
        ],
    )
    assert "Column 'plan' of the current file" in err
    assert "declared datetime but does not hold ISO 8601 dates" in err


def test_an_unknown_definition_field_is_a_usage_error(data, tmp_path, capsys):
    definition = tmp_path / "definition.json"
    definition.write_text(json.dumps({"target_column": "churned"}))
    err = usage_error(
        capsys,
        [
            "run",
            "--preset",
            "data_summary",
            "--current",
            str(data["current"]),
            "--definition",
            str(definition),
        ],
    )
    assert "unknown field 'target_column'" in err
    assert "target, prediction" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--meta", "novalue"], "give KEY=VALUE"),
        (["--timestamp", "yesterday"], "not an ISO 8601 date"),
        (["--fail-on", "error"], "invalid choice: 'error'"),
        (["--push"], "--push needs --project"),
        (["--push", "--project", "5b2f0000-0000-4000-8000-000000000001"], "MLP_URL"),
        (["--tag", ""], "Tags are non-empty strings"),
        (["--batch-id", ""], "--batch-id: batch_id: a batch id has 1 to"),
        (["--batch-id", "a", "--meta", "batch_id=b"], "already names batch 'b'"),
    ],
)
def test_bad_options_are_usage_errors(data, capsys, extra, message):
    err = usage_error(
        capsys, ["run", "--preset", "data_summary", "--current", str(data["current"]), *extra]
    )
    assert message in err


def test_a_file_that_is_not_a_snapshot_cannot_be_pushed(tmp_path, capsys):
    path = tmp_path / "snapshot.json"
    path.write_text('{"schema_version": 1, "id": "nope"}')
    err = usage_error(
        capsys, ["push", str(path), "--project", "x", "--url", "http://127.0.0.1:9", "--token", "t"]
    )
    assert "is not a snapshot: id: 'nope' is not a UUID" in err


# ---- the console script -------------------------------------------------------------------------


def test_the_console_script_runs_with_the_same_exit_codes(data, tmp_path):
    output = tmp_path / "snapshot.json"
    passed = run_mlp(
        *stability_and_drift(
            data["current.parquet"], data["reference.parquet"], "--output", str(output)
        )
    )
    assert passed.returncode == 0, passed.stderr
    assert "tests:" in passed.stdout
    assert Snapshot.load(output).tests
    failed = run_mlp(*stability_and_drift(data["drifted"], data["reference"]))
    assert failed.returncode == 1, failed.stderr
    assert "FAIL: " in failed.stdout
    missing = run_mlp("run", "--preset", "nope", "--current", str(data["current"]))
    assert missing.returncode == 2
    assert missing.stderr.startswith("mlp: error: Unknown preset 'nope'")
    assert run_mlp("--version").stdout.startswith("mlp ")


# ---- the platform -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_run_push_stores_the_snapshot_on_the_platform(live_server, acme, data, capsys):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    code = main(
        stability_and_drift(
            data["drifted"], data["reference"], "--push", "--project", str(project.pk),
            "--url", live_server.url, "--token", secret, "--tag", "ci",
        )
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1  # the tests failed, the push succeeded
    stored = StoredSnapshot.objects.get(project=project)
    assert f"Snapshot {stored.uuid} pushed to project {project.pk}" in out
    assert stored.status == "FAIL"
    assert [t.tag for t in stored.tag_rows.all()] == ["ci"]


@pytest.mark.django_db(transaction=True)
def test_a_report_and_a_suite_of_one_batch_are_linked_by_batch_id(
    live_server, acme, data, tmp_path, capsys
):
    # The report's run pushed by `mlp run`, the suite's saved and pushed later by `mlp push`.
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    server = ["--url", live_server.url, "--token", secret]
    summary = [
        "run", "--preset", "data_summary", "--current", str(data["current"]), "--quiet",
        "--batch-id", "2026-11-28", "--push", "--project", str(project.pk), *server,
    ]  # fmt: skip
    assert main(summary) == 0
    saved = tmp_path / "tests.json"
    assert main([*stability_and_drift(data["current"], data["reference"]), "--output", str(saved), "--quiet"]) == 0  # fmt: skip
    assert "batch_id" not in Snapshot.load(saved).metadata
    assert main(["push", str(saved), "--project", str(project.pk), "--batch-id", "2026-11-28", *server]) == 0  # fmt: skip
    stored = StoredSnapshot.objects.filter(project=project)
    assert sorted(str(s.batch_id) for s in stored) == ["2026-11-28", "2026-11-28"]
    assert stored.count() == 2
    assert main(["push", str(saved), "--project", str(project.pk), "--batch-id", "", *server]) == 2  # fmt: skip
    assert "--batch-id: batch_id: a batch id has 1 to" in capsys.readouterr().err
    assert stored.count() == 2


@pytest.mark.django_db(transaction=True)
def test_push_failures_exit_3_with_the_server_reason(live_server, acme, data, capsys):
    project = make_project(acme, "Churn")
    _, read_secret = make_token(acme, TokenScope.READ)
    code = main(
        stability_and_drift(
            data["current"], data["reference"], "--push", "--project", str(project.pk),
            "--url", live_server.url, "--token", read_secret,
        )
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 3
    assert (
        "Pushing the snapshot failed: This token's scope (read) does not allow that."
        in captured.err
    )
    assert not StoredSnapshot.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_console_script_pushes_lists_and_creates_projects(live_server, acme, data, tmp_path):
    _, secret = make_token(acme, TokenScope.WRITE)
    env = {"MLP_URL": live_server.url, "MLP_TOKEN": secret}

    created = run_mlp("create-project", "Churn model", "--description", "nightly", env=env)
    assert created.returncode == 0, created.stderr
    project = Project.objects.get(organization=acme)
    assert created.stdout == f"{project.pk}\tChurn model\n"
    assert project.description == "nightly"

    snapshot_file = tmp_path / "snapshot.json"
    assert (
        main(
            stability_and_drift(
                data["current"], data["reference"], "--quiet", "--output", str(snapshot_file)
            )
        )
        == 0
    )
    pushed = run_mlp("push", str(snapshot_file), "--project", str(project.pk), env=env)
    assert pushed.returncode == 0, pushed.stderr
    stored = StoredSnapshot.objects.get(project=project)
    assert str(stored.uuid) == Snapshot.load(snapshot_file).id
    again = run_mlp("push", str(snapshot_file), "--project", str(project.pk), env=env)
    assert again.returncode == 0  # the same snapshot again: stored once
    assert StoredSnapshot.objects.filter(project=project).count() == 1

    listed = run_mlp("projects", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == f"{project.pk}\tChurn model\n"

    refused = run_mlp("projects", env={**env, "MLP_TOKEN": "mlp_org_wrong"})
    assert refused.returncode == 3
    assert "Listing the projects failed" in refused.stderr
    assert "Check the token (MLP_TOKEN)" in refused.stderr
