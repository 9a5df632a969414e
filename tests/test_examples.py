"""The examples work as their README says: the daily batch script on generated data (a local
folder), the CI script against a live platform, and the Airflow DAG and GitHub workflow files are
well-formed (Airflow is not installed here, so the DAG is only compiled)."""

from __future__ import annotations

import importlib.util
import os
import py_compile
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from metrics import LocalWorkspace
from mlplatform.accounts.models import TokenScope
from projects.models import Snapshot as StoredSnapshot
from tests.factories import make_project, make_token

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BIN = Path(sys.executable).parent


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sample(tmp_path) -> dict[str, Path]:
    """reference.csv, current.csv and drifted.csv from the examples' own generator."""
    generator = load_module(EXAMPLES / "data" / "make_sample_data.py")
    return generator.make_sample_data(tmp_path / "data")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLP_", "DJANGO_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _java() -> bool:
    import shutil

    return shutil.which("java") is not None


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, env=child_env(**env), timeout=180, cwd=EXAMPLES.parent
    )


def test_the_sample_data_is_small_and_reproducible(sample, tmp_path):
    assert sum(p.stat().st_size for p in sample.values()) < 200_000
    again = load_module(EXAMPLES / "data" / "make_sample_data.py").make_sample_data(
        tmp_path / "again"
    )
    for name, path in sample.items():
        assert path.read_bytes() == again[name].read_bytes()


# ---- daily_batch.py -----------------------------------------------------------------------------


def test_daily_batch_stores_a_snapshot_per_day_locally_and_fails_on_drift(sample, tmp_path):
    folder = tmp_path / "monitoring"
    # {date} in the current path is the day checked.
    dated = sample["current"].with_name("current-2026-11-27.csv")
    sample["current"].rename(dated)
    script = str(EXAMPLES / "daily_batch.py")

    passed = run(
        [sys.executable, script, str(dated.with_name("current-{date}.csv")), str(sample["reference"]),
         "--local", str(folder), "--date", "2026-11-27"]
    )  # fmt: skip
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "FAIL" not in passed.stdout

    drifted = run(
        [sys.executable, script, str(sample["drifted"]), str(sample["reference"]),
         "--local", str(folder), "--date", "2026-11-28"]
    )  # fmt: skip
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert "FAIL: New values in 'plan' is 1" in drifted.stdout

    workspace = LocalWorkspace(folder)
    [project] = workspace.list_projects()  # found by name the second time, not created again
    assert project.name == "Daily batch"
    listed = workspace.list_snapshots(project.id)
    assert [s.timestamp for s in listed] == [
        datetime(2026, 11, 27, tzinfo=UTC),
        datetime(2026, 11, 28, tzinfo=UTC),
    ]
    assert [s.test_counts["FAIL"] == 0 for s in listed] == [True, False]
    assert listed[0].metadata["source"] == "current-2026-11-27.csv"
    snapshot = workspace.load_snapshot(project.id, listed[1].id)
    types = {m["type"] for m in snapshot.metrics}
    assert {"DatasetSummary", "DatasetDrift", "ColumnDistribution"} <= types
    assert "customer_id" not in snapshot.data["column_types"]


def test_daily_batch_reports_bad_input_with_exit_code_2(sample, tmp_path):
    missing = run(
        [sys.executable, str(EXAMPLES / "daily_batch.py"), str(tmp_path / "nope.csv"),
         str(sample["reference"]), "--local", str(tmp_path / "monitoring")]
    )  # fmt: skip
    assert missing.returncode == 2
    assert "nope.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
    no_project = run([sys.executable, str(EXAMPLES / "daily_batch.py"), "a.csv", "b.csv"])
    assert no_project.returncode == 2
    assert "--project is required" in no_project.stderr


def test_monitor_is_importable_for_the_dag(sample, tmp_path):
    daily_batch = load_module(EXAMPLES / "daily_batch.py")
    workspace = LocalWorkspace(tmp_path / "monitoring")
    project = workspace.create_project("Churn")
    day = datetime(2026, 11, 27, tzinfo=UTC).date()
    run_ = daily_batch.monitor(
        sample["current"], sample["reference"], project.id, workspace, day=day
    )
    assert run_.passed
    [stored] = workspace.list_snapshots(project.id)
    assert stored.id == run_.id
    assert stored.name == "daily batch 2026-11-27"


# ---- ci/validate_data.sh ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_ci_script_passes_clean_data_and_fails_drifted_data(
    live_server, acme, sample, tmp_path
):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    env = {
        "MLP_URL": live_server.url,
        "MLP_TOKEN": secret,
        "MLP_PROJECT": str(project.pk),
        "MLP": str(BIN / "mlp"),
        "SNAPSHOT_PATH": str(tmp_path / "snapshot.json"),
        "GITHUB_SHA": "abc123",
    }
    script = ["bash", str(EXAMPLES / "ci" / "validate_data.sh")]

    clean = run(
        [*script, str(sample["current"]), str(sample["reference"]), "--id-column", "customer_id"],
        **env,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Data validation passed." in clean.stdout

    drifted = run(
        [*script, str(sample["drifted"]), str(sample["reference"]), "--id-column", "customer_id"],
        **env,
    )
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert "::error::Data validation failed" in drifted.stdout
    assert (tmp_path / "snapshot.json").exists()

    stored = list(StoredSnapshot.objects.filter(project=project).order_by("created_at"))
    assert len(stored) == 2
    assert stored[0].status in ("SUCCESS", "WARNING")  # warnings do not fail the step
    assert stored[1].status == "FAIL"
    assert all(s.metadata["commit"] == "abc123" for s in stored)
    assert [s.metadata["current"] for s in stored] == ["current.csv", "drifted.csv"]


def test_the_ci_script_needs_a_project(sample):
    result = run(
        [
            "bash",
            str(EXAMPLES / "ci" / "validate_data.sh"),
            str(sample["current"]),
            str(sample["reference"]),
        ]
    )
    assert result.returncode != 0
    assert "set MLP_PROJECT" in result.stderr


def test_the_ci_script_passes_on_usage_errors_as_exit_code_2(sample):
    result = run(
        ["bash", str(EXAMPLES / "ci" / "validate_data.sh"), "missing.csv", str(sample["reference"])],
        MLP_PROJECT="5b2f0000-0000-4000-8000-000000000001", MLP_URL="http://127.0.0.1:9", MLP_TOKEN="t",
    )  # fmt: skip
    assert result.returncode == 2
    assert "The current file missing.csv does not exist." in result.stderr
    assert "::error::Data validation could not run" in result.stdout


# ---- files that are not run here ----------------------------------------------------------------


def test_the_airflow_dag_compiles(tmp_path):
    py_compile.compile(
        str(EXAMPLES / "airflow_dag.py"), cfile=str(tmp_path / "dag.pyc"), doraise=True
    )


def test_the_github_workflow_runs_the_ci_script():
    workflow = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"pull_request", "schedule"} <= set(triggers)
    steps = workflow["jobs"]["validate"]["steps"]
    validate = next(s for s in steps if "validate_data.sh" in s.get("run", ""))
    assert set(validate["env"]) >= {"MLP_URL", "MLP_TOKEN", "MLP_PROJECT"}
    assert "secrets.MLP_TOKEN" in validate["env"]["MLP_TOKEN"]


@pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or not (os.environ.get("JAVA_HOME") or _java()),
    reason="needs pyspark and Java",
)
def test_the_spark_job_pushes_a_day_and_fails_on_drift(live_server, acme, sample, tmp_path):
    import pandas as pd

    project = make_project(acme, "Lake")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    folders = {}
    for name in ("reference", "current", "drifted"):
        folder = tmp_path / "lake" / name
        folder.mkdir(parents=True)
        frame = pd.read_csv(sample[name])
        half = len(frame) // 2
        frame.iloc[:half].to_parquet(folder / "part-0.parquet", index=False)
        frame.iloc[half:].to_parquet(folder / "part-1.parquet", index=False)
        folders[name] = folder
    env = {"MLP_URL": live_server.url, "MLP_TOKEN": secret}
    job = [str(BIN / "python"), str(EXAMPLES / "spark_daily_job.py"), "--master", "local[2]"]
    common = ["--reference", str(folders["reference"]), "--project", str(project.pk)]

    clean = run(
        [*job, "--current", str(folders["current"]), *common, "--date", "2026-12-01"], **env
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr[-3000:]
    drifted = run(
        [*job, "--current", str(folders["drifted"]), *common, "--date", "2026-12-02"], **env
    )
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr[-3000:]
    stored = list(StoredSnapshot.objects.filter(project=project).order_by("timestamp"))
    assert [s.timestamp.date().isoformat() for s in stored] == ["2026-12-01", "2026-12-02"]
    assert all(s.metadata["batch_id"].startswith("daily-") for s in stored)
