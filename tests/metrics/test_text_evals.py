"""Text descriptors as columns of a run: declared in the definition or asked for by the text
presets; statistics, tests and drift work on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import (
    ColumnSummary,
    DataDefinition,
    DataDefinitionError,
    IsValidJSON,
    Report,
    TestStatus,
    TestSuite,
    TextEvalsPreset,
    TextEvalsTestPreset,
    TextLength,
    WordCount,
)

GOOD = [
    "Thanks, the refund arrived quickly.",
    "Great product! Works as described.",
    "Delivery was fast.",
]
BAD = ["asdf qwerty zxcv http://spam.example", '{"error": true}', "SELECT * FROM users;"]


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"review": rng.choice(GOOD, 600), "id": np.arange(600)})
    current = pd.DataFrame({"review": rng.choice(GOOD + BAD, 600), "id": np.arange(600)})
    return reference, current


def test_descriptors_declared_in_the_definition_become_columns(frames):
    reference, current = frames
    definition = DataDefinition(
        id_column="id", descriptors=[TextLength(column="review"), IsValidJSON(column="review")]
    )
    run = Report([ColumnSummary(column="review: text length")], definition=definition).run(
        current, reference
    )
    values = run.metric(ColumnSummary(column="review: text length")).values
    assert values["current"]["mean"] == pytest.approx(current["review"].str.len().mean())
    assert values["reference"]["max"] == reference["review"].str.len().max()
    assert run.schema.types["review: valid JSON"] == "categorical"
    assert run.schema.types["review"] == "text"
    assert "review: text length" not in current.columns  # the caller's frame is left alone


def test_the_text_evals_preset_summarises_and_checks_drift(frames):
    reference, current = frames
    run = Report(
        [TextEvalsPreset(columns=["review"])], definition=DataDefinition(id_column="id")
    ).run(current, reference)
    assert all(r.status == "ok" for r in run.results), [
        (r.metric_id, r.reason) for r in run.results if r.status != "ok"
    ]
    drifts = {
        r.params["column"]: r.values["drifted"] for r in run.results if r.type == "ColumnDrift"
    }
    assert drifts["review"] is True
    assert drifts["review: contains link"] is True


def test_the_text_evals_test_preset(frames):
    reference, current = frames
    suite = TestSuite(
        [TextEvalsTestPreset(columns=["review"], descriptors=[WordCount(column="review")])]
    ).run(current, reference)
    statuses = {t.name: t.status for t in suite.tests}
    assert statuses["Drift of 'review'"] == TestStatus.FAIL
    assert "Drift of 'review: word count'" in statuses
    assert TestStatus.ERROR not in statuses.values()
    calm = TestSuite([TextEvalsTestPreset(columns=["review"])]).run(reference, reference)
    assert calm.tests[0].status == TestStatus.SUCCESS


def test_a_descriptor_on_a_missing_column_is_a_clear_error(frames):
    reference, current = frames
    with pytest.raises(DataDefinitionError, match="comment"):
        Report([], definition=DataDefinition(descriptors=[TextLength(column="comment")])).run(
            current, reference
        )
