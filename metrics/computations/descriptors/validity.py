"""Validity descriptors: whether a text is JSON (of a given shape), Python or SQL."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import warnings
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics.computations.descriptors.base import TextDescriptor, flag_option
from metrics.core.definition import ColumnType

_INVALID = object()  # what _parse_json returns for a text that is not JSON

_JSON_TYPES: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
    None: "null",
}
_JSON_TYPE_NAMES = frozenset(_JSON_TYPES.values())
# Errors SQLite raises only after a statement parsed: the empty database cannot resolve a name, or
# the authorizer refused the action. Anything else means the text did not parse.
_SQL_PARSED_ERRORS = re.compile(
    r"not authorized|no such (?:table|column|function|index|view|trigger|module|"
    r"collation sequence)|unknown database"
)
# SQL comments: "--" to the end of the line; "/*" to "*/" or, unterminated, to the end (as SQLite
# reads them). A block comment's body never holds "*/", so a match cannot run past its end.
_SQL_COMMENT = r"--[^\n]*(?:\n|\Z)|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z)"
# A piece with no statement in it: whitespace, semicolons and comments only.
_SQL_NOTHING = re.compile(rf"(?:\s|;|{_SQL_COMMENT})*")
# A statement that is an EXPLAIN already (preceded by nothing but comments): not wrapped again.
_SQL_EXPLAIN = re.compile(rf"(?:\s|{_SQL_COMMENT})*explain\b", re.IGNORECASE)


class IsValidJSON(TextDescriptor):
    """True when the whole text is one JSON value (object, array, string, number, true, false or
    null; surrounding whitespace allowed), strictly: NaN and Infinity, which Python's json module
    accepts by default, are not JSON. "" is False."""

    type = ColumnType.CATEGORICAL

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "valid JSON"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return _per_distinct(texts, lambda text: _parse_json(text) is not _INVALID)


class JSONSchemaMatch(TextDescriptor):
    """True when the text is a JSON object holding every key of `schema` with a value of the
    required type; with `exact=True` the object (and every nested object the schema describes)
    may hold no other keys.

    A small, dependency-free subset of JSON Schema. `schema` maps each required key to:

    - a JSON type name: "string", "integer", "number", "boolean", "array", "object", "null";
    - or the Python type: str, int, float (= "number"), bool, list, dict, type(None) (or None);
    - or a nested mapping: the value is an object matching that schema in turn;
    - or a tuple or list of the above: any of them (as in isinstance and JSON Schema's type
      arrays; to require an array, say list or "array").

    As in JSON Schema, booleans are not numbers, "integer" accepts 1.0 (a number with no fraction),
    and "number" accepts integers. Not supported: optional keys, item types of arrays, formats,
    ranges, enums; validate with a real JSON Schema validator (in a `CustomDescriptor`) for those.
    `params()` shows the schema with JSON type names.
    """

    type = ColumnType.CATEGORICAL

    def __init__(
        self,
        *,
        column: str,
        schema: Mapping[str, Any],
        exact: bool = False,
        alias: str | None = None,
    ) -> None:
        self.schema = _normalise_schema(schema, "schema")
        self.exact = flag_option("exact", exact)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "matches JSON schema" + (" exactly" if self.exact else "")

    def _compute(self, texts: pd.Series) -> np.ndarray:
        def matches(text: str) -> bool:
            value = _parse_json(text)
            return _matches_schema(value, self.schema, self.exact)

        return _per_distinct(texts, matches)


class IsValidPython(TextDescriptor):
    """True when `ast.parse` accepts the text as a Python module (the running interpreter's
    grammar): a syntax check only, so `return` at top level or an undefined name still pass.
    A blank text is False (it parses, but holds no code). Nothing is executed."""

    type = ColumnType.CATEGORICAL

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "valid Python"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        with warnings.catch_warnings():
            # e.g. SyntaxWarning for "\d" in a string literal: the code still parses.
            warnings.simplefilter("ignore")
            return _per_distinct(texts, _is_python)


class IsValidSQL(TextDescriptor):
    """True when SQLite's parser accepts the text as one or more SQL statements.

    Each statement (the text is cut at semicolons that end a statement, as
    `sqlite3.complete_statement` judges them; the last may lack its semicolon) is prepared as
    `EXPLAIN <statement>` on a private in-memory SQLite database whose authorizer denies every
    action. Nothing is executed, read or written. A statement is valid when preparing it succeeds
    or fails only after parsing: "not authorized", or names that the empty database cannot resolve
    ("no such table / column / function / index / view / trigger / module / collation sequence",
    "unknown database"). Any other error ("syntax error", "incomplete input", "unrecognized token",
    "parser stack overflow", …) makes the text invalid; so does a text with no statement (blank,
    comments only) or with a NUL character.

    This checks syntax in SQLite's dialect: standard SELECT / INSERT / UPDATE / DELETE / CREATE /
    DROP, joins, CTEs and window functions pass; another dialect's extensions fail where SQLite
    lacks them (PostgreSQL's `::` casts, T-SQL's `SELECT TOP`) and pass where SQLite shares them
    (MySQL's `LIMIT offset, count`). Wrong column counts or types are not detected (no schema is
    known), and a statement is judged alone: a table made by an earlier one is not looked up.
    """

    type = ColumnType.CATEGORICAL

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "valid SQL"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        connection = sqlite3.connect(":memory:")
        try:
            connection.set_authorizer(lambda *_: sqlite3.SQLITE_DENY)
            return _per_distinct(texts, lambda text: _is_sql(connection, text))
        finally:
            connection.close()


def _per_distinct(texts: pd.Series, check: Callable[[str], bool]) -> np.ndarray:
    """A Python check run once per distinct text, spread back to the rows."""
    codes, distinct = pd.factorize(texts)
    results = np.fromiter((bool(check(t)) for t in distinct), dtype=bool, count=len(distinct))
    return results[codes]


def _parse_json(text: str) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(text, parse_constant=reject)
    except (ValueError, RecursionError):
        return _INVALID


def _normalise_schema(schema: Any, where: str) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise TypeError(f"{where} must be a mapping of key -> type, not {type(schema).__name__}.")
    normalised: dict[str, Any] = {}
    for key, spec in schema.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: keys must be strings, not {key!r}.")
        normalised[key] = _normalise_type(spec, f"{where}[{key!r}]")
    return normalised


def _normalise_type(spec: Any, where: str) -> Any:
    if isinstance(spec, Mapping):
        return _normalise_schema(spec, where)
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError(f"{where}: an empty choice of types matches nothing.")
        return [_normalise_type(s, where) for s in spec]
    if isinstance(spec, str):
        if spec not in _JSON_TYPE_NAMES:
            raise ValueError(
                f"{where}: unknown JSON type {spec!r}; use one of {sorted(_JSON_TYPE_NAMES)}."
            )
        return spec
    if isinstance(spec, Hashable) and spec in _JSON_TYPES:
        return _JSON_TYPES[spec]
    raise ValueError(
        f"{where}: {spec!r} is not a supported type; use str, int, float, bool, list, dict, "
        "None, a JSON type name, a nested mapping, or a tuple of these."
    )


def _matches_schema(value: Any, schema: dict[str, Any], exact: bool) -> bool:
    if not isinstance(value, dict):
        return False
    if exact and not set(value) <= set(schema):
        return False
    return all(key in value and _matches_type(value[key], schema[key], exact) for key in schema)


def _matches_type(value: Any, spec: Any, exact: bool) -> bool:
    if isinstance(spec, dict):
        return _matches_schema(value, spec, exact)
    if isinstance(spec, list):
        return any(_matches_type(value, s, exact) for s in spec)
    if isinstance(value, bool):  # bool is an int in Python, never a number in JSON
        return spec == "boolean"
    match spec:
        case "string":
            return isinstance(value, str)
        case "integer":
            return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        case "number":
            return isinstance(value, (int, float))
        case "array":
            return isinstance(value, list)
        case "object":
            return isinstance(value, dict)
        case "null":
            return value is None
    return False


def _is_python(text: str) -> bool:
    if not text.strip():
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # ValueError: NUL characters; RecursionError/MemoryError: absurdly deep nesting.
        return False
    return True


def _is_sql(connection: sqlite3.Connection, text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        statements = _sql_statements(text)
    except ValueError:  # complete_statement refuses text it cannot encode (lone surrogates)
        return False
    if not statements:
        return False
    for statement in statements:
        prepared = statement if _SQL_EXPLAIN.match(statement) else f"EXPLAIN {statement}"
        try:
            connection.execute(prepared)
        except (sqlite3.Error, ValueError) as exc:
            if not _SQL_PARSED_ERRORS.match(str(exc)):
                return False
    return True


def _sql_statements(text: str) -> list[str]:
    """The text cut into statements at the semicolons that complete one, blank pieces dropped."""
    statements, start = [], 0
    for semicolon in re.finditer(";", text):
        piece = text[start : semicolon.end()]
        if sqlite3.complete_statement(piece):
            statements.append(piece)
            start = semicolon.end()
    statements.append(text[start:])
    return [s for s in statements if not _SQL_NOTHING.fullmatch(s)]
