"""Query-string parsing for the API, the pages and the dashboard data: every `?name=value` is judged here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mlplatform.accounts.access import parse_uuid
from mlplatform.instants import OUTSIDE_THE_CALENDAR, in_utc

# The dashboard's preset time ranges; "all" and "custom" (with since and until) besides.
RANGES = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
}
RANGE_KEYS = [*RANGES, "all", "custom"]
DEFAULT_RANGE = "30d"
# Page numbers past this are clamped: no page list is that long, and a bigger OFFSET overflows.
MAX_PAGE = 1_000_000
# Row keys are PostgreSQL bigints.
MAX_KEY = 2**63 - 1
MAX_TAGS = 10
MAX_TAG_CHARS = 100

_ISO_EXAMPLE = "e.g. 2026-11-01T00:00:00Z."
_DATE_EXAMPLE = "e.g. 2026-11-01 or 2026-11-01T06:00Z."


class QueryError(ValueError):
    """One query parameter refused: the API answers 400 with `{name: [message]}`, pages say it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    @property
    def fields(self) -> dict[str, list[str]]:
        return {self.name: [self.message]}


def text(raw: str, name: str) -> str:
    """A free-text value as given, refused when it holds a NUL (PostgreSQL's text cannot)."""
    if "\x00" in raw:
        raise QueryError(name, "Values cannot contain NUL characters.")
    return raw


def texts(params: Any, name: str) -> list[str]:
    """Repeated free-text values (`?tag=a&tag=b`, `?metric=`), each as given."""
    return [text(raw, name) for raw in params.getlist(name)]


def whole_number(raw: str, *, high: int = MAX_KEY) -> int | None:
    """A string of decimal digits as a number no larger than `high`, else None (never raises)."""
    if not raw.isdecimal():
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(high)):  # too long to be in range: not worth converting
        return None
    return int(digits)


def integer(params: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    """A whole number from `low` to `high` (`?limit`, `?points`); `default` when absent."""
    raw = params.get(name)
    if raw is None:
        return default
    value = whole_number(raw, high=high)
    if value is None or not low <= value <= high:
        raise QueryError(name, f"Expected a whole number from {low} to {high}.")
    return value


def page_number(params: Mapping[str, Any], *, last: int = MAX_PAGE) -> int:
    """A page's `?page` (1 when absent or empty), from 1 to MAX_PAGE; past `last` it is the last
    page, as a link kept from when the list was longer expects."""
    value = integer(params, "page", default=1, low=1, high=MAX_PAGE) if params.get("page") else 1
    return min(value, max(1, last))


def keys(params: Any, name: str, *, what: str) -> list[int]:
    """Repeated row keys (`?id=3&id=5`), each a whole number."""
    found = []
    for raw in params.getlist(name):
        key = whole_number(raw)
        if key is None:
            raise QueryError(name, f"{raw!r} is not a {what} id.")
        found.append(key)
    return found


def identifier(params: Mapping[str, Any], name: str, *, what: str) -> uuid.UUID | None:
    """A UUID (`?rule=<id>`); None when absent or empty."""
    raw = params.get(name)
    if not raw:
        return None
    parsed = parse_uuid(raw)
    if parsed is None:
        raise QueryError(name, f"Expected a {what} id.")
    return parsed


def choices(params: Any, name: str, allowed: list[str]) -> list[str]:
    """Repeated `?name=` values, each one of `allowed`."""
    found = params.getlist(name)
    unknown = [value for value in found if value not in allowed]
    if unknown:
        raise QueryError(name, f"Unknown {name} {unknown[0]!r}; use {', '.join(allowed)}.")
    return found


def choice(params: Mapping[str, Any], name: str, allowed: list[str]) -> str | None:
    """One `?name=` value of `allowed`; None when absent or empty."""
    raw = params.get(name)
    if not raw:
        return None
    if raw not in allowed:
        raise QueryError(name, f"Unknown {name} {raw!r}; use {', '.join(allowed)}.")
    return raw


def instant(raw: str, name: str, *, dates: bool = False) -> datetime:
    """An ISO 8601 time (UTC when it names no zone); `dates` words the error for a date box."""
    try:
        # A '+' of an offset arrives as a space when the query string was not encoded.
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        what = "a date or an ISO 8601 time" if dates else "an ISO 8601 date and time"
        example = _DATE_EXAMPLE if dates else _ISO_EXAMPLE
        raise QueryError(name, f"{raw!r} is not {what}, {example}") from None
    try:
        return in_utc(value)
    except ValueError:
        raise QueryError(name, f"{raw!r} is {OUTSIDE_THE_CALENDAR}.") from None


def day_after(value: datetime) -> datetime:
    """The start of the next day, for a date that runs to its end; the last instant Python knows
    for the calendar's last day (9999-12-31), which has no next day."""
    try:
        return value + timedelta(days=1)
    except OverflowError:
        return datetime.max.replace(tzinfo=value.tzinfo)


def optional_instant(params: Mapping[str, Any], name: str) -> datetime | None:
    """`?since` or `?until` of the API; None when absent or empty."""
    raw = params.get(name)
    return instant(raw, name) if raw else None


@dataclass(frozen=True)
class TimeRange:
    key: str  # 24h, 7d, 30d, 90d, 1y, all or custom
    since: datetime | None
    until: datetime | None


def time_range(params: Mapping[str, Any], *, now: datetime) -> TimeRange:
    """`range` (a key of RANGES, all or custom), with `since` and `until` (dates or times) for
    custom; `since` or `until` alone means custom. A date as `until` runs to the end of that day."""
    since_raw, until_raw = params.get("since") or "", params.get("until") or ""
    key = params.get("range") or ("custom" if since_raw or until_raw else DEFAULT_RANGE)
    if key in RANGES:
        return TimeRange(key, now - RANGES[key], None)
    if key == "all":
        return TimeRange(key, None, None)
    if key != "custom":
        raise QueryError("range", f"Expected one of {', '.join(RANGE_KEYS)}.")
    since = instant(since_raw, "since", dates=True) if since_raw else None
    until = instant(until_raw, "until", dates=True) if until_raw else None
    if until is not None and len(until_raw) == 10:  # a date: up to the end of that day
        until = day_after(until)
    if since and until and since >= until:
        raise QueryError("until", "The end of the range must come after its start.")
    return TimeRange("custom", since, until)


def tags(params: Any) -> list[str]:
    """`?tag=` repeated (the API's form) or several comma-separated (a filter box)."""
    raw = params.getlist("tag") if hasattr(params, "getlist") else [params.get("tag") or ""]
    found = [t.strip() for value in raw for t in text(value, "tag").split(",") if t.strip()][
        :MAX_TAGS
    ]
    if any(len(t) > MAX_TAG_CHARS for t in found):
        raise QueryError("tag", f"Tags are at most {MAX_TAG_CHARS} characters.")
    return found


def metadata(
    params: Mapping[str, Any],
    *,
    key: re.Pattern[str],
    strict: bool = True,
    keep_empty: bool = False,
    box: bool = False,
) -> dict[str, str]:
    """The `meta.<key>=value` filters, keys matched by `key`.

    `strict` refuses a malformed key (the API, the dashboard), else it is ignored (a page's link);
    `keep_empty` keeps `meta.k=` (the API filters on an empty value); `box` also reads the filter
    box's `meta=key=value other=value`.
    """
    # (the name an error gives, the key, the value); a box's pair is named as its meta.<key> is.
    boxed = text(str(params.get("meta") or ""), "meta") if box else ""
    pairs = [(f"meta.{k}", k, v) for k, _, v in (p.partition("=") for p in boxed.split()) if k]
    pairs += [(name, name[5:], value) for name, value in params.items() if name.startswith("meta.")]
    found = {}
    for parameter, name, value in pairs:
        if value == "" and not keep_empty:
            continue
        if not key.match(name):
            if strict:
                raise QueryError(
                    parameter, "Metadata keys are letters, digits, '_', '-' and '.' (not '__')."
                )
            continue
        found[name] = text(value, parameter)
    return found


def without(params: Any, *names: str) -> str:
    """The query string less some parameters: a page's links keep the other filters."""
    remaining = params.copy()
    for name in names:
        remaining.pop(name, None)
    return remaining.urlencode()
