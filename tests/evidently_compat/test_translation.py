"""Evidently snapshots (the committed dumps of the real client) become our snapshot documents: each
mapped number under our metric id and field with Evidently's value, the rest kept as
`Evidently<Type>` metrics, tests as our tests. No database, no Evidently installed."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from evidently_compat.translation import EvidentlyRejected, parse, snapshot_id, translate
from metrics.core.snapshot import snapshot_schema
from tests.evidently_compat.conftest import RUNS, dump, dump_bytes


def results(name: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(fingerprint, Evidently type, params, result) of a dump."""
    out = []
    for fingerprint, result in dump(name)["metric_results"].items():
        params = result["metric_value_location"]["metric"]["params"]
        out.append((fingerprint, params["type"].rsplit(":", 1)[-1], params, result))
    return out


def value_of(document: dict[str, Any], metric_id: str, path: str) -> Any:
    metric = next(m for m in document["metrics"] if m["id"] == metric_id)
    node: Any = metric["values"]
    for part in path.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("name", RUNS)
def test_it_makes_a_valid_snapshot_of_every_run(name):
    document = translate(dump(name))
    jsonschema.validate(document, snapshot_schema())
    assert document["library"] == {"name": "evidently"}
    assert document["name"] == f"evidently {name}"
    assert document["tags"] == ["evidently", name]
    # Evidently's metadata allows objects; ours holds them as JSON text.
    assert document["metadata"] == {"model": "v1", "origin": '{"job": "nightly"}'}
    # Evidently writes local time without an offset: read as UTC.
    assert document["timestamp"].endswith("+00:00")
    assert document["timestamp"][:19] == dump(name)["timestamp"].replace(" ", "T")[:19]


def test_drift_scores_land_on_column_drift_with_evidentlys_verdict():
    document = translate(dump("drift"))
    drift_tests = {}
    for _, kind, params, result in results("drift"):
        if kind != "ValueDrift":
            continue
        our_id = f'ColumnDrift(column="{params["column"]}")'
        assert value_of(document, our_id, "score") == result["value"]
        assert value_of(document, our_id, "threshold") == params["threshold"]
        drift_tests[our_id] = result["tests"][0]["status"]
        # Evidently's own verdict (its test fails when the column drifted) is our flag.
        assert value_of(document, our_id, "drifted") == (result["tests"][0]["status"] == "FAIL")
    assert len(drift_tests) == 7
    assert set(drift_tests.values()) == {"FAIL", "SUCCESS"}  # the data has both
    (count,) = [r for _, k, _, r in results("drift") if k == "DriftedColumnsCount"]
    dataset = next(m for m in document["metrics"] if m["type"] == "DatasetDrift")
    assert dataset["values"]["drifted_columns"] == count["count"]["value"]
    assert dataset["values"]["drifted_share"] == count["share"]["value"]
    drifted = sum(s == "FAIL" for s in drift_tests.values())
    assert dataset["values"]["drifted_columns"] == drifted
    assert dataset["values"]["columns"] == 7
    assert dataset["values"]["dataset_drift"] == (drifted / 7 >= 0.5)
    method = next(m for m in document["metrics"] if m["id"] == 'ColumnDrift(column="age")')
    assert method["details"]["method"] == "ks"
    assert method["details"]["rule"] == "at or below"


def test_summary_statistics_land_on_dataset_and_column_summaries():
    document = translate(dump("summary"))
    by_kind: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for _, kind, params, result in results("summary"):
        by_kind.setdefault(kind, []).append((params, result))
    rows = by_kind["RowCount"][0][1]["value"]
    assert value_of(document, "DatasetSummary()", "current.row_count") == rows == 150
    columns = next(r["value"] for p, r in by_kind["ColumnCount"] if "column_type" not in p)
    assert value_of(document, "DatasetSummary()", "current.column_count") == columns == 7
    missing = by_kind["DatasetMissingValueCount"][0][1]["count"]["value"]
    assert value_of(document, "DatasetSummary()", "current.missing_cells") == missing
    # Ours is a share of cells; Evidently's (kept apart) divides by rows.
    assert value_of(document, "DatasetSummary()", "current.missing_cells_share") == pytest.approx(
        missing / (150 * 7), rel=1e-15
    )
    assert value_of(document, "EvidentlyDatasetMissingValueCount()", "share") == missing / 150
    fields = {"MeanValue": "mean", "MinValue": "min", "MaxValue": "max", "StdValue": "std"}
    for kind, field in fields.items():
        for params, result in by_kind[kind]:
            our_id = f'ColumnSummary(column="{params["column"]}")'
            assert value_of(document, our_id, f"current.{field}") == result["value"]
    quantiles = {0.25: "p25", 0.5: "median", 0.75: "p75"}
    for params, result in by_kind["QuantileValue"]:
        our_id = f'ColumnSummary(column="{params["column"]}")'
        assert (
            value_of(document, our_id, f"current.{quantiles[params['quantile']]}")
            == (result["value"])
        )
    for params, result in by_kind["MissingValueCount"]:
        our_id = f'ColumnSummary(column="{params["column"]}")'
        assert value_of(document, our_id, "current.missing") == result["count"]["value"]
        assert value_of(document, our_id, "current.missing_share") == result["share"]["value"]
    assert value_of(document, 'ColumnSummary(column="income")', "current.missing") > 0
    # Unique value counts have no equivalent: kept, by label.
    for params, result in by_kind["UniqueValueCount"]:
        our_id = f'EvidentlyUniqueValueCount(column="{params["column"]}")'
        for label, one in result["counts"].items():
            assert value_of(document, our_id, f"counts.{label}") == one["value"]


def test_classification_and_regression_land_on_our_quality_metrics():
    document = translate(dump("classification"))
    fields = {"Accuracy": "accuracy", "Precision": "precision", "Recall": "recall"}
    fields |= {"F1Score": "f1", "RocAuc": "roc_auc", "LogLoss": "log_loss", "TPR": "tpr"}
    fields |= {"TNR": "tnr", "FPR": "fpr", "FNR": "fnr"}
    found = 0
    for _, kind, _, result in results("classification"):
        if kind in fields:
            path = f"current.{fields[kind]}"
            assert value_of(document, "ClassificationQuality()", path) == result["value"]
            found += 1
        if kind == "F1ByLabel":
            for label, one in result["values"].items():
                our_id = f'ClassificationByLabel(label="{label}")'
                assert value_of(document, our_id, "current.f1") == one["value"]
    assert found == len(fields)
    document = translate(dump("regression"))
    fields = {"RMSE": "rmse", "R2Score": "r2", "AbsMaxError": "max_abs_error"}
    for _, kind, _, result in results("regression"):
        if kind in fields:
            path = f"current.{fields[kind]}"
            assert value_of(document, "RegressionQuality()", path) == result["value"]
        if kind in ("MAE", "MAPE", "MeanError"):
            name = {"MAE": "mae", "MAPE": "mape", "MeanError": "mean_error"}[kind]
            quality = "RegressionQuality()"
            assert value_of(document, quality, f"current.{name}") == result["mean"]["value"]
            assert value_of(document, quality, f"current.{name}_std") == result["std"]["value"]


@pytest.mark.parametrize("name", RUNS)
def test_every_evidently_test_is_a_test_of_ours_on_the_value_it_read(name):
    document = translate(dump(name))
    evidently_tests = [
        (test, result) for _, _, _, result in results(name) for test in result.get("tests") or []
    ]
    assert len(document["tests"]) == len(evidently_tests) > 0
    for ours, (theirs, _) in zip(document["tests"], evidently_tests, strict=True):
        assert (ours["name"], ours["status"]) == (theirs["name"], theirs["status"])
        assert ours["critical"] == theirs["bound_test"]["test"]["is_critical"]
        metric = next(m for m in document["metrics"] if m["id"] == ours["metric_id"])
        field = ours["field"] if ours["field"] in metric["values"] else f"current.{ours['field']}"
        assert value_of(document, metric["id"], field) == ours["value"]
    counts = {s: sum(t["status"] == s for t, _ in evidently_tests) for s in document["test_counts"]}
    assert document["test_counts"] == counts
    assert len({t["id"] for t in document["tests"]}) == len(document["tests"])


def test_the_test_run_keeps_what_has_no_equivalent():
    document = translate(dump("tests"))
    quantile = next(m for m in document["metrics"] if m["type"] == "EvidentlyQuantileValue")
    assert quantile["params"] == {"column": "age", "quantile": 0.9}
    assert quantile["details"]["evidently_type"] == "QuantileValue"
    (result,) = [r for _, k, _, r in results("tests") if k == "QuantileValue"]
    assert quantile["values"] == {"value": result["value"]}
    # The failing mean test names the number it read.
    mean_test = next(t for t in document["tests"] if "Less or Equal 42" in t["name"])
    assert mean_test["status"] == "FAIL"
    assert mean_test["metric_id"] == 'ColumnSummary(column="age")'
    assert mean_test["field"] == "mean"
    assert mean_test["value"] > 42


def test_the_id_is_stable_and_follows_the_document():
    first, again = translate(dump("drift")), translate(dump("drift"))
    assert first == again
    changed = dump("drift")
    changed["name"] = "another run"
    assert translate(changed)["id"] != first["id"]
    assert first["id"] == str(snapshot_id(parse(dump_bytes("drift"))))


def test_nan_and_infinity_are_values_that_do_not_exist():
    # Evidently's client writes json.dumps(allow_nan=True): NaN and Infinity appear as such.
    document = dump("regression")
    for result in document["metric_results"].values():
        params = result["metric_value_location"]["metric"]["params"]
        if params["type"].endswith(":RMSE"):
            result["value"] = float("nan")
        if params["type"].endswith(":MeanError"):
            result["std"]["value"] = float("inf")
    translated = translate(parse(json.dumps(document).encode()))
    assert value_of(translated, "RegressionQuality()", "current.rmse") is None
    assert value_of(translated, "RegressionQuality()", "current.mean_error_std") is None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.update(metric_results=[]), "metric_results"),
        (lambda d: d.update(timestamp="yesterday"), "timestamp"),
        (lambda d: d.update(tags="a,b"), "tags"),
        (lambda d: d.update(tags=["ok", 3]), "tags.1"),
        (lambda d: d.update(name=5), "name"),
        (lambda d: d.update(metadata=[1]), "metadata"),
    ],
)
def test_it_names_the_field_it_cannot_read(change, path):
    document = dump("tests")
    change(document)
    with pytest.raises(EvidentlyRejected) as caught:
        translate(document)
    assert list(caught.value.fields) == [path]


def test_it_names_a_bad_value_or_status_inside_a_result():
    document = dump("tests")
    fingerprint, result = next(iter(document["metric_results"].items()))
    result["value"] = "many"
    with pytest.raises(EvidentlyRejected) as caught:
        translate(document)
    assert list(caught.value.fields) == [f"metric_results.{fingerprint}.value"]
    document = dump("tests")
    fingerprint, result = next(iter(document["metric_results"].items()))
    result["tests"][0]["status"] = "GREAT"
    with pytest.raises(EvidentlyRejected) as caught:
        translate(document)
    assert list(caught.value.fields) == [f"metric_results.{fingerprint}.tests.0.status"]
    document = dump("tests")
    fingerprint, result = next(iter(document["metric_results"].items()))
    del result["metric_value_location"]
    with pytest.raises(EvidentlyRejected) as caught:
        translate(document)
    assert list(caught.value.fields) == [f"metric_results.{fingerprint}.metric_value_location"]


@pytest.mark.parametrize("body", [b"", b"[1]", b"{", "caf\xe9".encode("latin-1"), b"[" * 5000])
def test_it_refuses_a_body_that_is_not_a_json_object(body):
    with pytest.raises(EvidentlyRejected) as caught:
        parse(body)
    assert list(caught.value.fields) == ["body"]
