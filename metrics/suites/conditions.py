"""Conditions a test's value must meet: eq, not_eq, gt, gte, lt, lte, is_in, not_in, with
approximate values.

An approximate value, `approx(10, relative=0.1)`, stands for 10 ± 1 and loosens whichever comparison
it is used in: `eq` passes within the tolerance, `gte` passes from 9, `lte` up to 11, `gt` above 9,
`lt` below 11, `not_eq` outside [9, 11].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

OPERATORS = ("eq", "not_eq", "gt", "gte", "lt", "lte", "is_in", "not_in")
SYMBOLS = {
    "eq": "=",
    "not_eq": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "is_in": "in",
    "not_in": "not in",
}


@dataclass(frozen=True)
class Approx:
    """A value with a tolerance: max(relative * |value|, absolute)."""

    value: float
    relative: float = 1e-6
    absolute: float = 1e-12

    @property
    def tolerance(self) -> float:
        return max(self.relative * abs(self.value), self.absolute)

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "relative": self.relative, "absolute": self.absolute}

    def __str__(self) -> str:
        if self.tolerance <= 1e-9 * max(1.0, abs(self.value)):
            return fmt(self.value)  # a float-rounding allowance, not a tolerance worth showing
        if self.relative and self.relative * abs(self.value) >= self.absolute:
            return f"{fmt(self.value)} ± {fmt(self.relative * 100)}%"
        return f"{fmt(self.value)} ± {fmt(self.tolerance)}"


def approx(value: float, *, relative: float | None = None, absolute: float | None = None) -> Approx:
    """`value` give or take `relative` (a fraction of it) or `absolute`, whichever is larger."""
    return Approx(
        float(value),
        1e-6 if relative is None else float(relative),
        1e-12 if absolute is None else float(absolute),
    )


def fmt(value: Any) -> str:
    """A number as people read it: 1,234, 0.031, 12.5."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}"
    if isinstance(value, Approx):
        return str(value)
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Condition:
    """All the given comparisons must hold."""

    eq: Any = None
    not_eq: Any = None
    gt: Any = None
    gte: Any = None
    lt: Any = None
    lte: Any = None
    is_in: Sequence[Any] | None = None
    not_in: Sequence[Any] | None = None

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Condition | None:
        given = {k: v for k, v in kwargs.items() if v is not None}
        unknown = set(given) - set(OPERATORS)
        if unknown:
            raise TypeError(f"Unknown condition(s): {', '.join(sorted(unknown))}.")
        return cls(**given) if given else None

    def items(self) -> list[tuple[str, Any]]:
        return [(op, getattr(self, op)) for op in OPERATORS if getattr(self, op) is not None]

    def check(self, value: Any) -> bool:
        if not self.items():
            raise ValueError("An empty condition checks nothing.")
        return all(_holds(op, value, bound) for op, bound in self.items())

    def describe(self) -> str:
        parts = []
        for op, bound in self.items():
            shown = (
                "[" + ", ".join(fmt(v) for v in bound) + "]"
                if op in ("is_in", "not_in")
                else fmt(bound)
            )
            parts.append(f"{SYMBOLS[op]} {shown}")
        return " and ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for op, bound in self.items():
            if isinstance(bound, Approx):
                out[op] = {"approx": bound.to_dict()}
            elif op in ("is_in", "not_in"):
                out[op] = list(bound)
            else:
                out[op] = bound
        return out


def _holds(op: str, value: Any, bound: Any) -> bool:
    if op in ("is_in", "not_in"):
        inside = any(_equal(value, item) for item in bound)
        return inside if op == "is_in" else not inside
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(bound, Approx):
        low, high = bound.value - bound.tolerance, bound.value + bound.tolerance
        return {
            "eq": low <= value <= high,
            "not_eq": not low <= value <= high,
            "gt": value > low,
            "gte": value >= low,
            "lt": value < high,
            "lte": value <= high,
        }[op]
    return {
        "eq": lambda: _equal(value, bound),
        "not_eq": lambda: not _equal(value, bound),
        "gt": lambda: value > bound,
        "gte": lambda: value >= bound,
        "lt": lambda: value < bound,
        "lte": lambda: value <= bound,
    }[op]()


def _equal(value: Any, other: Any) -> bool:
    if isinstance(other, Approx):
        return abs(value - other.value) <= other.tolerance
    return value == other


# ---- conditions derived from the reference's value --------------------------------------------

# A rule derives a condition from the reference's value (None without a reference).
Rule = Callable[[Any], Condition | None]


def is_usable(value: Any) -> bool:
    """A value a condition can be derived from: not None and not NaN."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def near_reference(relative: float, *, fallback: Condition | None = None) -> Rule:
    """Equal to the reference's value ± `relative`."""
    return lambda ref: Condition(eq=approx(ref, relative=relative)) if is_usable(ref) else fallback


def at_most_reference(
    relative: float = 0.0, *, absolute: float = 1e-12, fallback: Condition | None = None
) -> Rule:
    """At most the reference's value, plus `relative` of it (or `absolute`, whichever is larger)."""
    return lambda ref: (
        Condition(lte=approx(ref, relative=relative, absolute=absolute))
        if is_usable(ref)
        else fallback
    )


def at_least_reference(fallback: Condition | None = None) -> Rule:
    return lambda ref: Condition(gte=ref) if is_usable(ref) else fallback


def equal_to_reference(fallback: Condition | None = None) -> Rule:
    return lambda ref: Condition(eq=ref) if is_usable(ref) else fallback


ZERO = Condition(eq=0)
