"""Reports and suites: every preset's snapshot validates against the JSON Schema and round-trips;
parallel runs equal serial ones; progress can be shown and hidden."""

from __future__ import annotations

import io
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from metrics import (
    ColumnSummary,
    DataDefinition,
    DataDriftPreset,
    DataDriftTestPreset,
    DataQualityTestPreset,
    DataStabilityTestPreset,
    DataSummaryPreset,
    Report,
    Snapshot,
    SnapshotError,
    TestSuite,
)
from metrics.core.progress import Progress, progress_enabled
from metrics.core.snapshot import snapshot_schema

SCHEMA = snapshot_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def validate(document: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_the_schema_itself_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "runner",
    [
        Report([DataSummaryPreset()]),
        Report([DataDriftPreset()]),
        TestSuite([DataStabilityTestPreset()]),
        TestSuite([DataQualityTestPreset()]),
        TestSuite([DataDriftTestPreset()]),
    ],
    ids=["summary", "drift", "stability", "quality", "drift-tests"],
)
def test_every_preset_snapshot_validates_and_round_trips(runner, reference, current, tmp_path):
    run = runner.run(
        current, reference, name="nightly", tags=["prod"], metadata={"model": "v3", "rows": 2000}
    )
    document = json.loads(run.json())
    validate(document)
    assert run.results or run.tests
    assert all(m["status"] == "ok" for m in document["metrics"]), [
        m for m in document["metrics"] if m["status"] != "ok"
    ]
    path = run.save(tmp_path / "snapshot.json")
    loaded = Snapshot.load(path)
    assert loaded.to_dict() == run.snapshot().to_dict()
    validate(loaded.to_dict())


def test_snapshots_hold_no_raw_rows(reference, current):
    run = Report([DataSummaryPreset(), DataDriftPreset()]).run(current, reference)
    text = run.json()
    # Not one income value (continuous, distinct) appears in the document.
    sample = current["income"].dropna().iloc[:200]
    leaked = [v for v in sample if repr(float(v)) in text]
    assert not leaked
    # And it stays small: a few hundred bytes per column and metric, not per row.
    assert len(text) < 60_000


def test_the_snapshot_describes_the_data(reference, current):
    snapshot = (
        Report([DataSummaryPreset()])
        .run(current, reference, timestamp="2026-11-01T00:00:00Z")
        .snapshot()
    )
    assert snapshot.data["current"] == {"rows": 2000, "columns": 6}
    assert snapshot.data["column_types"]["plan"] == "categorical"
    assert snapshot.timestamp.isoformat() == "2026-11-01T00:00:00+00:00"
    assert snapshot.library["name"] == "metrics"


def test_a_run_without_reference_still_validates(current):
    run = Report([DataSummaryPreset(), DataDriftPreset()]).run(current)
    document = run.dict()
    validate(document)
    skipped = [m for m in document["metrics"] if m["status"] == "skipped"]
    assert skipped
    assert all("reference" in m["reason"] for m in skipped)


def test_nan_and_infinity_become_null():
    frame = pd.DataFrame({"x": [np.nan, np.nan]})
    run = Report(
        [ColumnSummary(column="x")], definition=DataDefinition(numerical_columns=["x"])
    ).run(frame)
    document = json.loads(run.json())
    assert document["metrics"][0]["values"]["current"]["mean"] is None
    validate(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema_version": 2}, "schema_version"),
        ({"schema_version": 1, "id": "x"}, "id"),
        (
            {
                "schema_version": 1,
                "id": "8c7c2f9e-1111-4c8b-9b5e-0d1f2a3b4c5d",
                "timestamp": "yesterday",
            },
            "timestamp",
        ),
        (
            {
                "schema_version": 1,
                "id": "8c7c2f9e-1111-4c8b-9b5e-0d1f2a3b4c5d",
                "timestamp": "2026-01-01T00:00:00Z",
                "metrics": {},
            },
            "metrics",
        ),
    ],
)
def test_loading_a_bad_document_names_the_field(document, message):
    with pytest.raises(SnapshotError, match=message):
        Snapshot.from_dict(document)


def test_metadata_and_tags_are_checked(current):
    with pytest.raises(ValueError, match="Metadata 'when'"):
        Report([]).run(current, metadata={"when": object()})
    with pytest.raises(ValueError, match="Tags"):
        Report([]).run(current, tags=[""])


def test_parallel_runs_equal_serial_ones(reference, current):
    presets = [DataSummaryPreset(), DataDriftPreset()]
    serial = Report(presets).run(current, reference).dict()
    parallel = Report(presets, n_jobs=2).run(current, reference).dict()
    assert parallel["metrics"] == serial["metrics"]


def test_progress_is_shown_when_asked_and_hidden_otherwise(reference, current, capsys, monkeypatch):
    Report([DataSummaryPreset()], progress=True).run(current, reference)
    assert "Computing metrics" in capsys.readouterr().err
    Report([DataSummaryPreset()], progress=False).run(current, reference)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("METRICS_PROGRESS", "0")
    assert progress_enabled(None) is False


def test_the_progress_bar_is_on_by_default_in_a_notebook(monkeypatch):
    import sys
    import types

    monkeypatch.delenv("METRICS_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a kernel's stderr is no terminal
    assert progress_enabled(None) is False
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert progress_enabled(None) is True
    assert progress_enabled(False) is False


def test_the_progress_bar_in_a_log_prints_a_line_per_tenth():
    stream = io.StringIO()
    with Progress(100, "Computing", enabled=True, stream=stream) as bar:
        for _ in range(100):
            bar.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("Computing [")
    assert "100/100" in lines[-1]


def test_run_lookups_and_errors(reference, current):
    run = Report([DataSummaryPreset()]).run(current, reference)
    assert run.metric(ColumnSummary(column="age")).get("current.count") == 2000
    with pytest.raises(KeyError, match="not part of this run"):
        run.metric("Nope()")
    with pytest.raises(KeyError, match="no value"):
        run.metric(ColumnSummary(column="age")).get("current.nope")
    with pytest.raises(TypeError, match="neither a metric nor a preset"):
        Report(["age"]).run(current)
    with pytest.raises(ValueError, match="n_jobs"):
        Report([], n_jobs=0)
