"""Tests: a metric's value checked against a condition, with a status and a sentence.

Give a condition (`TestColumnMean(column="age", gte=30)`) or let it be derived from the reference
(`TestColumnMean(column="age")`: the mean within ±10% of the reference's). Without a reference, some
tests have a sensible default (row count > 0, no missing values); the others are SKIPPED, saying why.
A failed test is FAIL, or WARNING when `is_critical=False`; a test whose metric cannot be computed is
ERROR with the reason. Running a test never raises.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from metrics.core.base import Context, Metric, MetricResult, clean, jsonable_param
from metrics.suites.conditions import Condition, Rule, fmt, is_usable

#: Every `Test` subclass, by class name (filled as classes are defined).
TEST_REGISTRY: dict[str, type[Test]] = {}


class TestStatus(StrEnum):
    __test__ = False  # not a pytest test class
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    WARNING = "WARNING"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class
    id: str
    type: str
    name: str
    status: TestStatus
    critical: bool
    metric_id: str
    field: str
    description: str
    # dataclasses.field, spelled out: the `field` attribute above shadows the name for mypy.
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    value: Any = None
    reference_value: Any = None
    condition: dict[str, Any] | None = None
    condition_source: str | None = None  # "given", "reference", "default" or "dummy"

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "id": self.id,
                "type": self.type,
                "name": self.name,
                "status": str(self.status),
                "critical": self.critical,
                "params": self.params,
                "metric_id": self.metric_id,
                "field": self.field,
                "value": _as_number(self.value),
                "reference_value": _as_number(self.reference_value),
                "condition": self.condition,
                "condition_source": self.condition_source,
                "description": self.description,
            }
        )


def _as_number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Test:
    """Base class of all tests. Subclasses set `title` (with `{param}` placeholders), `field` (the
    metric value checked, under "current" and "reference") and `rule`, and implement `metric()`."""

    __test__ = False  # not a pytest test class
    title: ClassVar[str] = ""
    field: ClassVar[str] = ""
    group: ClassVar[str] = "data_quality"
    rule: ClassVar[Rule | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = False
        TEST_REGISTRY[cls.__name__] = cls

    def __init__(
        self,
        *,
        eq: Any = None,
        not_eq: Any = None,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        is_in: list[Any] | None = None,
        not_in: list[Any] | None = None,
        is_critical: bool = True,
        **params: Any,
    ) -> None:
        self.condition = Condition.from_kwargs(
            eq=eq, not_eq=not_eq, gt=gt, gte=gte, lt=lt, lte=lte, is_in=is_in, not_in=not_in
        )
        self.is_critical = is_critical
        self.params = {k: jsonable_param(k, v) for k, v in params.items() if v is not None}

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def id(self) -> str:
        """Like a metric's id: the type and the parameters (and condition) that make the test."""
        key = dict(self.params)
        if self.condition is not None:
            key["condition"] = self.condition.to_dict()
        if not self.is_critical:
            key["critical"] = False
        args = ",".join(
            f"{k}={json.dumps(clean(v), sort_keys=True, separators=(',', ':'), ensure_ascii=False)}"
            for k, v in sorted(key.items())
        )
        return f"{self.type}({args})"

    @property
    def name(self) -> str:
        return self.title.format(
            **{k: repr(v) if isinstance(v, str) else fmt(v) for k, v in self.params.items()}
        )

    def metric(self) -> Metric:
        raise NotImplementedError

    def value(self, result: MetricResult, side: str = "current") -> Any:
        return result.get(f"{side}.{self.field}")

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        """The condition from the rule, the reference value it came from, and where it came
        from: "reference", or "default" for a rule that needs no reference."""
        reference = self.value(result, "reference") if "reference" in result.values else None
        rule = type(self).rule  # read from the class: a plain function, not a bound method
        condition = rule(reference) if rule else None
        return condition, reference, "reference" if is_usable(reference) else "default"

    def run(self, ctx: Context) -> TestResult:
        metric = self.metric()
        base: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "critical": self.is_critical,
            "metric_id": metric.id,
            "field": self.field,
            "params": self.params,
        }
        result = ctx.result(metric)
        if result.status == "skipped":
            return TestResult(
                status=TestStatus.SKIPPED,
                description=f"{self.name}: skipped. {result.reason}",
                **base,
            )
        if result.status == "error":
            return TestResult(
                status=TestStatus.ERROR,
                description=f"{self.name}: could not compute. {result.reason}",
                **base,
            )
        try:
            return self.evaluate(result, base)
        except Exception as exc:  # a test never crashes its suite
            return TestResult(
                status=TestStatus.ERROR,
                description=f"{self.name}: could not evaluate ({type(exc).__name__}: {exc}).",
                **base,
            )

    def evaluate(self, result: MetricResult, base: dict[str, Any]) -> TestResult:
        value = self.value(result)
        reference = None
        if self.condition is not None:
            condition, source = self.condition, "given"
            if "reference" in result.values:
                reference = self.value(result, "reference")
        else:
            condition, reference, source = self.derive_condition(result)
        if condition is None:
            return TestResult(
                status=TestStatus.SKIPPED,
                description=f"{self.name} is {fmt(value)}; no condition was given and there is no reference to derive one from.",
                value=value,
                **base,
            )
        passed = condition.check(value)
        status = (
            TestStatus.SUCCESS
            if passed
            else (TestStatus.FAIL if self.is_critical else TestStatus.WARNING)
        )
        origin = {
            "given": "",
            "reference": " (from the reference)",
            "default": " (default)",
            "dummy": " (no worse than the dummy baseline)",
        }[source]
        return TestResult(
            status=status,
            description=f"{self.name} is {fmt(value)}; expected {condition.describe()}{origin}.",
            value=value,
            reference_value=reference,
            condition=condition.to_dict(),
            condition_source=source,
            **base,
        )
