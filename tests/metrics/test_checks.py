"""Tests: statuses, conditions derived from the reference, sentences, and never crashing."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from metrics import (
    DataDefinition,
    TestColumnCount,
    TestColumnDrift,
    TestColumnMax,
    TestColumnMean,
    TestColumnMin,
    TestColumnMissingShare,
    TestColumnQuantile,
    TestConstantColumns,
    TestRowCount,
    TestShareOfDriftedColumns,
    TestStatus,
    TestSuite,
    approx,
)
from metrics.computations.drift_methods import METHODS


def run(tests, current, reference=None, **kwargs):
    return TestSuite(tests, **kwargs).run(current, reference)


def test_explicit_conditions_pass_and_fail(current):
    suite = run([TestRowCount(gte=1000), TestRowCount(lt=10)], current)
    ok, bad = suite.tests
    assert ok.status == TestStatus.SUCCESS
    assert ok.description == "Row count is 2,000; expected ≥ 1,000."
    assert bad.status == TestStatus.FAIL
    assert bad.condition == {"lt": 10}
    assert bad.value == 2000
    assert not suite.passed


def test_non_critical_failures_are_warnings(current):
    suite = run([TestRowCount(lt=10, is_critical=False)], current)
    assert suite.tests[0].status == TestStatus.WARNING
    assert suite.passed


def test_conditions_are_derived_from_the_reference(reference, current):
    suite = run(
        [
            TestRowCount(),  # 2000 vs 3000: outside ±10%
            TestColumnCount(),
            TestColumnMean(column="income"),  # same distribution: within ±10%
            TestColumnMin(column="age"),
            TestColumnMax(column="age"),
            TestColumnMissingShare(column="income"),
            TestColumnQuantile(column="income", q=0.5),
        ],
        current,
        reference,
    )
    by_type = {t.type: t for t in suite.tests}
    assert by_type["TestRowCount"].status == TestStatus.FAIL
    assert by_type["TestRowCount"].description == (
        "Row count is 2,000; expected = 3,000 ± 10% (from the reference)."
    )
    assert by_type["TestRowCount"].reference_value == 3000
    assert by_type["TestColumnCount"].status == TestStatus.SUCCESS
    assert by_type["TestColumnMean"].status == TestStatus.SUCCESS
    assert by_type["TestColumnMean"].condition_source == "reference"
    # Min and max: not below the reference's min, not above its max (current is shifted up by 3).
    assert by_type["TestColumnMin"].condition == {"gte": reference["age"].min()}
    assert by_type["TestColumnMax"].status == (
        TestStatus.SUCCESS if current["age"].max() <= reference["age"].max() else TestStatus.FAIL
    )
    missing = by_type["TestColumnMissingShare"]
    assert missing.condition["lte"]["approx"]["value"] == pytest.approx(
        reference["income"].isna().mean()
    )
    assert missing.condition["lte"]["approx"]["relative"] == 0.1
    assert by_type["TestColumnQuantile"].status == TestStatus.SUCCESS


def test_defaults_without_a_reference(current):
    suite = run(
        [
            TestRowCount(),
            TestColumnMissingShare(column="income"),
            TestConstantColumns(),
            TestColumnMean(column="age"),
        ],
        current,
    )
    row_count, missing, constant, mean = suite.tests
    assert row_count.status == TestStatus.SUCCESS
    assert row_count.condition == {"gt": 0}
    assert row_count.condition_source == "default"
    assert missing.status == TestStatus.FAIL  # the default is no missing values
    assert missing.condition == {"eq": 0}
    assert constant.status == TestStatus.SUCCESS
    assert mean.status == TestStatus.SKIPPED
    assert "no condition was given and there is no reference" in mean.description


def test_a_test_that_cannot_compute_is_an_error_and_the_suite_goes_on(current):
    suite = run([TestColumnQuantile(column="plan", q=0.5), TestRowCount()], current)
    broken, fine = suite.tests
    assert broken.status == TestStatus.ERROR
    assert "needs a numerical column" in broken.description
    assert fine.status == TestStatus.SUCCESS
    assert not suite.passed


def test_a_missing_column_is_an_error_not_a_crash(current):
    suite = run([TestColumnMean(column="nope", gt=0)], current)
    assert suite.tests[0].status == TestStatus.ERROR
    assert "'nope' is not a feature column" in suite.tests[0].description


def test_drift_tests_need_a_reference(current):
    suite = run([TestColumnDrift(column="age"), TestShareOfDriftedColumns()], current)
    assert [t.status for t in suite.tests] == [TestStatus.SKIPPED, TestStatus.SKIPPED]
    assert "reference" in suite.tests[0].description


def test_each_metric_is_computed_once_for_many_tests(current, reference, monkeypatch):
    from metrics.computations.column_stats import ColumnSummary

    calls = []
    original = ColumnSummary.compute

    def counting(self, ctx):
        calls.append(self.id)
        return original(self, ctx)

    monkeypatch.setattr(ColumnSummary, "compute", counting)
    run(
        [
            TestColumnMean(column="age"),
            TestColumnMin(column="age"),
            TestColumnMax(column="age"),
            TestColumnMean(column="age", gt=0),
        ],
        current,
        reference,
    )
    assert calls == ['ColumnSummary(column="age")']


def test_duplicate_tests_run_once(current):
    suite = run([TestRowCount(gt=0), TestRowCount(gt=0), TestRowCount(gt=1)], current)
    assert len(suite.tests) == 2


def test_approximate_conditions_in_tests(current):
    mean = current["age"].mean()
    suite = run([TestColumnMean(column="age", eq=approx(mean * 1.05, relative=0.1))], current)
    assert suite.tests[0].status == TestStatus.SUCCESS


def test_nan_values_fail_their_condition():
    frame = pd.DataFrame({"x": [np.nan, np.nan]})
    suite = run(
        [TestColumnMean(column="x", gt=0)],
        frame,
        definition=DataDefinition(numerical_columns=["x"]),
    )
    assert suite.tests[0].status == TestStatus.FAIL
    assert "Mean of 'x' is NaN" in suite.tests[0].description


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_drift_method_describes_its_result_without_a_doubled_word(method):
    rng = np.random.default_rng(7)
    numerical = "numerical" in METHODS[method].column_types
    if numerical:
        ref = pd.DataFrame({"x": rng.normal(0, 1, 300)})
        cur = pd.DataFrame({"x": rng.normal(0.8, 1, 300)})
    else:
        cats, ps = (
            (["a", "b"], [[0.7, 0.3], [0.4, 0.6]])
            if method == "z_test"
            else (
                ["a", "b", "c"],
                [[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]],
            )
        )
        ref = pd.DataFrame({"x": rng.choice(cats, 300, p=ps[0])})
        cur = pd.DataFrame({"x": rng.choice(cats, 300, p=ps[1])})
    result = run([TestColumnDrift(column="x", method=method)], cur, ref).tests[0]
    assert result.status in (TestStatus.SUCCESS, TestStatus.FAIL), result.description
    words = re.findall(r"[\w'-]+", result.description.lower())
    assert not [a for a, b in itertools.pairwise(words) if a == b], result.description
    assert METHODS[method].title in result.description
    kind = "p-value" if METHODS[method].kind == "p_value" else "distance"
    assert (kind == "p-value") == ("p-value is" in result.description)
