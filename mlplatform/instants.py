"""Times from outside, in UTC: PostgreSQL refuses time-zone offsets of 16 hours or more (Python
takes up to 24 h), and a time near the calendar's ends may have no UTC equivalent at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms

OUTSIDE_THE_CALENDAR = "outside the years 1 to 9999 in UTC"


def in_utc(value: datetime) -> datetime:
    """`value` in UTC (a naive one is taken as UTC); ValueError when UTC has no such time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00
        raise ValueError(f"{value.isoformat()} is {OUTSIDE_THE_CALENDAR}.") from None


class InstantField(forms.DateTimeField):
    """A form's date and time, handed on in UTC."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return in_utc(result)
        except ValueError:
            raise forms.ValidationError(
                f"That time is {OUTSIDE_THE_CALENDAR}.", code="overflow"
            ) from None
