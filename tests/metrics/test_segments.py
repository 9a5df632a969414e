"""Segments: any metric or test computed per value of a segment column, each a separate result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from metrics import (
    ColumnSummary,
    DataDefinition,
    DataDriftPreset,
    DataSummaryPreset,
    Report,
    TestColumnMean,
    TestRowCount,
    TestSuite,
)
from metrics.computations.classification import ClassificationQuality
from metrics.presets import Segmented
from tests.metrics.test_report_and_snapshot import validate


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 3000
    country = rng.choice(["FR", "DE", "ES"], n, p=[0.5, 0.3, 0.2])
    age = rng.normal(40, 10, n) + np.where(country == "DE", 10, 0)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < np.where(country == "ES", 0.5, 0.9), y, 1 - y)
    return pd.DataFrame({"country": country, "age": age, "y": y, "pred": pred})


def test_each_segment_is_a_separate_result_equal_to_the_filtered_run(frame):
    run = Report([Segmented([ColumnSummary(column="age")], by="country")]).run(frame)
    for country in ["FR", "DE", "ES"]:
        metric = ColumnSummary(column="age").for_segment("country", country)
        result = run.metric(metric)
        assert result.params["segment"] == {"column": "country", "value": country}
        alone = Report([ColumnSummary(column="age")]).run(frame[frame["country"] == country])
        assert result.values == alone.metric(ColumnSummary(column="age")).values
    assert (
        run.metric(ColumnSummary(column="age").for_segment("country", "DE")).values["current"][
            "mean"
        ]
        > 45
    )


def test_segmented_model_quality(frame):
    definition = DataDefinition(target="y", prediction="pred")
    run = Report([Segmented([ClassificationQuality()], by="country")], definition=definition).run(
        frame
    )
    accuracy = {
        r.params["segment"]["value"]: r.values["current"]["accuracy"]
        for r in run.results
        if r.type == "ClassificationQuality"
    }
    assert set(accuracy) == {"FR", "DE", "ES"}
    assert accuracy["ES"] < 0.6 < accuracy["FR"]
    expected = (
        frame.loc[frame.country == "ES", "y"] == frame.loc[frame.country == "ES", "pred"]
    ).mean()
    assert accuracy["ES"] == pytest.approx(expected)


def test_segmented_presets_with_a_reference_validate(frame):
    run = Report([Segmented([DataSummaryPreset(), DataDriftPreset()], by="country", top=2)]).run(
        frame, frame
    )
    segments = {json.dumps(r.params.get("segment")) for r in run.results}
    assert len(segments) == 2  # the two largest segments
    assert all(r.status == "ok" for r in run.results), [
        (r.metric_id, r.reason) for r in run.results if r.status != "ok"
    ]
    validate(run.dict())


def test_segmented_tests(frame):
    suite = TestSuite(
        [Segmented([TestRowCount(gt=700), TestColumnMean(column="age", lt=45)], by="country")]
    ).run(frame)
    outcome = {t.name: t.status for t in suite.tests}
    assert outcome["Row count [country = ES]"] == "FAIL"  # about 600 rows
    assert outcome["Row count [country = FR]"] == "SUCCESS"
    assert outcome["Mean of 'age' [country = DE]"] == "FAIL"
    assert len({t.id for t in suite.tests}) == 6


def test_explicit_segment_values_and_an_empty_segment(frame):
    run = Report([Segmented([ColumnSummary(column="age")], by="country", values=["FR", "IT"])]).run(
        frame
    )
    italy = run.metric(ColumnSummary(column="age").for_segment("country", "IT"))
    assert italy.status == "skipped"
    assert "No rows where 'country' is 'IT'" in (italy.reason or "")


def test_a_missing_segment_column_is_an_error(frame):
    with pytest.raises(ValueError, match="Segment column 'region'"):
        Report([Segmented([ColumnSummary(column="age")], by="region")]).run(frame)
