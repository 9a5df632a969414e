"""Model-quality tests: conditions from the reference or the dummy baseline, and delayed labels:
a run over predictions only works and says what was skipped; the same rows with labels work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import DataDefinition, Report, TestStatus, TestSuite
from metrics.presets import (
    BinaryClassificationTestPreset,
    ClassificationPreset,
    MulticlassClassificationTestPreset,
    NoTargetPerformanceTestPreset,
    RegressionPreset,
    RegressionTestPreset,
)
from metrics.suites.model_tests import (
    TestAccuracy,
    TestLogLoss,
    TestMAE,
    TestMAPE,
    TestMeanError,
    TestPrecisionByLabel,
    TestR2,
)

CLASSIFICATION = DataDefinition(target="y", prediction="pred", prediction_probas="p")


def predictions(n=2000, seed=0, quality=0.8):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    correct = rng.random(n) < quality
    pred = np.where(correct, y, 1 - y)
    p = np.clip(np.where(pred == 1, 0.75, 0.25) + rng.normal(0, 0.1, n), 0, 1)
    return pd.DataFrame({"f": rng.normal(size=n), "y": y, "pred": pred, "p": p})


def test_without_a_reference_the_model_must_not_lose_to_the_dummy():
    good = TestSuite([TestAccuracy(), TestLogLoss()], definition=CLASSIFICATION).run(
        predictions(quality=0.9)
    )
    assert [t.status for t in good.tests] == [TestStatus.SUCCESS, TestStatus.SUCCESS]
    assert good.tests[0].condition_source == "dummy"
    assert "(no worse than the dummy baseline)" in good.tests[0].description
    bad = TestSuite([TestAccuracy()], definition=CLASSIFICATION).run(predictions(quality=0.3))
    assert bad.tests[0].status == TestStatus.FAIL


def test_with_a_reference_classification_stays_within_20_percent():
    reference = predictions(quality=0.9, seed=1)
    current = predictions(quality=0.55, seed=2)
    suite = TestSuite([TestAccuracy()], definition=CLASSIFICATION).run(current, reference)
    test = suite.tests[0]
    assert test.condition_source == "reference"
    assert test.condition is not None
    assert test.condition["eq"]["approx"]["relative"] == 0.2
    assert test.status == TestStatus.FAIL
    fine = TestSuite([TestAccuracy()], definition=CLASSIFICATION).run(
        predictions(quality=0.88, seed=3), reference
    )
    assert fine.tests[0].status == TestStatus.SUCCESS


def regression_frame(n=2000, seed=0, bias=0.0, noise=1.0):
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    return pd.DataFrame(
        {"x": rng.normal(size=n), "y": y, "pred": y + bias + rng.normal(0, noise, n)}
    )


def test_regression_defaults():
    definition = DataDefinition(target="y", prediction="pred")
    fine = TestSuite([TestMeanError(), TestMAE(), TestR2()], definition=definition).run(
        regression_frame()
    )
    assert [t.status for t in fine.tests] == [TestStatus.SUCCESS] * 3
    biased = TestSuite([TestMeanError()], definition=definition).run(regression_frame(bias=1.0))
    assert biased.tests[0].status == TestStatus.FAIL
    assert "expected = 0 ±" in biased.tests[0].description
    worse = TestSuite([TestMAE()], definition=definition).run(
        regression_frame(noise=2.0, seed=1), regression_frame()
    )
    assert worse.tests[0].condition is not None
    assert worse.tests[0].condition["eq"]["approx"]["relative"] == 0.1
    assert worse.tests[0].status == TestStatus.FAIL


def test_per_label_tests_need_a_reference_or_a_condition():
    suite = TestSuite(
        [TestPrecisionByLabel(label=1), TestPrecisionByLabel(label=1, gte=0.5)],
        definition=CLASSIFICATION,
    ).run(predictions())
    assert [t.status for t in suite.tests] == [TestStatus.SKIPPED, TestStatus.SUCCESS]


def test_delayed_labels_first_predictions_only_then_with_labels():
    frame = predictions()
    served = frame.drop(columns="y")
    no_labels = DataDefinition(prediction="pred", prediction_probas="p")
    report = Report([ClassificationPreset()], definition=no_labels).run(served)
    skipped = [r for r in report.results if r.status == "skipped"]
    assert skipped
    assert all("No labels" in (r.reason or "") for r in skipped)
    assert not [r for r in report.results if r.status == "error"]
    suite = TestSuite(
        [BinaryClassificationTestPreset(), NoTargetPerformanceTestPreset()], definition=no_labels
    ).run(served, served)
    by_status = {t.type: t.status for t in suite.tests}
    assert by_status["TestAccuracy"] == TestStatus.SKIPPED
    assert by_status["TestShareOfDriftedColumns"] == TestStatus.SUCCESS
    assert suite.passed  # skipped tests do not fail the run
    # The labels arrive a day later for the same rows: now everything computes.
    later = Report([ClassificationPreset()], definition=CLASSIFICATION).run(frame)
    assert all(r.status == "ok" for r in later.results), [
        (r.metric_id, r.reason) for r in later.results if r.status != "ok"
    ]


def test_labels_that_arrive_for_part_of_the_rows():
    frame = predictions().astype({"y": float})
    frame.loc[frame.index[1000:], "y"] = np.nan
    run = Report([ClassificationPreset(curves=False)], definition=CLASSIFICATION).run(frame)
    quality = run.metric("ClassificationQuality()")
    assert quality.values["current"]["rows"] == 1000


def test_presets_run_end_to_end():
    frame = predictions()
    suite = TestSuite([BinaryClassificationTestPreset()], definition=CLASSIFICATION).run(
        frame, predictions(seed=9)
    )
    assert len(suite.tests) == 6
    assert all(t.status != TestStatus.ERROR for t in suite.tests)
    regression = TestSuite(
        [RegressionTestPreset()], definition=DataDefinition(target="y", prediction="pred")
    ).run(regression_frame())
    assert len(regression.tests) == 5
    report = Report(
        [RegressionPreset()], definition=DataDefinition(target="y", prediction="pred")
    ).run(regression_frame())
    assert all(r.status == "ok" for r in report.results)


def test_multiclass_preset_tests_each_label():
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c"])
    y = rng.choice(labels, 600)
    frame = pd.DataFrame(
        {"y": y, "pred": np.where(rng.random(600) < 0.7, y, rng.choice(labels, 600))}
    )
    suite = TestSuite(
        [MulticlassClassificationTestPreset()],
        definition=DataDefinition(target="y", prediction="pred"),
    ).run(frame, frame)
    names = [t.name for t in suite.tests]
    assert "Precision of label 'b'" in names
    assert all(t.status == TestStatus.SUCCESS for t in suite.tests)


@pytest.mark.parametrize("missing", ["target", "prediction"])
def test_a_regression_test_without_its_columns_explains_itself(missing):
    definition = (
        DataDefinition(target="y") if missing == "prediction" else DataDefinition(prediction="pred")
    )
    suite = TestSuite([TestMAE()], definition=definition).run(regression_frame())
    status = suite.tests[0].status
    assert status == (TestStatus.ERROR if missing == "prediction" else TestStatus.SKIPPED)
    assert "declare" in suite.tests[0].description


def test_model_preset_snapshots_validate_against_the_schema():
    from metrics import RankingPreset, RankingTestPreset, Segmented, TextEvalsPreset
    from tests.metrics.test_report_and_snapshot import validate

    binary = predictions()
    validate(
        Report([ClassificationPreset()], definition=CLASSIFICATION)
        .run(binary, predictions(seed=4))
        .dict()
    )
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c"])
    probabilities = rng.dirichlet([1, 1, 1], 500)
    multi = pd.DataFrame(probabilities, columns=labels)
    multi["y"] = rng.choice(labels, 500)
    multi_definition = DataDefinition(target="y", prediction_probas=list(labels))
    validate(
        Report([ClassificationPreset(k=2)], definition=multi_definition).run(multi, multi).dict()
    )
    regression = regression_frame()
    validate(
        Report(
            [RegressionPreset(), Segmented([RegressionPreset()], by="x", values=[0.0])],
            definition=DataDefinition(target="y", prediction="pred"),
        )
        .run(regression, regression)
        .dict()
    )
    ranking = pd.DataFrame(
        {
            "user": np.repeat([f"u{i}" for i in range(50)], 8),
            "item": [f"i{j}" for j in rng.integers(0, 30, 400)],
            "score": rng.random(400),
            "clicked": rng.integers(0, 2, 400),
        }
    )
    ranking_definition = DataDefinition(
        user_id="user", item_id="item", prediction="score", target="clicked"
    )
    run = Report([RankingPreset(k=5)], definition=ranking_definition).run(ranking, ranking)
    assert all(r.status == "ok" for r in run.results), [
        (r.metric_id, r.reason) for r in run.results if r.status != "ok"
    ]
    validate(run.dict())
    validate(
        TestSuite([RankingTestPreset(k=5)], definition=ranking_definition)
        .run(ranking, ranking)
        .dict()
    )
    texts = pd.DataFrame({"review": ["fine product", "bad http://x.io", "ok then."] * 30})
    validate(Report([TextEvalsPreset(columns=["review"])]).run(texts, texts).dict())


def test_mape_test_passes_its_zero_handling_to_the_metric():
    definition = DataDefinition(target="y", prediction="pred")
    frame = pd.DataFrame({"y": [0.0, 2.0, 4.0, 1.0], "pred": [1.0, 3.0, 2.0, 1.5]})
    suite = TestSuite(
        [
            TestMAPE(lte=100),
            TestMAPE(zero_handling="eps", lte=100),
            TestMAPE(zero_handling="error"),
        ],
        definition=definition,
    ).run(frame)
    skip, eps, error = suite.tests
    assert skip.status == TestStatus.SUCCESS
    assert skip.value == pytest.approx(100 * np.mean([1 / 2, 2 / 4, 1 / 2]))
    assert eps.status == TestStatus.FAIL  # 1 / 2.2e-16 of the zero target
    assert eps.value == pytest.approx(100 * np.mean([1 / np.finfo(float).eps, 1 / 2, 2 / 4, 1 / 2]))
    assert error.status == TestStatus.ERROR
    assert "'y' is 0 in 1 current row." in error.description


def test_mape_test_refuses_an_unknown_zero_handling_when_made():
    with pytest.raises(ValueError, match="zero_handling must be one of 'skip', 'eps', 'error'"):
        TestMAPE(zero_handling="drop")
