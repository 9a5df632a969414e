"""One batch, one snapshot: a report given tests computes metrics and tests in one run, each metric
once; runs pushed separately name their batch with `batch_id`."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from metrics import (
    ColumnSummary,
    DataDriftPreset,
    DatasetSummary,
    DataStabilityTestPreset,
    DataSummaryPreset,
    LocalWorkspace,
    Report,
    Snapshot,
    SnapshotError,
    TestSuite,
)
from metrics.core.base import Context
from metrics.core.snapshot import BATCH_ID_KEY, BATCH_ID_MAX_LENGTH, snapshot_schema
from metrics.suites.data_tests import TestColumnMean
from tests.metrics.test_report_and_snapshot import validate

TIMESTAMP = "2026-11-28T00:00:00Z"


def _metrics_by_id(run) -> dict[str, dict]:
    return {m["id"]: m for m in run.dict()["metrics"]}


def _tests_by_id(run) -> dict[str, dict]:
    return {t["id"]: t for t in run.dict()["tests"]}


@pytest.fixture
def counted(monkeypatch) -> Counter:
    """How many times each metric id is computed (the engine's one computing step, counted)."""
    computed: Counter = Counter()
    original = Context._compute

    def counting(self, metric):
        computed[metric.id] += 1
        return original(self, metric)

    monkeypatch.setattr(Context, "_compute", counting)
    return computed


def _suite_items() -> list:
    return [DataStabilityTestPreset(), TestColumnMean(column="age", gte=18)]


def test_it_gives_one_snapshot_holding_the_reports_metrics_and_the_suites_tests(current, reference):
    metrics = [DataSummaryPreset(), DataDriftPreset()]
    one = Report(metrics, tests=_suite_items()).run(current, reference, timestamp=TIMESTAMP)
    report = Report(metrics).run(current, reference, timestamp=TIMESTAMP)
    suite = TestSuite(_suite_items()).run(current, reference, timestamp=TIMESTAMP)

    document = one.dict()
    validate(document)
    combined_metrics = _metrics_by_id(one)
    # Every metric of the report, with the same values, and the suite's metrics as well.
    for metric_id, result in _metrics_by_id(report).items():
        assert combined_metrics[metric_id] == result
    for metric_id, result in _metrics_by_id(suite).items():
        assert combined_metrics[metric_id] == result
    assert set(combined_metrics) == set(_metrics_by_id(report)) | set(_metrics_by_id(suite))
    # Every test of the suite, with the same outcome.
    assert _tests_by_id(one) == _tests_by_id(suite)
    assert len(document["tests"]) > 10
    assert one.test_counts == suite.test_counts
    assert one.passed == suite.passed
    assert document["test_counts"] == suite.dict()["test_counts"]
    # And the numbers are the data's: NumPy's row count and mean of the current frame.
    summary = one.metric(ColumnSummary(column="age"))
    assert summary.get("current.mean") == pytest.approx(np.nanmean(current["age"].to_numpy()))
    rows = combined_metrics[DatasetSummary().id]["values"]["current"]["row_count"]
    assert rows == len(current)


def test_it_computes_each_metric_once_for_the_report_and_its_tests(current, reference, counted):
    metrics = [DataSummaryPreset()]
    Report(metrics, tests=_suite_items()).run(current, reference, timestamp=TIMESTAMP)
    together = Counter(counted)
    counted.clear()
    Report(metrics).run(current, reference, timestamp=TIMESTAMP)
    alone_report = Counter(counted)
    counted.clear()
    TestSuite(_suite_items()).run(current, reference, timestamp=TIMESTAMP)
    alone_suite = Counter(counted)

    assert together, "nothing was counted"
    assert max(together.values()) == 1, [k for k, n in together.items() if n > 1]
    shared = set(alone_report) & set(alone_suite)
    # The dataset summary and the column summaries serve both the report and the stability tests.
    assert DatasetSummary().id in shared
    assert ColumnSummary(column="age").id in shared
    assert set(together) == set(alone_report) | set(alone_suite)
    assert sum(together.values()) == sum(alone_report.values()) + sum(alone_suite.values()) - len(
        shared
    )


def test_a_run_names_its_batch_in_the_metadata(current):
    run = Report([DataSummaryPreset()]).run(
        current, batch_id="2026-11-28", metadata={"model": "v3"}, timestamp=TIMESTAMP
    )
    snapshot = run.snapshot()
    assert snapshot.metadata == {"model": "v3", BATCH_ID_KEY: "2026-11-28"}
    assert snapshot.batch_id == "2026-11-28"
    validate(run.dict())
    assert Snapshot.from_dict(json.loads(run.json())).batch_id == "2026-11-28"
    # Given in the metadata itself, it is the same thing.
    same = Report([DataSummaryPreset()]).run(current, metadata={BATCH_ID_KEY: "2026-11-28"})
    assert same.snapshot().batch_id == "2026-11-28"
    assert Report([DataSummaryPreset()]).run(current).snapshot().batch_id is None


@pytest.mark.parametrize(
    ("batch_id", "metadata", "said"),
    [
        ("", None, "1 to 200 characters"),
        ("x" * (BATCH_ID_MAX_LENGTH + 1), None, "not 201"),
        (7, None, "string, not int"),
        ("a\x00b", None, "NUL"),
        ("b", {BATCH_ID_KEY: "a"}, "already names batch 'a'"),
        (None, {BATCH_ID_KEY: 7}, "metadata['batch_id']"),
    ],
)
def test_a_batch_id_the_platform_would_refuse_is_refused_before_computing(
    current, counted, batch_id, metadata, said
):
    with pytest.raises(SnapshotError, match="batch") as raised:
        Report([DataSummaryPreset()]).run(current, batch_id=batch_id, metadata=metadata)
    assert said in str(raised.value)
    assert not counted


def test_the_limit_is_the_schemas():
    batch = snapshot_schema()["properties"]["metadata"]["properties"][BATCH_ID_KEY]
    assert batch == {**batch, "type": "string", "minLength": 1, "maxLength": BATCH_ID_MAX_LENGTH}


def test_a_workspace_adds_a_snapshot_to_its_batch(tmp_path, current):
    workspace = LocalWorkspace(tmp_path)
    project = workspace.create_project("Churn")
    report = Report([DataSummaryPreset()]).run(current, timestamp=TIMESTAMP)
    suite = TestSuite(_suite_items()).run(current, timestamp=TIMESTAMP)
    for run in (report, suite):
        workspace.add_snapshot(project.id, run, batch_id="nightly-2026-11-28")
    stored = [workspace.load_snapshot(project.id, run.id) for run in (report, suite)]
    assert [s.batch_id for s in stored] == ["nightly-2026-11-28"] * 2
    assert stored[1].tests == suite.dict()["tests"]
    # Added again the same way: the same document, no conflict.
    assert workspace.add_snapshot(project.id, report, batch_id="nightly-2026-11-28") == report.id
    with pytest.raises(SnapshotError, match="already names batch"):
        workspace.add_snapshot(project.id, stored[0], batch_id="another")
