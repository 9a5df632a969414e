"""The pre-built tabs name metric types, parameters and fields only through metrics.names: no
string literal in their module repeats one, and with every named series present each tab fills."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import metrics
from metrics import names
from projects.dashboards import prebuilt_tabs
from projects.dashboards.prebuilt_tabs import preset_tabs
from projects.models import MetricSeries


def _fields(spec: type) -> list[str]:
    return [v for k, v in vars(spec).items() if k.isupper() and k != "TYPE" and "PARAM_" not in k]


def _named_values() -> set[str]:
    found = {v for k, v in vars(names).items() if k.startswith("PARAM_")}
    for spec in names.NAMED:
        found |= {v for k, v in vars(spec).items() if k.isupper()}
    return found


def _literals(source: str) -> list[str]:
    """The module's string constants, docstrings left out."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_it_spells_no_metric_type_parameter_or_field_itself():
    literals = _literals(Path(prebuilt_tabs.__file__).read_text())
    named = _named_values()
    metric_types = {name for name in dir(metrics) if isinstance(getattr(metrics, name), type)}
    assert [s for s in literals if s in named] == []
    assert [s for s in literals if s in metric_types] == []
    assert [s for s in literals if s.startswith(("current.", "reference."))] == []


@pytest.mark.django_db
def test_every_metric_tab_fills_from_the_named_series(world):
    for spec in names.NAMED:
        params: dict[str, Any] = {names.PARAM_COLUMN: "x"}
        if spec is names.DatasetDrift:
            params[spec.PARAM_DRIFT_SHARE] = 0.5
        MetricSeries.objects.bulk_create(
            MetricSeries(
                project=world.p1,
                metric_id=f"{spec.TYPE}()",
                metric_type=spec.TYPE,
                params=params,
                field=field,
            )
            for field in _fields(spec)
        )
    metric_tabs = ["data_quality", "data_drift", "model_quality"]
    tabs = preset_tabs(world.p1, metric_tabs)
    assert [tab["id"].replace("-", "_") for tab in tabs] == metric_tabs
    drawn = {s["field"] for tab in tabs for panel in tab["panels"] for s in panel.get("series", [])}
    assert drawn <= _named_values()
    assert all(
        panel.get("series", [1]) or panel.get("metric") or panel.get("columns")
        for t in tabs
        for panel in t["panels"]
    )
    ranked = {panel["columns"]["rank"] for t in tabs for panel in t["panels"] if "columns" in panel}
    assert ranked == {"drift", "missing"}
