"""Matching descriptors: substrings, prefixes and suffixes, patterns, links, another column."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from metrics.computations.descriptors.base import (
    Descriptor,
    TextDescriptor,
    as_texts,
    flag_option,
    string_list,
)
from metrics.core.definition import ColumnType

# A link: http://, https:// or www. (any case), not glued to a preceding word, dot or @ (an email
# address), followed by non-whitespace characters that include at least one letter or digit.
LINK_PATTERN = r"(?i)(?<![\w.@])(?:https?://|www\.)\S*?[^\W_]"


class Contains(TextDescriptor):
    """True when the text contains any (`mode="any"`) or all (`mode="all"`) of `items`, as
    substrings anywhere in the text ("cat" is in "concatenate"; use `RegexMatch` with \\b for whole
    words). Unless `case_sensitive`, both sides are compared case-folded ("STRASSE" contains
    "straße")."""

    type = ColumnType.CATEGORICAL

    def __init__(
        self,
        *,
        column: str,
        items: Sequence[str],
        mode: Literal["any", "all"] = "any",
        case_sensitive: bool = False,
        alias: str | None = None,
    ) -> None:
        self.items = _items(items)
        self.mode = _mode(mode)
        self.case_sensitive = flag_option("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"contains {self.mode} of {_quoted(self.items)}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return _contains(texts, self.items, self.mode, self.case_sensitive)


class DoesNotContain(TextDescriptor):
    """The negation of `Contains`: with `mode="all"` (the default), True when the text contains
    none of `items` (it avoids all of them); with `mode="any"`, True when at least one item is
    missing from it. Substrings, case-folded unless `case_sensitive`, as in `Contains`."""

    type = ColumnType.CATEGORICAL

    def __init__(
        self,
        *,
        column: str,
        items: Sequence[str],
        mode: Literal["any", "all"] = "all",
        case_sensitive: bool = False,
        alias: str | None = None,
    ) -> None:
        self.items = _items(items)
        self.mode = _mode(mode)
        self.case_sensitive = flag_option("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        what = "none" if self.mode == "all" else "not all"
        return f"contains {what} of {_quoted(self.items)}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        # None of the items = not any of them; some item missing = not all of them.
        flipped = "any" if self.mode == "all" else "all"
        return ~_contains(texts, self.items, flipped, self.case_sensitive)


class BeginsWith(TextDescriptor):
    """True when the text starts with `prefix` (case-folded unless `case_sensitive`). Leading
    whitespace is not stripped."""

    type = ColumnType.CATEGORICAL

    def __init__(
        self,
        *,
        column: str,
        prefix: str,
        case_sensitive: bool = False,
        alias: str | None = None,
    ) -> None:
        self.prefix = _non_empty("prefix", prefix)
        self.case_sensitive = flag_option("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"begins with {_quoted([self.prefix])}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        texts, prefix = _folded(texts, self.prefix, self.case_sensitive)
        return texts.str.startswith(prefix).to_numpy(dtype=bool)


class EndsWith(TextDescriptor):
    """True when the text ends with `suffix` (case-folded unless `case_sensitive`). Trailing
    whitespace is not stripped: "Thanks! " does not end with "!"."""

    type = ColumnType.CATEGORICAL

    def __init__(
        self,
        *,
        column: str,
        suffix: str,
        case_sensitive: bool = False,
        alias: str | None = None,
    ) -> None:
        self.suffix = _non_empty("suffix", suffix)
        self.case_sensitive = flag_option("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"ends with {_quoted([self.suffix])}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        texts, suffix = _folded(texts, self.suffix, self.case_sensitive)
        return texts.str.endswith(suffix).to_numpy(dtype=bool)


class RegexMatch(TextDescriptor):
    """True when `re.search(pattern, text)` finds a match anywhere in the text (anchor with ^ and
    $, or \\A and \\Z, for a full match; add (?i) for case-insensitive). Python `re` syntax; an
    invalid pattern raises ValueError when the descriptor is made."""

    type = ColumnType.CATEGORICAL

    def __init__(self, *, column: str, pattern: str, alias: str | None = None) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"pattern must be a non-empty string, not {pattern!r}.")
        try:
            self._compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"pattern {pattern!r} is not a valid regular expression: {exc}."
            ) from None
        self.pattern = pattern
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"matches /{self.pattern}/"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        with warnings.catch_warnings():
            # pandas warns that groups are not extracted; we only want whether there is a match.
            warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
            return texts.str.contains(self._compiled).to_numpy(dtype=bool)


class ContainsLink(TextDescriptor):
    """True when the text contains a link: "http://", "https://" or "www." (any case), not glued to
    a preceding letter, digit, underscore, dot or @, followed by non-whitespace characters that
    include at least one letter or digit. "see https://example.com" and "WWW.EXAMPLE.ORG" are
    links; "https://" alone, "xhttp://a" and "email@www.x" are not (the last is an address)."""

    type = ColumnType.CATEGORICAL

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "contains link"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.contains(LINK_PATTERN).to_numpy(dtype=bool)


class ExactMatch(Descriptor):
    """True when the text equals `other_column`'s value in the same row, both stripped of leading
    and trailing whitespace (`str.strip`), compared case- and accent-sensitively. Null when either
    value is null (there is nothing to compare). Both columns must be text columns.

    It reads two columns, so use it through `compute_frame(frame)` (as `add_descriptors` does);
    `compute(texts, other)` takes the two Series.
    """

    type = ColumnType.CATEGORICAL

    def __init__(self, *, column: str, other_column: str, alias: str | None = None) -> None:
        if not isinstance(other_column, str) or not other_column:
            raise TypeError(f"other_column must be a non-empty string, not {other_column!r}.")
        if other_column == column:
            raise ValueError("other_column must differ from column (a text always equals itself).")
        self.other_column = other_column
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"equals {self.other_column}"

    def columns(self) -> list[str]:
        return [self.column, self.other_column]

    def compute(self, texts: pd.Series, other: pd.Series | None = None) -> pd.Series:
        if other is None:
            raise TypeError(
                "ExactMatch compares two columns: call compute_frame(frame), "
                "or compute(texts, other)."
            )
        if not other.index.equals(texts.index):
            raise ValueError("ExactMatch: texts and other must share one index.")
        left = as_texts(texts, "ExactMatch")
        right = as_texts(other, "ExactMatch")
        null = (left.isna() | right.isna()).to_numpy()
        equal = np.zeros(len(left), dtype=bool)
        if (~null).any():
            equal[~null] = left[~null].str.strip().to_numpy() == right[~null].str.strip().to_numpy()
        return pd.Series(pd.arrays.BooleanArray(equal, null), index=texts.index, name=self.alias)

    def compute_frame(self, frame: pd.DataFrame) -> pd.Series:
        texts = frame[self.column]
        return self._finish(self.compute(texts, frame[self.other_column]), texts)


def _contains(texts: pd.Series, items: list[str], mode: str, case_sensitive: bool) -> np.ndarray:
    if not case_sensitive:
        texts = texts.str.casefold()
        items = [item.casefold() for item in items]
    found = [texts.str.contains(item, regex=False).to_numpy(dtype=bool) for item in items]
    return np.logical_or.reduce(found) if mode == "any" else np.logical_and.reduce(found)


def _folded(texts: pd.Series, affix: str, case_sensitive: bool) -> tuple[pd.Series, str]:
    if case_sensitive:
        return texts, affix
    return texts.str.casefold(), affix.casefold()


def _items(items: Sequence[str]) -> list[str]:
    found = string_list("items", items)
    if not found:
        raise ValueError("items must name at least one string to look for.")
    return found


def _mode(mode: str) -> str:
    if mode not in ("any", "all"):
        raise ValueError(f'mode must be "any" or "all", not {mode!r}.')
    return mode


def _non_empty(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string, not {value!r}.")
    return value


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def _case_note(case_sensitive: bool) -> str:
    return " (case-sensitive)" if case_sensitive else ""
