"""New and vanished categories: per column in the drift results and the drift preset's snapshot,
counted against plain Python sets and pandas counts, and tests that alert on them."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from metrics import (
    ColumnDrift,
    ColumnValueList,
    DataDefinition,
    DataDriftPreset,
    Report,
    TestColumnNewCategories,
    TestColumnVanishedCategories,
    TestStatus,
    TestSuite,
    names,
)
from metrics.core.snapshot import snapshot_schema


def frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A plan column that gains "enterprise" and "trial" and loses "legacy", with nulls."""
    rng = np.random.default_rng(seed)
    reference = rng.choice(["basic", "pro", "legacy", None], 600, p=[0.5, 0.3, 0.15, 0.05])
    current = rng.choice(
        ["basic", "pro", "enterprise", "trial", None], 500, p=[0.5, 0.3, 0.1, 0.05, 0.05]
    )
    return pd.DataFrame({"plan": current}), pd.DataFrame({"plan": reference})


DEFINITION = DataDefinition(categorical_columns=["plan"])


def test_a_categorical_drift_result_counts_new_and_vanished_categories():
    current, reference = frames()
    metric = ColumnDrift(column="plan")
    result = Report([metric], definition=DEFINITION).run(current, reference).metric(metric)
    cur, ref = current["plan"].dropna(), reference["plan"].dropna()
    new, vanished = set(cur) - set(ref), set(ref) - set(cur)
    assert new == {"enterprise", "trial"}
    assert vanished == {"legacy"}
    values = result.values
    assert values[names.ColumnDrift.NEW_CATEGORIES] == len(new)
    assert values[names.ColumnDrift.VANISHED_CATEGORIES] == len(vanished)
    assert values["new_categories_share"] == pytest.approx(cur.isin(new).mean(), rel=1e-12)
    assert values["vanished_categories_share"] == pytest.approx(
        ref.isin(vanished).mean(), rel=1e-12
    )
    counts = cur.value_counts()
    assert result.details["new_category_values"] == [
        {"value": v, "count": int(counts[v])} for v in counts.index if v in new
    ]
    assert result.details["vanished_category_values"] == [
        {"value": "legacy", "count": int((ref == "legacy").sum())}
    ]


def test_the_same_categories_on_both_sides_report_zero():
    _current, reference = frames()
    same = reference.sample(frac=1, random_state=1)
    metric = ColumnDrift(column="plan")
    result = Report([metric], definition=DEFINITION).run(same, reference).metric(metric)
    assert result.values["new_categories"] == result.values["vanished_categories"] == 0
    assert result.values["new_categories_share"] == 0.0
    assert result.details["new_category_values"] == []


def test_a_numerical_column_reports_no_categories():
    rng = np.random.default_rng(0)
    metric = ColumnDrift(column="x")
    result = (
        Report([metric])
        .run(pd.DataFrame({"x": rng.normal(size=200)}), pd.DataFrame({"x": rng.normal(size=200)}))
        .metric(metric)
    )
    assert "new_categories" not in result.values
    assert "new_category_values" not in result.details


def test_the_drift_preset_snapshot_carries_them_and_validates():
    current, reference = frames()
    run = Report([DataDriftPreset()], definition=DEFINITION).run(current, reference)
    document = json.loads(run.json())
    jsonschema.Draft202012Validator(
        snapshot_schema(), format_checker=jsonschema.FormatChecker()
    ).validate(document)
    (plan,) = [m for m in document["metrics"] if m["type"] == "ColumnDrift"]
    assert plan["values"]["new_categories"] == 2
    assert plan["values"]["vanished_categories"] == 1
    assert [c["value"] for c in plan["details"]["vanished_category_values"]] == ["legacy"]


def test_value_list_counts_vanished_values_against_the_reference_and_a_given_list():
    current, reference = frames()
    metric = ColumnValueList(column="plan")
    result = Report([metric], definition=DEFINITION).run(current, reference).metric(metric)
    assert result.values["current"]["new_values"] == 2
    assert result.values["current"]["vanished_values"] == 1
    assert result.values["reference"]["vanished_values"] == 0
    assert result.details["current_vanished_examples"] == ["legacy"]
    listed = ColumnValueList(column="plan", values=["basic", "pro", "gold", "gold"])
    given = Report([listed], definition=DEFINITION).run(current, reference).metric(listed)
    assert given.values["current"]["vanished_values"] == 1  # "gold", listed twice
    assert given.values["reference"]["vanished_values"] == 1


def test_the_tests_alert_on_new_and_vanished_categories_with_a_count_to_allow():
    current, reference = frames()
    suite = TestSuite(
        [
            TestColumnNewCategories(column="plan"),
            TestColumnVanishedCategories(column="plan"),
            TestColumnNewCategories(column="plan", lte=2),
            TestColumnVanishedCategories(column="plan", lte=0, is_critical=False),
        ],
        definition=DEFINITION,
    ).run(current, reference)
    strict_new, strict_vanished, allowed_new, warned = suite.tests
    assert strict_new.status == TestStatus.FAIL
    assert strict_new.value == 2
    assert strict_vanished.status == TestStatus.FAIL
    assert strict_vanished.value == 1
    assert "Vanished values in 'plan' is 1; expected ≤ 0" in strict_vanished.description
    assert allowed_new.status == TestStatus.SUCCESS
    assert warned.status == TestStatus.WARNING
    calm = TestSuite([TestColumnVanishedCategories(column="plan")], definition=DEFINITION).run(
        reference.sample(frac=1, random_state=2), reference
    )
    assert calm.tests[0].status == TestStatus.SUCCESS
