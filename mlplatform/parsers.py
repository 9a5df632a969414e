"""The API's one JSON parser: UTF-8 only, no NaN or Infinity, nothing after the document, and at most
`MAX_JSON_DEPTH` levels of nesting, so that no body can exhaust the recursion of the code that reads
it (serializers, validators, error reports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body the API takes (a dashboard document is about 8 levels), far shallower than
# Python's recursion limit. Snapshot ingestion reads its own, deeper documents (projects/ingestion.py).
MAX_JSON_DEPTH = 32


class JSONBodyError(ValueError):
    """The body is not strict JSON, or nests deeper than allowed; the message is for people."""


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0, `[]` is 1), counted without
    recursion and no further than `limit + 1`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in item)
    return deepest


def loads(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The document in `raw`, parsed strictly (orjson); `JSONBodyError` when it is not."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if message.startswith("depth limit exceeded"):  # orjson stops at 1,024 levels
            raise JSONBodyError(f"nested deeper than {max_depth} levels.") from None
        hint = " (JSON has no NaN or Infinity: send null)" if _has_constant(raw) else ""
        raise JSONBodyError(f"not valid JSON: {message}{hint}") from None
    if nesting_depth(document, max_depth) > max_depth:
        raise JSONBodyError(f"nested deeper than {max_depth} levels.")
    return document


def _has_constant(raw: bytes) -> bool:
    return b"NaN" in raw or b"Infinity" in raw


class StrictJSONParser(JSONParser):
    """DRF's JSON parser made strict (see the module docstring); errors are 400 `parse_error`s
    whose detail names the body."""

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        charset = _charset(media_type or "")
        if charset not in ("", "utf-8", "utf8"):
            raise ParseError(f"body: send JSON in UTF-8, not {charset}.")
        raw = stream.read() if stream is not None else b""
        try:
            return loads(raw)
        except JSONBodyError as exc:
            raise ParseError(f"body: {exc}") from None


def _charset(media_type: str) -> str:
    for parameter in media_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""
