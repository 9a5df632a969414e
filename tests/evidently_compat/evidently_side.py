"""Runs under Evidently 0.7.23 in its own virtual environment (scripts/evidently-venv), never in
ours: the real Evidently client's side of the compatibility tests and fixtures.

    python evidently_side.py push URL SECRET     runs every report, pushes each with RemoteWorkspace
    python evidently_side.py cloud URL TOKEN     one report through CloudWorkspace's login
    python evidently_side.py fixtures DIR        writes each run's dump_dict() (widgets left out)
    python evidently_side.py workspace DIR       a local Evidently workspace with every run

`push` and `cloud` print one JSON object on stdout: the project's id and, for each run, what
Evidently itself reported (its metric results' numbers and its test statuses), for the test to
compare with what the platform stored.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from evidently import BinaryClassification, DataDefinition, Dataset, Regression, Report
from evidently.metrics import MaxValue, MeanValue, MissingValueCount, QuantileValue, RowCount
from evidently.presets import (
    ClassificationPreset,
    DataDriftPreset,
    DataSummaryPreset,
    RegressionPreset,
)
from evidently.tests import gte, lte

START = datetime(2026, 11, 2, 6, 0, 0)
ROWS = 150


def frames(seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift, 10, ROWS).round(1)
    probability = 1 / (1 + np.exp(-(age - 40) / 8))
    target = (rng.random(ROWS) < probability).astype(int)
    score = np.clip(probability + rng.normal(0, 0.1, ROWS), 0, 1).round(3)
    income = rng.lognormal(10, 0.4, ROWS).round(0)
    income[rng.random(ROWS) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "plan": rng.choice(["basic", "plus", "pro"], ROWS, p=[0.5, 0.3, 0.2]),
            "target": target,
            "score": score,
            "y": (age * 2 + rng.normal(0, 3, ROWS)).round(2),
            "y_pred": (age * 2).round(2),
        }
    )


DEFINITION = DataDefinition(
    numerical_columns=["age", "income", "score", "y", "y_pred"],
    categorical_columns=["plan", "target"],
    classification=[BinaryClassification(target="target", prediction_probas="score")],
    regression=[Regression(target="y", prediction="y_pred")],
)


def runs() -> list[tuple[str, Any]]:
    """(name, snapshot) of each report: the four presets and a run of tests."""
    current = Dataset.from_pandas(frames(1, 4.0), data_definition=DEFINITION)
    reference = Dataset.from_pandas(frames(2, 0.0), data_definition=DEFINITION)
    reports = [
        ("drift", Report([DataDriftPreset()], include_tests=True)),
        ("summary", Report([DataSummaryPreset()], include_tests=True)),
        ("classification", Report([ClassificationPreset()], include_tests=True)),
        ("regression", Report([RegressionPreset()], include_tests=True)),
        (
            "tests",
            Report(
                [
                    RowCount(tests=[gte(100)]),
                    MeanValue(column="age", tests=[lte(42), gte(30)]),
                    MaxValue(column="income", tests=[lte(1_000_000)]),
                    MissingValueCount(column="income", tests=[lte(0)], share_tests=[lte(0.2)]),
                    QuantileValue(column="age", quantile=0.9),
                ]
            ),
        ),
    ]
    out = []
    for day, (name, report) in enumerate(reports):
        snapshot = report.run(
            current,
            reference,
            name=f"evidently {name}",
            tags=["evidently", name],
            metadata={"model": "v1", "origin": {"job": "nightly"}},
            timestamp=START + timedelta(days=day),
        )
        out.append((name, snapshot))
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def reported(snapshot: Any) -> dict[str, Any]:
    """What Evidently reports: every metric result's numbers by fingerprint, and test statuses."""
    dump = json.loads(json.dumps(snapshot.dump_dict(), default=str))
    numbers: dict[str, Any] = {}
    tests: list[dict[str, Any]] = []
    for fingerprint, result in dump["metric_results"].items():
        params = result["metric_value_location"]["metric"]["params"]
        entry = {"type": params["type"].rsplit(":", 1)[-1], "params": params, "numbers": {}}
        for key in ("value",):
            if key in result:
                entry["numbers"]["value"] = _clean(result[key])
        for key in ("count", "share", "mean", "std"):
            if isinstance(result.get(key), dict):
                entry["numbers"][key] = _clean(result[key]["value"])
        for key in ("values", "counts", "shares"):
            if isinstance(result.get(key), dict):
                for label, one in result[key].items():
                    entry["numbers"][f"{key}.{label}"] = _clean(one["value"])
        numbers[fingerprint] = entry
        for test in result.get("tests") or []:
            tests.append({"metric": fingerprint, "name": test["name"], "status": test["status"]})
    return {"numbers": numbers, "tests": tests, "timestamp": dump["timestamp"]}


def push(url: str, secret: str) -> None:
    from evidently.ui.workspace import RemoteWorkspace

    workspace = RemoteWorkspace(url, secret=secret)
    project = workspace.create_project("Evidently pushes", description="from RemoteWorkspace")
    assert workspace.get_project(project.id).name == "Evidently pushes"
    assert [p.id for p in workspace.search_project("Evidently pushes")] == [project.id]
    assert project.id in [p.id for p in workspace.list_projects()]
    out: dict[str, Any] = {"project": str(project.id), "runs": {}}
    for name, snapshot in runs():
        ref = workspace.add_run(project.id, snapshot)
        out["runs"][name] = {"snapshot_id": str(ref.id), **reported(snapshot)}
    # The dashboard as code: written and read back.
    from evidently.sdk.models import DashboardModel

    workspace.save_dashboard(project.id, DashboardModel(tabs=[], panels=[]))
    out["dashboard"] = workspace.get_dashboard(project.id).dict()
    print(json.dumps(out, default=str))


def cloud(url: str, token: str) -> None:
    from evidently.ui.workspace import CloudWorkspace

    workspace = CloudWorkspace(token=token, url=url)
    project = workspace.create_project("Evidently cloud")
    name, snapshot = runs()[0]
    ref = workspace.add_run(project.id, snapshot)
    out = {"project": str(project.id), "runs": {name: {"snapshot_id": str(ref.id)}}}
    print(json.dumps(out, default=str))


def _without_widgets(dump: dict[str, Any]) -> dict[str, Any]:
    """The dump without Evidently's widgets (plotly figures, most of its size): the platform
    does not read them."""
    dump["widgets"] = []
    dump["tests_widgets"] = []
    for result in dump["metric_results"].values():
        result.pop("widget", None)
        for value in result.values():
            if isinstance(value, dict):
                value.pop("widget", None)
                for one in value.values():
                    if isinstance(one, dict):
                        one["widget"] = []
    return dump


def fixtures(folder: str) -> None:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, snapshot in runs():
        dump = json.loads(json.dumps(snapshot.dump_dict(), default=str))
        path = target / f"{name}.json"
        path.write_text(json.dumps(_without_widgets(dump), indent=1, sort_keys=True) + "\n")
        print(path)


def workspace(folder: str) -> None:
    from evidently.ui.workspace import Workspace

    local = Workspace(folder)
    project = local.create_project("Local evidently")
    for _, snapshot in runs():
        local.add_run(project.id, snapshot)
    print(json.dumps({"project": str(project.id)}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    commands: dict[str, Any] = {
        "push": push,
        "cloud": cloud,
        "fixtures": fixtures,
        "workspace": workspace,
    }
    commands[command](*args)
