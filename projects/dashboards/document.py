"""The dashboard document: its schema (panel types, options, limits) and the checker that puts a
document in its canonical form or names every bad field by its path.

A dashboard is data (docs/dashboards.md): the browser's editor and "dashboard as code" over the API
write the same JSON, checked here, so neither can store what the page cannot draw.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from django.core.exceptions import ValidationError

PANEL_TYPES = (
    "counter",
    "line",
    "bar",
    "scatter",
    "distribution",
    "test_status",
    "test_counts",
    "text",
)
SERIES_PANELS = ("counter", "line", "bar", "scatter")
AGGREGATES = ("last", "sum", "avg", "min", "max")
FORMATS = ("number", "integer", "percent")
SIZES = ("half", "full", "third")
PERIODS = ("auto", "hour", "day", "week", "month")
MAX_TABS = 20
MAX_PANELS_PER_TAB = 40
MAX_SERIES = 10
MAX_SPEC_BYTES = 256 * 1024

_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}\Z")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}\Z")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class _Checker:
    """Collects every problem of a dashboard document, each under its path (tabs[0].panels[2].unit),
    so that a bad document gets one answer naming all its faults."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def text(
        self, obj: dict[str, Any], key: str, path: str, *, limit: int, required: bool = False
    ) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(f"{path}.{key}", "This field is required.")
            return ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", "Expected a string.")
            return ""
        if len(value) > limit:
            self.fail(f"{path}.{key}", f"At most {limit} characters.")
        if required and not value.strip():
            self.fail(f"{path}.{key}", "Must not be blank.")
        return value

    def choice(self, obj: dict[str, Any], key: str, path: str, options: tuple[str, ...]) -> str:
        value = obj.get(key, options[0])
        if value not in options:
            self.fail(f"{path}.{key}", f"Expected one of: {', '.join(options)}.")
            return options[0]
        return str(value)

    def number(self, value: Any, path: str, *, nullable: bool = False) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, "Expected a number.")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.fail(path, "Expected a finite number.")
            return None
        return float(value)

    def color(self, obj: dict[str, Any], path: str) -> str | None:
        value = obj.get("color")
        if value is None:
            return None
        if not isinstance(value, str) or not _COLOR.match(value):
            self.fail(f"{path}.color", "Expected a colour like #d62728.")
            return None
        return value

    def items(self, obj: dict[str, Any], key: str, path: str, *, limit: int) -> list[Any]:
        value = obj.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{path}.{key}", "Expected a list.")
            return []
        if len(value) > limit:
            self.fail(f"{path}.{key}", f"At most {limit} items.")
            return []
        return value

    def identifier(self, obj: dict[str, Any], path: str, seen: set[str], *, prefix: str) -> Any:
        """The `id` of a tab or panel (a new one with `prefix` when absent), which no other tab or
        panel of the document (`seen`, which it joins) may have."""
        value = obj.get("id") or new_id(prefix)
        if not isinstance(value, str) or not _ID.match(value):
            self.fail(f"{path}.id", "Ids are 1 to 40 letters, digits, '-' or '_'.")
        elif value in seen:
            self.fail(f"{path}.id", f"Another tab or panel has the id {value!r}.")
        seen.add(str(value))
        return value

    def objects(
        self, obj: dict[str, Any], key: str, path: str, fields: tuple[str, ...], *, limit: int
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each entry of the list `key` that is an object (of only `fields`), with its path."""
        for i, item in enumerate(self.items(obj, key, path, limit=limit)):
            where = f"{path}.{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(where, "Expected {" + ", ".join(fields) + "}.")
                continue
            self.unknown(item, where, fields)
            yield where, item

    def label_and_color(
        self, entry: dict[str, Any], obj: dict[str, Any], path: str
    ) -> dict[str, Any]:
        """`entry` with the optional `label` and `color` of `obj`, when given."""
        if label := self.text(obj, "label", path, limit=100):
            entry["label"] = label
        if color := self.color(obj, path):
            entry["color"] = color
        return entry

    def unknown(self, obj: dict[str, Any], path: str, allowed: Iterable[str]) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"{path}.{key}", f"Unknown field {key!r}.")


_PANEL_FIELDS = {
    "id",
    "type",
    "title",
    "description",
    "size",
    "series",
    "metric",
    "format",
    "unit",
    "thresholds",
    "bands",
    "aggregate",
    "stacked",
    "side",
    "period",
    "tests",
    "text",
    "columns",
}
RANKS = ("drift", "missing")  # a `columns` rule: see projects/dashboards/relevance.py
DRIFT_KINDS = ("p_value", "distance")
MAX_RANKED = 10


def _series(check: _Checker, raw: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        check.fail(path, "Expected an object with metric and field.")
        return None
    check.unknown(raw, path, ("metric", "field", "label", "color"))
    return check.label_and_color(
        {
            "metric": check.text(raw, "metric", path, limit=2000, required=True),
            "field": check.text(raw, "field", path, limit=200, required=True),
        },
        raw,
        path,
    )


def _columns(check: _Checker, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    """A chart's `columns` rule, {rank, limit, kind}: its lines are the most relevant columns."""
    value = raw.get("columns")
    if value is None:
        return None
    where = f"{path}.columns"
    if not isinstance(value, dict):
        check.fail(where, "Expected {rank, limit, kind}.")
        return None
    check.unknown(value, where, ("rank", "limit", "kind"))
    rule: dict[str, Any] = {"rank": check.choice(value, "rank", where, RANKS)}
    limit = value.get("limit", 8)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RANKED:
        check.fail(f"{where}.limit", f"Expected a whole number from 1 to {MAX_RANKED}.")
        limit = 8
    rule["limit"] = limit
    kind = value.get("kind")
    if kind is not None:
        if rule["rank"] != "drift" or kind not in DRIFT_KINDS:
            check.fail(f"{where}.kind", f"Only drift ranks take a kind: {', '.join(DRIFT_KINDS)}.")
        else:
            rule["kind"] = kind
    return rule


def _panel(check: _Checker, raw: Any, path: str, seen: set[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        check.fail(path, "Expected a panel object.")
        return None
    check.unknown(raw, path, _PANEL_FIELDS)
    kind = raw.get("type")
    if kind not in PANEL_TYPES:
        check.fail(f"{path}.type", f"Expected one of: {', '.join(PANEL_TYPES)}.")
        return None
    panel_id = check.identifier(raw, path, seen, prefix="p")
    panel: dict[str, Any] = {
        "id": panel_id,
        "type": kind,
        "title": check.text(raw, "title", path, limit=200, required=True),
        "size": check.choice(
            raw, "size", path, SIZES if kind != "counter" else ("third", "half", "full")
        ),
    }
    description = check.text(raw, "description", path, limit=1000)
    if description:
        panel["description"] = description
    if kind in SERIES_PANELS:
        rule = _columns(check, raw, path) if kind != "counter" else None
        if rule is not None:
            panel["columns"] = rule
        elif "columns" in raw and kind == "counter":
            check.fail(f"{path}.columns", "A counter shows one series; columns are for charts.")
        series = check.items(raw, "series", path, limit=1 if kind == "counter" else MAX_SERIES)
        if not series and rule is None and f"{path}.series" not in check.errors:
            check.fail(f"{path}.series", "Choose at least one metric field to plot.")
        panel["series"] = [
            cleaned
            for i, raw_series in enumerate(series)
            if (cleaned := _series(check, raw_series, f"{path}.series[{i}]"))
        ]
        panel["format"] = check.choice(raw, "format", path, FORMATS)
        panel["unit"] = check.text(raw, "unit", path, limit=20)
        panel["thresholds"] = [
            check.label_and_color(
                {"value": check.number(line.get("value"), f"{where}.value")}, line, where
            )
            for where, line in check.objects(
                raw, "thresholds", path, ("value", "label", "color"), limit=10
            )
        ]
        panel["bands"] = []
        for where, band in check.objects(
            raw, "bands", path, ("from", "to", "label", "color"), limit=10
        ):
            low = check.number(band.get("from"), f"{where}.from", nullable=True)
            high = check.number(band.get("to"), f"{where}.to", nullable=True)
            if low is not None and high is not None and low > high:
                check.fail(f"{where}.to", "A band's upper bound must not be below its lower one.")
            panel["bands"].append(check.label_and_color({"from": low, "to": high}, band, where))
    if kind == "counter":
        panel["aggregate"] = check.choice(raw, "aggregate", path, AGGREGATES)
    if kind == "bar":
        stacked = raw.get("stacked", False)
        if not isinstance(stacked, bool):
            check.fail(f"{path}.stacked", "Expected true or false.")
        panel["stacked"] = bool(stacked)
    if kind == "distribution":
        panel["metric"] = check.text(raw, "metric", path, limit=2000, required=True)
        panel["side"] = check.choice(raw, "side", path, ("current", "reference"))
    if kind in ("test_status", "test_counts"):
        tests = check.items(raw, "tests", path, limit=50)
        if not all(isinstance(t, str) and 0 < len(t) <= 2000 for t in tests):
            check.fail(f"{path}.tests", "Expected a list of test ids.")
            tests = []
        panel["tests"] = list(tests)
    if kind == "test_status":
        panel["period"] = check.choice(raw, "period", path, PERIODS)
    if kind == "text":
        panel["text"] = check.text(raw, "text", path, limit=5000, required=True)
    return panel


def clean_spec(raw: Any) -> dict[str, Any]:
    """The dashboard document `raw` in its canonical form (defaults filled in, ids given to new tabs
    and panels), or a `ValidationError` whose dict names every bad field by its path."""
    check = _Checker()
    if not isinstance(raw, dict):
        raise ValidationError({"tabs": "Expected an object with a list of tabs."})
    try:
        size = len(orjson.dumps(raw))
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, or nested deeper than 254
        raise ValidationError(
            {"tabs": "Not a dashboard: integers must fit in 64 bits and nesting be shallow."}
        ) from None
    if size > MAX_SPEC_BYTES:
        raise ValidationError({"tabs": f"A dashboard is at most {MAX_SPEC_BYTES // 1024} KiB."})
    check.unknown(raw, "dashboard", ("tabs", "version", "updated_at"))
    tabs_raw = raw.get("tabs")
    if not isinstance(tabs_raw, list):
        raise ValidationError({"tabs": "Expected a list of tabs."})
    if len(tabs_raw) > MAX_TABS:
        raise ValidationError({"tabs": f"At most {MAX_TABS} tabs."})
    seen: set[str] = set()
    tabs = []
    for t, tab_raw in enumerate(tabs_raw):
        path = f"tabs[{t}]"
        if not isinstance(tab_raw, dict):
            check.fail(path, "Expected a tab object with a title and panels.")
            continue
        check.unknown(tab_raw, path, ("id", "title", "panels"))
        tab_id = check.identifier(tab_raw, path, seen, prefix="t")
        panels = check.items(tab_raw, "panels", path, limit=MAX_PANELS_PER_TAB)
        tabs.append(
            {
                "id": tab_id,
                "title": check.text(tab_raw, "title", path, limit=60, required=True),
                "panels": [
                    panel
                    for i, raw_panel in enumerate(panels)
                    if (panel := _panel(check, raw_panel, f"{path}.panels[{i}]", seen))
                ],
            }
        )
    if check.errors:
        raise ValidationError(check.errors)
    return {"tabs": tabs}


def clean_panel(raw: Any, existing: dict[str, Any]) -> dict[str, Any]:
    """One panel checked as a member of the dashboard `existing` (its id must be new there)."""
    seen = {tab["id"] for tab in existing["tabs"]} | {
        panel["id"] for tab in existing["tabs"] for panel in tab["panels"]
    }
    check = _Checker()
    panel = _panel(check, raw, "panel", seen)
    if check.errors or panel is None:
        raise ValidationError(check.errors or {"panel": "Expected a panel object."})
    return panel


def find_tab(spec: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A tab by its id, or else by its title (case-insensitive)."""
    for tab in spec["tabs"]:
        if tab["id"] == key:
            return tab
    return next((t for t in spec["tabs"] if t["title"].lower() == key.strip().lower()), None)


def find_panel(spec: dict[str, Any], panel_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for tab in spec["tabs"]:
        for panel in tab["panels"]:
            if panel["id"] == panel_id:
                return tab, panel
    return None
