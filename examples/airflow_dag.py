"""An Airflow DAG (Airflow 2.x or 3.x) that runs the daily batch check every morning.

Copy this file and daily_batch.py into the DAGs folder, install the ``metrics`` library (the
``mlplatform`` package) in the workers' environment, and set, as environment variables of the
workers or as Airflow Variables of the same names:

- ``MLP_URL``, ``MLP_TOKEN``: the platform and an ingest token for the project (keep the token in
  a secrets backend; Airflow Variables named like secrets are masked in logs);
- ``MONITOR_PROJECT_ID``: the project;
- ``MONITOR_CURRENT``: the day's data, with ``{date}`` for the day, e.g.
  ``/data/churn/scored/{date}.parquet``;
- ``MONITOR_REFERENCE``: the reference data, e.g. ``/data/churn/training.parquet``.

The schedule is a `CronDataIntervalTimetable`: each run covers one day (its data interval) and runs
once the day is over, and the logical date is the start of that day in Airflow 2 and 3 alike (with a
plain cron string, Airflow 3 dates runs at the time they run instead). A backfill or a cleared run
checks the day it stands for, not today. Failed data tests fail the task without retries: running
the same checks on the same data again would fail again.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task

try:  # newer Airflow 3 releases export it from the task SDK
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 2, and Airflow 3 before that
    from airflow.timetables.interval import CronDataIntervalTimetable

from airflow.exceptions import AirflowFailException


def _setting(name: str) -> str:
    """An environment variable of the worker, else the Airflow Variable of the same name."""
    value = os.environ.get(name)
    if value:
        return value
    try:
        from airflow.sdk import Variable  # Airflow 3
    except ImportError:
        from airflow.models import Variable  # Airflow 2
    return Variable.get(name)


@dag(
    dag_id="data_monitoring_daily",
    schedule=CronDataIntervalTimetable("0 5 * * *", timezone="UTC"),  # at 05:00, for the day before
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["monitoring"],
)
def data_monitoring_daily() -> None:
    @task
    def check_day(logical_date: datetime | None = None) -> dict[str, int]:
        # Imported here, not at the top: the scheduler parses this file often, and the library
        # (pandas, SciPy) is only needed when the task runs.
        from daily_batch import monitor

        from metrics import RemoteWorkspace

        if logical_date is None:
            raise AirflowFailException("This task needs the run's logical date.")
        workspace = RemoteWorkspace(_setting("MLP_URL"), _setting("MLP_TOKEN"))
        run = monitor(
            _setting("MONITOR_CURRENT"),
            _setting("MONITOR_REFERENCE"),
            _setting("MONITOR_PROJECT_ID"),
            workspace,
            day=logical_date.date(),
        )
        if not run.passed:
            failed = [t.description for t in run.tests if str(t.status) in ("FAIL", "ERROR")]
            raise AirflowFailException(
                f"{len(failed)} data tests failed for {logical_date.date()}:\n" + "\n".join(failed)
            )
        return run.test_counts  # kept as the task's XCom, shown in the UI

    check_day()


data_monitoring_daily()
