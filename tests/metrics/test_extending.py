"""Users add their own metric (and test) by subclassing, and their own descriptor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import (
    CustomDescriptor,
    DataDefinition,
    Metric,
    MetricResult,
    Report,
    TestStatus,
    TestSuite,
)
from metrics.core.base import REGISTRY, Context
from metrics.core.definition import ColumnType
from metrics.suites.base import Test
from metrics.suites.conditions import near_reference
from tests.metrics.test_report_and_snapshot import validate


class ShareAboveMean(Metric):
    """Share of a numerical column's values above its mean (a user's own metric)."""

    column_param = "column"

    def __init__(self, *, column: str) -> None:
        super().__init__(column=column)

    def compute(self, ctx: Context) -> MetricResult:
        pair = ctx.pair(self.params["column"])
        values = {}
        for side, data in (("current", pair.current), ("reference", pair.reference)):
            if data is not None:
                finite = data.sorted_finite
                values[side] = {"share": float((finite > finite.mean()).mean())}
        return self.result(values)


class TestShareAboveMean(Test):
    title = "Share of {column} above its mean"
    field = "share"
    rule = near_reference(0.1)

    def __init__(self, *, column: str, **kwargs) -> None:
        super().__init__(column=column, **kwargs)

    def metric(self) -> Metric:
        return ShareAboveMean(column=self.params["column"])


def test_a_custom_metric_runs_registers_and_lands_in_the_snapshot():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.exponential(size=1000)})
    run = Report([ShareAboveMean(column="x")]).run(frame, frame)
    result = run.metric(ShareAboveMean(column="x"))
    assert result.values["current"]["share"] == pytest.approx(
        (frame["x"] > frame["x"].mean()).mean()
    )
    assert REGISTRY["ShareAboveMean"] is ShareAboveMean
    validate(run.dict())
    suite = TestSuite([TestShareAboveMean(column="x")]).run(frame, frame)
    assert suite.tests[0].status == TestStatus.SUCCESS


def test_a_custom_descriptor_becomes_a_column():
    frame = pd.DataFrame({"message": ["Hi!!", "OK", "What?!", None]})
    exclamations = CustomDescriptor(
        column="message",
        alias="exclamations",
        func=lambda texts: texts.str.count("!"),
        type=ColumnType.NUMERICAL,
    )
    definition = DataDefinition(text_columns=["message"], descriptors=[exclamations])
    from metrics import ColumnSummary

    run = Report([ColumnSummary(column="exclamations")], definition=definition).run(frame)
    assert run.metric(ColumnSummary(column="exclamations")).values["current"]["sum"] == 3
