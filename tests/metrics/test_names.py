"""metrics.names against the library: each named metric, run on a tiny frame, has the type,
parameters and fields its constants say, so a renamed field fails here rather than in a panel."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metrics
from metrics import (
    ClassificationQuality,
    ColumnDistribution,
    ColumnDrift,
    ColumnSummary,
    DataDefinition,
    DatasetDrift,
    DatasetSummary,
    Metric,
    RegressionQuality,
    Report,
    names,
)


def _flat(values: dict, prefix: str = "") -> set[str]:
    """The dotted paths of the numeric values, as the platform stores them as points' fields."""
    paths: set[str] = set()
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            paths |= _flat(value, path)
        elif isinstance(value, (bool, int, float)):
            paths.add(path)
    return paths


def _frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "plan": rng.choice(["basic", "pro"], n),
            "label": label,
            "proba": np.clip(0.4 * label + rng.random(n) * 0.6, 0, 1),
            "y": rng.normal(50, 10, n),
            "y_hat": rng.normal(50, 10, n),
        }
    )


CLASSIFICATION = DataDefinition(target="label", prediction_probas="proba")
REGRESSION = DataDefinition(target="y", prediction="y_hat")

# Each named metric built with every parameter its constants name, and the columns it reads.
RUNS: dict[type, tuple[Metric, DataDefinition | None]] = {
    names.DatasetSummary: (DatasetSummary(), None),
    names.ColumnSummary: (ColumnSummary(column="x"), None),
    names.ColumnDistribution: (ColumnDistribution(column="x"), None),
    names.DatasetDrift: (DatasetDrift(), None),
    # A categorical column: its new and vanished categories are fields too.
    names.ColumnDrift: (ColumnDrift(column="plan"), None),
    names.ClassificationQuality: (ClassificationQuality(), CLASSIFICATION),
    names.RegressionQuality: (RegressionQuality(), REGRESSION),
}
PER_COLUMN = {names.ColumnSummary, names.ColumnDistribution, names.ColumnDrift}


def _constants(spec: type) -> dict[str, str]:
    return {k: v for k, v in vars(spec).items() if k.isupper() and not k.startswith("_")}


def _fields(spec: type) -> dict[str, str]:
    return {k: v for k, v in _constants(spec).items() if k != "TYPE" and not k.startswith("PARAM_")}


def _params(spec: type) -> dict[str, str]:
    return {k: v for k, v in _constants(spec).items() if k.startswith("PARAM_")}


def _result(spec: type) -> dict:
    metric, definition = RUNS[spec]
    run = Report([metric], definition=definition).run(_frame(), _frame(seed=1))
    result = run.metric(metric)
    assert result.status == "ok", result.reason
    return result.to_dict()


def test_it_names_every_metric_it_holds_and_runs_each():
    assert set(names.NAMED) == set(RUNS)
    assert len(names.NAMED) == len(set(names.NAMED))


@pytest.mark.parametrize("spec", names.NAMED, ids=lambda spec: spec.__name__)
def test_each_type_is_the_metric_class_name(spec):
    assert spec.__name__ == spec.TYPE
    assert isinstance(getattr(metrics, spec.TYPE), type)
    assert issubclass(getattr(metrics, spec.TYPE), Metric)
    assert _result(spec)["type"] == spec.TYPE


@pytest.mark.parametrize("spec", names.NAMED, ids=lambda spec: spec.__name__)
def test_each_field_is_in_the_metric_result(spec):
    fields = _flat(_result(spec)["values"])
    for constant, path in _fields(spec).items():
        assert path in fields, (
            f"{spec.__name__}.{constant} = {path!r} is not among {sorted(fields)}"
        )


@pytest.mark.parametrize("spec", names.NAMED, ids=lambda spec: spec.__name__)
def test_each_parameter_is_in_the_metric_params(spec):
    params = _result(spec)["params"]
    for constant, key in _params(spec).items():
        assert key in params, f"{spec.__name__}.{constant} = {key!r} is not among {sorted(params)}"
    if spec in PER_COLUMN:
        metric, _ = RUNS[spec]
        assert params[names.PARAM_COLUMN] == metric.column


def test_a_segment_copy_carries_the_segment_parameter():
    metric = ColumnSummary(column="x").for_segment("plan", "pro")
    run = Report([metric]).run(_frame(), None)
    assert names.PARAM_SEGMENT in run.metric(metric).to_dict()["params"]
    assert names.PARAM_SEGMENT not in ColumnSummary(column="x").params


def test_the_module_holds_plain_strings_only():
    for value in vars(names).values():
        if isinstance(value, type):
            assert all(isinstance(v, str) for v in _constants(value).values())
    module_constants = {k: v for k, v in vars(names).items() if k.startswith("PARAM_")}
    assert all(isinstance(v, str) for v in module_constants.values())


def test_the_module_imports_nothing_but_future_annotations():
    tree = ast.parse(Path(names.__file__).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [getattr(node, "module", None) for node in imports] == ["__future__"]
