"""Conditions: every operator, with exact and approximate values."""

from __future__ import annotations

import math

import pytest

from metrics import Condition, approx


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        (Condition(eq=5), 5, True),
        (Condition(eq=5), 5.1, False),
        (Condition(not_eq=5), 4, True),
        (Condition(gt=5), 5, False),
        (Condition(gte=5), 5, True),
        (Condition(lt=5), 4.99, True),
        (Condition(lte=5), 5.01, False),
        (Condition(is_in=["a", "b"]), "a", True),
        (Condition(is_in=[1, 2]), 3, False),
        (Condition(not_in=[1, 2]), 3, True),
        (Condition(gte=1, lte=2), 1.5, True),
        (Condition(gte=1, lte=2), 2.5, False),
        (Condition(eq=approx(10, relative=0.1)), 10.99, True),
        (Condition(eq=approx(10, relative=0.1)), 11.01, False),
        (Condition(not_eq=approx(10, relative=0.1)), 11.01, True),
        (Condition(gte=approx(10, relative=0.1)), 9.01, True),
        (Condition(gt=approx(10, relative=0.1)), 8.99, False),
        (Condition(lte=approx(10, absolute=0.5)), 10.5, True),
        (Condition(lt=approx(10, absolute=0.5)), 10.5, False),
        (Condition(is_in=[approx(1.0, absolute=0.01)]), 1.005, True),
        (Condition(eq=approx(0)), 1e-13, True),
    ],
)
def test_operators(condition, value, expected):
    assert condition.check(value) is expected


def test_nan_and_none_never_pass_a_comparison():
    assert not Condition(gte=0).check(math.nan)
    assert not Condition(lt=1).check(None)
    assert Condition(not_in=[1]).check(None)


def test_the_tolerance_is_the_larger_of_relative_and_absolute():
    assert approx(100, relative=0.1, absolute=1).tolerance == 10
    assert approx(1, relative=0.1, absolute=1).tolerance == 1


def test_descriptions_read_like_sentences():
    assert Condition(gte=1, lte=2).describe() == "≥ 1 and ≤ 2"
    assert Condition(eq=approx(0.5, relative=0.1)).describe() == "= 0.5 ± 10%"
    assert Condition(lte=approx(0, absolute=0.01)).describe() == "≤ 0 ± 0.01"
    assert Condition(is_in=["a", 1]).describe() == "in ['a', 1]"


def test_conditions_serialise():
    assert Condition(eq=approx(2, relative=0.1), gt=0).to_dict() == {
        "eq": {"approx": {"value": 2.0, "relative": 0.1, "absolute": 1e-12}},
        "gt": 0,
    }


def test_unknown_or_empty_conditions_are_errors():
    with pytest.raises(TypeError, match="Unknown condition"):
        Condition.from_kwargs(greater=1)
    assert Condition.from_kwargs(eq=None) is None
    with pytest.raises(ValueError, match="empty condition"):
        Condition().check(1)
