"""Daily batch monitoring: check yesterday's data against a reference and keep the snapshot.

Runs the data summary, the drift report and the stability tests over one day of data in one
snapshot, stores it in a project (on the platform, or in a local folder), prints a summary and
exits non-zero when a test failed, so a scheduler marks the day red.

    # On the platform (MLP_URL and MLP_TOKEN in the environment; an ingest token is enough):
    python examples/daily_batch.py "data/{date}.parquet" data/reference.parquet --project $PROJECT_ID

    # In a local folder, no server (creates a project named "Daily batch" the first time):
    python examples/daily_batch.py data/current.csv data/reference.csv --local monitoring/

``{date}`` in the current path is replaced by the day checked (``--date``, default yesterday in UTC,
as YYYY-MM-DD). Files are CSV or Parquet. The Airflow DAG next to this file (airflow_dag.py)
imports `monitor` and calls it with the run's logical date.

Exit codes: 0 the tests passed (warnings allowed), 1 a test failed or errored, 2 bad arguments or
data, 3 the snapshot could not be stored.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from metrics import (
    DataDefinition,
    DataDefinitionError,
    DataDriftPreset,
    DataStabilityTestPreset,
    DataSummaryPreset,
    LocalWorkspace,
    RemoteWorkspace,
    Report,
    Run,
    Workspace,
    WorkspaceError,
)

# What identifies a row: not a feature, so neither summarised nor checked for drift.
DEFINITION = DataDefinition(id_column="customer_id")
DEFAULT_PROJECT_NAME = "Daily batch"


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def monitor(
    current_path: str | Path,
    reference_path: str | Path,
    project_id: str,
    workspace: Workspace,
    *,
    day: date | None = None,
    definition: DataDefinition = DEFINITION,
) -> Run:
    """Check one day's data against the reference and store the snapshot in the project.

    `current_path` may hold ``{date}``, replaced by the day (default: yesterday, UTC). The snapshot
    is dated at the start of that day, so dashboards plot it there whenever the job ran. Returns
    the run: ``run.passed`` says whether every test passed.
    """
    day = day or yesterday()
    current_file = str(current_path).format(date=day.isoformat())
    current = read_table(current_file)
    reference = read_table(reference_path)
    run = Report(
        [DataSummaryPreset(), DataDriftPreset(), DataStabilityTestPreset()],
        definition=definition,
        progress=False,
    ).run(
        current,
        reference,
        name=f"daily batch {day.isoformat()}",
        tags=["daily"],
        metadata={"day": day.isoformat(), "rows": len(current), "source": Path(current_file).name},
        timestamp=datetime.combine(day, time(), tzinfo=UTC),
    )
    # Pushing is retried by RemoteWorkspace on transient errors; the snapshot's id makes a
    # repeated push harmless.
    workspace.add_snapshot(project_id, run)
    return run


def local_project(workspace: LocalWorkspace, name: str) -> str:
    """The id of the local project with this name, created the first time."""
    for project in workspace.list_projects():
        if project.name == name:
            return project.id
    return workspace.create_project(name, "daily batch monitoring").id


def summary(run: Run) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in run.test_counts.items() if n)
    lines = [f"{len(run.results)} metrics, {len(run.tests)} tests: {counts}"]
    for test in run.tests:
        if str(test.status) in ("FAIL", "ERROR"):
            lines.append(f"  {test.status}: {test.description}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a day of data against a reference.")
    parser.add_argument("current", help="the day's data; {date} is replaced by the day")
    parser.add_argument("reference", help="the reference data (e.g. the training set)")
    parser.add_argument("--date", type=date.fromisoformat, help="the day (default: yesterday)")
    parser.add_argument("--project", help="the project id (required on the platform)")
    parser.add_argument("--local", metavar="DIR", help="store in a local folder, not the platform")
    parser.add_argument("--project-name", default=DEFAULT_PROJECT_NAME, help="with --local")
    parser.add_argument("--url", help="the platform's address (default: $MLP_URL)")
    parser.add_argument("--token", help="an API token (default: $MLP_TOKEN)")
    args = parser.parse_args(argv)

    workspace: Workspace
    try:
        if args.local:
            workspace = LocalWorkspace(args.local)
            project_id = args.project or local_project(workspace, args.project_name)
        else:
            if not args.project:
                parser.error("--project is required unless --local is given")
            workspace = RemoteWorkspace(args.url, args.token)
            project_id = args.project
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    try:
        run = monitor(args.current, args.reference, project_id, workspace, day=args.date)
    except (OSError, ValueError, DataDefinitionError) as exc:  # missing file, unreadable data
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WorkspaceError as exc:
        print(f"error: the snapshot was not stored: {exc}", file=sys.stderr)
        return 3
    print(summary(run))
    print(f"Snapshot {run.id} stored in project {project_id}")
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
