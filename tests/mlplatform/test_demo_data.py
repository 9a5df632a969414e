"""The demo's month of snapshots: valid, daily, drifting late, dipping in quality, seeded once."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from collector.models import Run
from mlplatform.demo_data import DemoFrames, demo_frames, demo_snapshots
from projects.ingestion import validate
from projects.models import Project

END = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
EARLY = range(17)  # days 1 to 17: before anything happens
DIP = range(20, 26)  # days 21 to 26: the stale model at its worst
AFTER = range(26, 30)  # days 27 to 30: model 3.2

INCOME_DRIFT = 'ColumnDrift(column="income")'
DATASET_DRIFT = "DatasetDrift(drift_share=0.5)"
QUALITY = "ClassificationQuality()"


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return list(demo_snapshots(end=END))


@pytest.fixture(scope="module")
def frames() -> DemoFrames:
    return demo_frames(end=END)


def metric(document: dict[str, Any], metric_id: str) -> dict[str, Any]:
    return next(m for m in document["metrics"] if m["id"] == metric_id)


def test_it_yields_one_valid_snapshot_a_day_at_six_utc(documents):
    assert len(documents) == 30
    for document in documents:
        validate(document)  # the platform's own check; raises SnapshotRejected
    expected = [datetime(2026, 11, 28, 6, tzinfo=UTC) - timedelta(days=n) for n in range(30)]
    assert [datetime.fromisoformat(d["timestamp"]) for d in documents] == expected[::-1]
    assert len({d["id"] for d in documents}) == 30
    assert {tuple(d["tags"]) for d in documents} == {("prod", "daily")}
    assert [d["metadata"]["batch"] for d in documents] == list(range(1, 31))


def test_the_income_drift_score_is_scipys_wasserstein_distance(documents, frames):
    reference = frames.reference["income"].dropna().to_numpy()
    for document, day in zip(documents, frames.days, strict=True):
        drift = metric(document, INCOME_DRIFT)
        assert drift["details"]["method"] == "wasserstein"
        current = day.frame["income"].dropna().to_numpy()
        expected = stats.wasserstein_distance(reference, current) / np.std(reference)
        assert drift["values"]["score"] == pytest.approx(expected, rel=1e-3)


def test_drift_is_larger_in_the_late_days(documents, frames):
    scores = [metric(d, INCOME_DRIFT)["values"]["score"] for d in documents]
    threshold = metric(documents[0], INCOME_DRIFT)["values"]["threshold"]
    assert max(scores[i] for i in EARLY) < threshold < min(scores[23:])
    shares = [metric(d, DATASET_DRIFT)["values"]["drifted_share"] for d in documents]
    assert all(shares[i] == 0 for i in EARLY)
    assert all(shares[i] >= 0.3 for i in range(22, 30))
    # Independently of the library: the KS statistic of the raw incomes grows too.
    reference = frames.reference["income"].dropna()
    ks = [stats.ks_2samp(reference, day.frame["income"].dropna()).statistic for day in frames.days]
    assert np.mean(ks[-5:]) > 3 * np.mean(ks[:10])
    # And a region the reference never saw takes a growing share.
    online = [(day.frame["region"] == "online").mean() for day in frames.days]
    assert online[16] == 0
    assert online[-1] > 0.1


def test_quality_dips_and_recovers_after_the_retrain(documents, frames):
    accuracy = []
    for document, day in zip(documents, frames.days, strict=True):
        current = metric(document, QUALITY)["values"]["current"]
        truth, frame = day.frame["default"], day.frame
        assert current["accuracy"] == pytest.approx(accuracy_score(truth, frame["prediction"]))
        assert current["f1"] == pytest.approx(f1_score(truth, frame["prediction"]))
        assert current["roc_auc"] == pytest.approx(roc_auc_score(truth, frame["probability"]))
        accuracy.append(current["accuracy"])
    before = np.mean([accuracy[i] for i in EARLY])
    dip = np.mean([accuracy[i] for i in DIP])
    after = np.mean([accuracy[i] for i in AFTER])
    assert dip < before - 0.1
    assert after > dip + 0.1
    versions = [d["metadata"]["model_version"] for d in documents]
    assert versions == ["3.1"] * 26 + ["3.2"] * 4


def test_tests_fail_only_in_the_bad_days(documents):
    counts = [d["test_counts"] for d in documents]
    assert all(counts[i]["FAIL"] == 0 for i in EARLY)
    assert all(counts[i]["FAIL"] > 0 for i in DIP)
    assert all(counts[i]["FAIL"] == 0 and counts[i]["WARNING"] > 0 for i in AFTER)
    assert sum(c["ERROR"] + c["SKIPPED"] for c in counts) == 0
    failed = {t["type"] for i in DIP for t in documents[i]["tests"] if t["status"] == "FAIL"}
    assert {"TestAccuracy", "TestRocAuc", "TestShareOfDriftedColumns"} <= failed
    # The partial load of day 23: fewer rows, many incomes missing.
    incident = {t["id"] for t in documents[22]["tests"] if t["status"] == "FAIL"}
    assert {"TestRowCount()", 'TestColumnMissingShare(column="income")'} <= incident


@pytest.mark.parametrize("column", ["income", "age"])
def test_each_snapshot_has_a_histogram_of(documents, frames, column):
    for document, day in zip(documents, frames.days, strict=True):
        distribution = metric(document, f'ColumnDistribution(bins=20,column="{column}",top=20)')
        histogram = distribution["distribution"]
        assert histogram["kind"] == "histogram"
        assert len(histogram["edges"]) == len(histogram["current"]) + 1 == 21
        assert sum(histogram["current"]) == day.frame[column].notna().sum()
        assert sum(histogram["reference"]) == frames.reference[column].notna().sum()


def test_it_is_deterministic_for_a_seed():
    def month(seed: int) -> list[dict[str, Any]]:
        return list(demo_snapshots(days=3, end=END, seed=seed, rows=300))

    assert month(7) == month(7)
    assert month(7) != month(8)
    assert [d["id"] for d in month(7)] != [d["id"] for d in month(8)]


def test_it_refuses_an_empty_month():
    with pytest.raises(ValueError, match="days must be at least 1"):
        list(demo_snapshots(days=0))


def test_seed_demo_stores_the_month_once(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    credit = Project.objects.get(name="Credit scoring")
    assert credit.snapshots.count() == 30
    assert out.getvalue().count("Seeding demo snapshots: 30/30") == 1
    # The churn project's snapshot comes from its collector: one run over three hours of rows.
    churn = Project.objects.get(name="Churn prediction")
    assert churn.snapshots.count() == 1
    (run,) = Run.objects.filter(collector__project=churn)
    assert run.rows == 1500
    assert run.snapshot == churn.snapshots.get()


def test_seed_demo_can_skip_the_snapshots(db):
    call_command("seed_demo", "--no-snapshots", stdout=io.StringIO())
    assert not Project.objects.get(name="Credit scoring").snapshots.exists()


def test_by_default_no_batch_lies_in_the_future():
    """Before 06:00 UTC today's batch has not been scored: the month ends with yesterday's."""
    from mlplatform.demo_data import demo_frames

    before = datetime.now(UTC)
    stamps = [day.timestamp for day in demo_frames(days=3, rows=100).days]
    assert max(stamps) <= datetime.now(UTC)
    assert before - max(stamps) < timedelta(days=1)
