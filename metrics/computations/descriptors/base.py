"""Text descriptors: features computed per row from a text column.

A descriptor reads a text column and yields one value per row, which `add_descriptors` appends to
the frame as an ordinary column: numerical (a float64 column) or categorical (a nullable boolean
column for the True/False checks). Every statistic, test and drift method then works on it like
on any other column, so "the answers got longer" or "more answers contain a link" are ordinary
drift.

    from metrics.descriptors import Contains, TextLength, add_descriptors, descriptor_types

    descriptors = [TextLength(column="review"), Contains(column="review", items=["refund"])]
    current = add_descriptors(current, descriptors)        # new frames; the inputs are untouched
    reference = add_descriptors(reference, descriptors)
    descriptor_types(descriptors)
    # {'review: text length': <ColumnType.NUMERICAL ...>, 'review: contains any of "refund"': ...}

Conventions shared by every descriptor:

- A null text (None, NaN, pandas.NA) gives a null value (NaN, or <NA> for the True/False ones).
- Values are aligned on the input's index; the new column is named after the descriptor's `alias`,
  by default "<column>: <what it measures>", e.g. "review: word count".
- Where a descriptor needs a Python call per text (parsing JSON, Python or SQL) it is made once per
  distinct text, not once per row; the others use pandas' string methods or NumPy.
- Patterns use Python's `re` semantics (texts are read as Python strings, whatever the column's
  storage, so pyarrow-backed strings behave exactly like object columns).

Definitions used below:

word
    A maximal run of letters and digits (Unicode: what `str.isalnum` accepts), where an apostrophe
    (' or the typographic U+2019) between two such runs is part of the word: "don't" and "user's"
    are one word each, "e-mail" is two, "3.5" is two, "🙂" and "--" are none.
letter
    A character for which `str.isalpha()` is True (Unicode categories L*: "é", "ß", "я", "中").
    Whitespace is what `str.isspace()` accepts.

Built-in descriptors (numerical unless said otherwise):

==========================  =======================================================================
`TextLength`                characters (code points) in the text
`WordCount`                 words
`SentenceCount`             sentences: see the class
`OOVShare`                  share of alphabetic words not in the shipped English vocabulary (0..1)
`NonLetterShare`            share of non-whitespace characters that are not letters (0..1)
`Contains`                  categorical: the text contains any / all of the items
`DoesNotContain`            categorical: the text contains none of / not all of the items
`BeginsWith`, `EndsWith`    categorical: the text starts / ends with the prefix / suffix
`RegexMatch`                categorical: `re.search(pattern, text)` finds a match
`ContainsLink`              categorical: an http(s):// or www. link appears
`IsValidJSON`               categorical: the text is one strict JSON value
`JSONSchemaMatch`           categorical: the text is a JSON object with the given keys and types
`IsValidPython`             categorical: `ast.parse` accepts the text
`IsValidSQL`                categorical: SQLite's parser accepts the text
`ExactMatch`                categorical: the text equals another column's value (both stripped)
`CustomDescriptor`          your function of the texts
==========================  =======================================================================

Your own descriptors: either wrap a function,

    CustomDescriptor(column="review", alias="review: exclamations",
                     func=lambda texts: texts.str.count("!"))

or subclass `Descriptor`: take your options as keyword-only `__init__` arguments stored under the
same names (so `params()` finds them), set the class attribute `type`, and implement
`compute(texts)`. Every subclass is registered by its class name in `DESCRIPTORS`, so
`descriptor_from_dict` can rebuild it from its `describe()` output (e.g. a stored configuration).

    class QuestionMarks(Descriptor):
        type = ColumnType.NUMERICAL

        def compute(self, texts: pd.Series) -> pd.Series:
            return texts.str.count(r"\\?")
"""

from __future__ import annotations

import ast
import functools
import gzip
import importlib.resources
import inspect
import itertools
import json
import math
import re
import sqlite3
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from metrics.definition import ColumnType, DataDefinitionError

__all__ = [
    "DESCRIPTORS",
    "BeginsWith",
    "Contains",
    "ContainsLink",
    "CustomDescriptor",
    "Descriptor",
    "DoesNotContain",
    "EndsWith",
    "ExactMatch",
    "IsValidJSON",
    "IsValidPython",
    "IsValidSQL",
    "JSONSchemaMatch",
    "NonLetterShare",
    "OOVShare",
    "RegexMatch",
    "SentenceCount",
    "TextLength",
    "WordCount",
    "add_descriptors",
    "descriptor_from_dict",
    "descriptor_types",
    "english_vocabulary",
]

#: Every `Descriptor` subclass, by class name (filled as classes are defined).
DESCRIPTORS: dict[str, type[Descriptor]] = {}

# A word: runs of letters/digits ([^\W_] is exactly str.isalnum), joined by inner apostrophes.
WORD_PATTERN = r"[^\W_]+(?:['\u2019][^\W_]+)*"
# A sentence starts at its first letter or digit and runs to the first run of . ! ? that is
# followed by whitespace or the end of the text, or else to the end of the text. Counting these
# matches counts the pieces of `re.split(r"(?<=[.!?])\s+", text)` that hold a letter or digit.
SENTENCE_PATTERN = r"(?s)[^\W_].*?(?:[.!?]+(?=\s|\Z)|\Z)"
# A link: http://, https:// or www. (any case), not glued to a preceding word, dot or @ (an email
# address), followed by non-whitespace characters that include at least one letter or digit.
LINK_PATTERN = r"(?i)(?<![\w.@])(?:https?://|www\.)\S*?[^\W_]"

VOCABULARY_FILE = ("data", "english_words.txt.gz")


@functools.cache
def english_vocabulary() -> frozenset[str]:
    """The English words `OOVShare` knows: lowercase, one per line in the package's data file.

    102,485 entries from Debian's `wamerican` (SCOWL size 50, American spelling), names included
    and lowercased, with apostrophe forms such as "don't" and "user's"; the file's header carries
    the word list's licence. Read from the installed package (never downloaded) on first use and
    kept for the life of the process.
    """
    resource = importlib.resources.files("metrics").joinpath(*VOCABULARY_FILE)
    text = gzip.decompress(resource.read_bytes()).decode("utf-8")
    return frozenset(line for line in text.split("\n") if line and not line.startswith("#"))


# ---- the base class -----------------------------------------------------------------------------


class Descriptor:
    """A per-row feature of a text column.

    Attributes
    ----------
    column
        The text column the descriptor reads.
    alias
        The name of the new column (default: "<column>: <label>", from the descriptor's options).
    type
        `ColumnType.NUMERICAL` (float64 values) or `ColumnType.CATEGORICAL` (here: True/False).

    Subclasses take their options as keyword-only `__init__` arguments, validate them there (bad
    options raise at construction, not halfway through a run), store each under its own name, and
    call `super().__init__(column=column, alias=alias)`. They implement `compute(texts)`; one that
    reads more than its text column overrides `columns()` and `compute_frame(frame)` instead.
    """

    #: What the values are; a subclass sets it (CustomDescriptor per instance).
    type: ColumnType = ColumnType.NUMERICAL
    #: Option names that `params()` leaves out (not JSON values; see CustomDescriptor).
    _private_options: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):  # private helpers are not descriptors of their own
            return
        known = DESCRIPTORS.get(cls.__name__)
        # The same class defined again (a reloaded module, a re-run notebook cell) replaces the
        # old one; a different class taking an existing name would make the registry ambiguous.
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise TypeError(
                f"A descriptor called {cls.__name__} is already registered "
                f"({known.__module__}.{known.__qualname__}); give yours another name."
            )
        DESCRIPTORS[cls.__name__] = cls

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        if not isinstance(column, str) or not column:
            raise TypeError(f"column must be a non-empty string, not {column!r}.")
        if alias is not None and (not isinstance(alias, str) or not alias):
            raise TypeError(f"alias must be a non-empty string, not {alias!r}.")
        self.column = column
        self._alias = alias

    @property
    def alias(self) -> str:
        """The new column's name."""
        return self._alias if self._alias is not None else f"{self.column}: {self.label()}"

    def label(self) -> str:
        """What the descriptor measures, for the default alias (e.g. "word count").

        By default the class name in words: `QuestionMarks` -> "question marks".
        """
        return " ".join(re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", type(self).__name__)).lower()

    def columns(self) -> list[str]:
        """The columns the descriptor reads (all must be text columns)."""
        return [self.column]

    def compute(self, texts: pd.Series) -> pd.Series:
        """One value per text, on the same index; null where the text is null."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compute(texts).")

    def compute_frame(self, frame: pd.DataFrame) -> pd.Series:
        """The descriptor's column for `frame`: named `alias`, on the frame's index, with the
        values of `type` (float64, or nullable booleans for True/False results) and null wherever
        the text is null, whatever a subclass's `compute` returned."""
        texts = frame[self.column]
        return self._finish(self.compute(texts), texts)

    def params(self) -> dict[str, Any]:
        """The options as JSON values (the keyword-only `__init__` arguments other than column and
        alias), read from the attributes of the same names."""
        params: dict[str, Any] = {}
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                continue
            if name in ("column", "alias") or name in self._private_options:
                continue
            params[name] = _jsonable(name, getattr(self, name))
        return params

    def describe(self) -> dict[str, Any]:
        """A JSON description for snapshots and stored configurations:
        {"descriptor": class name, "column", "alias", "type", "options": params()}."""
        return {
            "descriptor": type(self).__name__,
            "column": self.column,
            "alias": self.alias,
            "type": str(self.type),
            "options": self.params(),
        }

    def __repr__(self) -> str:
        shown = {"column": self.column, **self.params()}
        if self._alias is not None:
            shown["alias"] = self._alias
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    # -- helpers for subclasses --

    def _finish(self, values: Any, texts: pd.Series) -> pd.Series:
        if isinstance(values, pd.Series):
            if len(values) != len(texts) or not values.index.equals(texts.index):
                raise ValueError(
                    f"{self!r} returned values on another index than its texts'; "
                    "return one value per text, aligned on the texts' index."
                )
            values = values.array
        elif np.ndim(values) != 1 or len(values) != len(texts):
            raise ValueError(
                f"{self!r} returned {np.shape(values)} values for {len(texts)} texts; "
                "return one value per text."
            )
        null = texts.isna().to_numpy()
        if self.type == ColumnType.NUMERICAL:
            try:
                numbers = pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{self!r} is numerical but returned non-numeric values ({exc})."
                ) from None
            numbers = numbers.copy()
            numbers[null] = np.nan
            return pd.Series(numbers, index=texts.index, name=self.alias)
        if pd.api.types.is_bool_dtype(getattr(values, "dtype", None)):
            # Booleans already (the built-ins' case): stay vectorised.
            flags = pd.array(values, dtype="boolean")
            missing = null | np.asarray(flags.isna())
            data = flags.to_numpy(dtype=bool, na_value=False)
            return pd.Series(
                pd.arrays.BooleanArray(data, missing), index=texts.index, name=self.alias
            )
        objects = np.array(values, dtype=object)  # a copy: the caller's values stay as they were
        missing = null | pd.isna(objects)
        objects[missing] = None
        present = objects[~missing]
        if all(isinstance(v, (bool, np.bool_)) for v in present):
            # True/False checks: a nullable boolean column, like the built-ins'.
            flags = np.zeros(len(objects), dtype=bool)
            flags[~missing] = present.astype(bool)
            return pd.Series(
                pd.arrays.BooleanArray(flags, missing), index=texts.index, name=self.alias
            )
        return pd.Series(objects, index=texts.index, name=self.alias, dtype=object)


class _TextDescriptor(Descriptor):
    # Built-ins: compute() checks its input and runs on the non-null texts only.
    def compute(self, texts: pd.Series) -> pd.Series:
        prepared = _as_texts(texts, type(self).__name__)
        null = prepared.isna().to_numpy()
        values = self._compute(prepared[~null]) if (~null).any() else None
        if self.type == ColumnType.NUMERICAL:
            out = np.full(len(prepared), np.nan)
            if values is not None:
                out[~null] = values
            return pd.Series(out, index=texts.index, name=self.alias)
        flags = np.zeros(len(prepared), dtype=bool)
        if values is not None:
            flags[~null] = values
        return pd.Series(pd.arrays.BooleanArray(flags, null), index=texts.index, name=self.alias)

    def _compute(self, texts: pd.Series) -> np.ndarray:
        """Values for non-null texts (an object Series of str): floats, or bools if categorical."""
        raise NotImplementedError


# ---- numerical descriptors ----------------------------------------------------------------------


class TextLength(_TextDescriptor):
    """The number of characters (Unicode code points, as `len`) in the text; 0 for "".

    An emoji built of several code points (a flag, a skin tone, a family) counts each of them.
    """

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "text length"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.len().to_numpy(dtype=np.float64)


class WordCount(_TextDescriptor):
    """The number of words (see the module's definition: runs of letters and digits, apostrophes
    inside a word kept); 0 for a text without any."""

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "word count"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.count(WORD_PATTERN).to_numpy(dtype=np.float64)


class SentenceCount(_TextDescriptor):
    """The number of sentences.

    The text is cut after every run of ".", "!" or "?" that is followed by whitespace or ends the
    text; each piece that holds at least one letter or digit is a sentence. So "Hi. How are you?"
    is 2, "Great!!! Thanks" is 2, a text without end punctuation is 1, and "", "..." or "🙂" are 0.
    Abbreviations followed by a space ("e.g. this") do end a sentence; "3.5" and "example.com" do
    not, since no whitespace follows their dots.
    """

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "sentence count"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.count(SENTENCE_PATTERN).to_numpy(dtype=np.float64)


class OOVShare(_TextDescriptor):
    """The share (0 to 1) of the text's alphabetic words that are out of vocabulary.

    Words (see the module's definition) are lowercased, with U+2019 read as '; only alphabetic
    ones count (letters and apostrophes: "2024", "v2" and "mp3" are neither known nor unknown). A
    word is known when it is in `english_vocabulary()` or in `ignore_words` (matched lowercased:
    product names, jargon). A text without alphabetic words has a share of 0.

    The vocabulary holds inflected forms ("running", "cities") and common names, but no lemmatiser
    runs: a rare inflection or a recent coinage counts as out of vocabulary.
    """

    def __init__(
        self, *, column: str, ignore_words: Sequence[str] = (), alias: str | None = None
    ) -> None:
        self.ignore_words = sorted({w.lower() for w in _strings("ignore_words", ignore_words)})
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "out-of-vocabulary share"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        vocabulary = english_vocabulary()
        ignored = frozenset(self.ignore_words)
        normalised = texts.str.lower().str.replace("\u2019", "'", regex=False)
        words = normalised.str.findall(WORD_PATTERN)
        lengths = words.str.len().to_numpy(dtype=np.int64)
        flat = list(itertools.chain.from_iterable(words))
        if not flat:
            return np.zeros(len(texts))
        # Each distinct word is looked up once (set lookups in Python), then spread to its rows.
        codes, distinct = pd.factorize(pd.Series(flat, dtype=object))
        alphabetic = np.fromiter(
            (w.replace("'", "").isalpha() for w in distinct), dtype=bool, count=len(distinct)
        )
        known = np.fromiter(
            (w in vocabulary or w in ignored for w in distinct), dtype=bool, count=len(distinct)
        )
        ends = np.cumsum(lengths)
        counted = _sums_between(alphabetic[codes], ends)
        unknown = _sums_between((alphabetic & ~known)[codes], ends)
        return np.divide(unknown, counted, out=np.zeros(len(texts)), where=counted > 0)


class NonLetterShare(_TextDescriptor):
    """The share (0 to 1) of the text's characters that are not letters, whitespace left out.

    Digits, punctuation, symbols and emoji count as non-letters; spaces, tabs and newlines count
    as neither, so reformatting a text does not move the share. (Combining marks, as in a
    decomposed "é", are non-letters: normalise to NFC first if that matters.) A text that is empty
    or all whitespace has a share of 0.
    """

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "non-letter share"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        values = texts.tolist()
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        # All texts as one array of code points. Each distinct character is classified once (a
        # lookup table indexed by code point), and running sums cut at the texts' boundaries give
        # the counts per text: no sort and no loop over characters in Python.
        joined = "".join(values).encode("utf-32-le", "surrogatepass")
        points = np.frombuffer(joined, dtype="<u4")
        if points.size == 0:
            return np.zeros(len(values))
        seen = np.zeros(int(points.max()) + 1, dtype=bool)
        seen[points] = True
        distinct = np.flatnonzero(seen)
        is_letter = np.zeros(len(seen), dtype=bool)
        is_space = np.zeros(len(seen), dtype=bool)
        is_letter[distinct] = [chr(p).isalpha() for p in distinct.tolist()]
        is_space[distinct] = [chr(p).isspace() for p in distinct.tolist()]
        ends = np.cumsum(lengths)
        letters = _sums_between(is_letter[points], ends)
        spaces = _sums_between(is_space[points], ends)
        counted = lengths - spaces
        return np.divide(counted - letters, counted, out=np.zeros(len(values)), where=counted > 0)


# ---- text checks (categorical True/False) ------------------------------------------------------


class Contains(_TextDescriptor):
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
        self.case_sensitive = _flag("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"contains {self.mode} of {_quoted(self.items)}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return _contains(texts, self.items, self.mode, self.case_sensitive)


class DoesNotContain(_TextDescriptor):
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
        self.case_sensitive = _flag("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        what = "none" if self.mode == "all" else "not all"
        return f"contains {what} of {_quoted(self.items)}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        # None of the items = not any of them; some item missing = not all of them.
        flipped = "any" if self.mode == "all" else "all"
        return ~_contains(texts, self.items, flipped, self.case_sensitive)


class BeginsWith(_TextDescriptor):
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
        self.case_sensitive = _flag("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"begins with {_quoted([self.prefix])}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        texts, prefix = _folded(texts, self.prefix, self.case_sensitive)
        return texts.str.startswith(prefix).to_numpy(dtype=bool)


class EndsWith(_TextDescriptor):
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
        self.case_sensitive = _flag("case_sensitive", case_sensitive)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return f"ends with {_quoted([self.suffix])}{_case_note(self.case_sensitive)}"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        texts, suffix = _folded(texts, self.suffix, self.case_sensitive)
        return texts.str.endswith(suffix).to_numpy(dtype=bool)


class RegexMatch(_TextDescriptor):
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


class ContainsLink(_TextDescriptor):
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


class IsValidJSON(_TextDescriptor):
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


class JSONSchemaMatch(_TextDescriptor):
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
        self.exact = _flag("exact", exact)
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "matches JSON schema" + (" exactly" if self.exact else "")

    def _compute(self, texts: pd.Series) -> np.ndarray:
        def matches(text: str) -> bool:
            value = _parse_json(text)
            return _matches_schema(value, self.schema, self.exact)

        return _per_distinct(texts, matches)


class IsValidPython(_TextDescriptor):
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


class IsValidSQL(_TextDescriptor):
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
        left = _as_texts(texts, "ExactMatch")
        right = _as_texts(other, "ExactMatch")
        null = (left.isna() | right.isna()).to_numpy()
        equal = np.zeros(len(left), dtype=bool)
        if (~null).any():
            equal[~null] = left[~null].str.strip().to_numpy() == right[~null].str.strip().to_numpy()
        return pd.Series(pd.arrays.BooleanArray(equal, null), index=texts.index, name=self.alias)

    def compute_frame(self, frame: pd.DataFrame) -> pd.Series:
        texts = frame[self.column]
        return self._finish(self.compute(texts, frame[self.other_column]), texts)


class CustomDescriptor(Descriptor):
    """Your function as a descriptor.

    `func` receives the non-null texts (a Series of str, with their original index) and returns
    one value per text: a Series on the same index, or an array or list of the same length. The
    nulls are filled in for you. `type` says what the values are: numerical (converted to float64)
    or categorical (booleans become a nullable boolean column; other values are kept as they are).
    `alias` is required, since a function has no readable name of its own.

    A custom descriptor cannot be rebuilt from `describe()` (a function is not JSON); its
    description names the function.
    """

    _private_options = frozenset({"func", "type"})

    def __init__(
        self,
        *,
        column: str,
        alias: str,
        func: Callable[[pd.Series], Any],
        type: ColumnType | str = ColumnType.NUMERICAL,  # named like the attribute it sets
    ) -> None:
        if alias is None:
            raise TypeError("CustomDescriptor needs an alias: the new column's name.")
        if not callable(func):
            raise TypeError(f"func must be callable, not {func!r}.")
        try:
            column_type = ColumnType(type)
        except ValueError:
            column_type = None
        if column_type not in (ColumnType.NUMERICAL, ColumnType.CATEGORICAL):
            raise ValueError(
                f"type must be ColumnType.NUMERICAL or ColumnType.CATEGORICAL, not {type!r}."
            )
        self.func = func
        self.type = column_type
        super().__init__(column=column, alias=alias)

    def params(self) -> dict[str, Any]:
        module = getattr(self.func, "__module__", None) or ""
        name = getattr(self.func, "__qualname__", None) or type(self.func).__name__
        return {"func": f"{module}.{name}" if module else name}

    def compute(self, texts: pd.Series) -> pd.Series:
        prepared = _as_texts(texts, f"CustomDescriptor {self.alias!r}")
        null = prepared.isna().to_numpy()
        present = prepared[~null]
        values = self.func(present) if len(present) else []
        if isinstance(values, pd.Series):
            if not values.index.equals(present.index):
                raise ValueError(
                    f"The function of {self!r} returned a Series on another index than its "
                    "texts'; keep the index of the Series it receives."
                )
            values = values.array
        if np.ndim(values) != 1 or len(values) != len(present):
            raise ValueError(
                f"The function of {self!r} returned {np.shape(values)} values for "
                f"{len(present)} texts; return one value per text."
            )
        out = np.empty(len(prepared), dtype=object)
        out[:] = None
        out[~null] = np.asarray(values, dtype=object)
        return self._finish(out, texts)


# ---- frames -------------------------------------------------------------------------------------


def add_descriptors(frame: pd.DataFrame, descriptors: Sequence[Descriptor]) -> pd.DataFrame:
    """A new frame: `frame`'s columns, then one column per descriptor, named by its alias.

    `frame` is not modified. Everything is checked before anything is computed: each column a
    descriptor reads must be in the frame and hold text (strings or nulls: a string dtype, or an
    object column of str), and each alias must be new, unlike the frame's columns and the other
    descriptors' aliases; otherwise `DataDefinitionError` says which and what to do.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}.")
    descriptors = _descriptor_list(descriptors)
    existing = set(frame.columns)
    seen: dict[str, Descriptor] = {}
    for descriptor in descriptors:
        for column in descriptor.columns():
            if column not in existing:
                raise DataDefinitionError(
                    f"{descriptor!r} reads column {column!r}, which is not in the data. "
                    f"Its columns are: {_names(frame.columns)}."
                )
            if (frame.columns == column).sum() > 1:
                raise DataDefinitionError(
                    f"{descriptor!r} reads column {column!r}, which the data has more than once; "
                    "rename the copies."
                )
            if not _is_text(frame[column]):
                raise DataDefinitionError(
                    f"{descriptor!r} reads column {column!r}, which holds "
                    f"{_what(frame[column])}, not text. Descriptors read text columns: strings "
                    "and nulls (convert with .astype('string'))."
                )
        alias = descriptor.alias
        if alias in existing:
            raise DataDefinitionError(
                f"{descriptor!r} would add column {alias!r}, which the data already has; "
                "pass alias=... to name it otherwise (or drop the old column first)."
            )
        if alias in seen:
            raise DataDefinitionError(
                f"{descriptor!r} and {seen[alias]!r} both add a column named {alias!r}; "
                "pass alias=... to one of them."
            )
        seen[alias] = descriptor
    if not descriptors:
        return frame.copy()
    # Positional arrays on the frame's own index: no alignment, so a duplicated index is fine.
    added = pd.DataFrame(
        {d.alias: d.compute_frame(frame).array for d in descriptors}, index=frame.index
    )
    return pd.concat([frame, added], axis=1)


def descriptor_types(descriptors: Sequence[Descriptor]) -> dict[str, ColumnType]:
    """The type of each descriptor's column, by alias: for the data definition's
    `numerical_columns` and `categorical_columns`."""
    types: dict[str, ColumnType] = {}
    for descriptor in _descriptor_list(descriptors):
        if descriptor.alias in types:
            raise DataDefinitionError(
                f"Two descriptors add a column named {descriptor.alias!r}; "
                "pass alias=... to one of them."
            )
        types[descriptor.alias] = descriptor.type
    return types


def descriptor_from_dict(data: Mapping[str, Any]) -> Descriptor:
    """Rebuild a descriptor from its `describe()` output (a registered class; not a custom one)."""
    name = data.get("descriptor")
    cls = DESCRIPTORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Unknown descriptor {name!r}; known: {', '.join(sorted(DESCRIPTORS))}. "
            "Define (import) a custom descriptor's class before rebuilding it."
        )
    if cls is CustomDescriptor:
        raise TypeError("A CustomDescriptor holds a function and cannot be rebuilt from JSON.")
    return cls(column=data["column"], alias=data.get("alias"), **dict(data.get("options", {})))


# ---- helpers ------------------------------------------------------------------------------------

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


def _as_texts(texts: pd.Series, who: str) -> pd.Series:
    """The texts as an object Series of str and nulls, so .str runs Python's `re` whatever the
    storage (pyarrow's regex engine differs on \\w, lookbehinds and more)."""
    if not isinstance(texts, pd.Series):
        raise TypeError(f"{who} computes on a pandas Series of texts, not {type(texts).__name__}.")
    if not _is_text(texts):
        raise DataDefinitionError(
            f"{who} needs text (strings and nulls); column {texts.name!r} holds {_what(texts)}."
        )
    return texts.astype(object)


def _is_text(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.StringDtype):
        return True
    if series.dtype != object:
        return False
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _what(series: pd.Series) -> str:
    if series.dtype == object:
        kinds = sorted({type(v).__name__ for v in series.dropna().iloc[:1000]})
        return f"{', '.join(kinds)} values"
    return f"{series.dtype} values"


def _sums_between(flags: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many flags are set in each consecutive slice of `flags` ending (exclusive) at `ends`."""
    running = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return np.diff(running[np.concatenate([[0], ends])])


def _per_distinct(texts: pd.Series, check: Callable[[str], bool]) -> np.ndarray:
    """A Python check run once per distinct text, spread back to the rows."""
    codes, distinct = pd.factorize(texts)
    results = np.fromiter((bool(check(t)) for t in distinct), dtype=bool, count=len(distinct))
    return results[codes]


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


def _descriptor_list(descriptors: Sequence[Descriptor]) -> list[Descriptor]:
    if isinstance(descriptors, Descriptor):
        raise TypeError("Pass a list of descriptors, e.g. [TextLength(column='review')].")
    found = list(descriptors)
    for descriptor in found:
        if not isinstance(descriptor, Descriptor):
            raise TypeError(f"{descriptor!r} is not a Descriptor.")
    return found


def _strings(name: str, values: Sequence[str]) -> list[str]:
    if isinstance(values, str) or not isinstance(values, (list, tuple, set, frozenset)):
        raise TypeError(f"{name} must be a list of strings, e.g. {name}=['refund'].")
    strings = list(values)
    for value in strings:
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must hold non-empty strings, not {value!r}.")
    return strings


def _items(items: Sequence[str]) -> list[str]:
    found = _strings("items", items)
    if not found:
        raise ValueError("items must name at least one string to look for.")
    return found


def _mode(mode: str) -> str:
    if mode not in ("any", "all"):
        raise ValueError(f'mode must be "any" or "all", not {mode!r}.')
    return mode


def _flag(name: str, value: bool) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, not {value!r}.")
    return bool(value)


def _non_empty(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty string, not {value!r}.")
    return value


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def _case_note(case_sensitive: bool) -> str:
    return " (case-sensitive)" if case_sensitive else ""


def _jsonable(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Option {name!r} must be a finite number, not {value}.")
        return value
    if isinstance(value, np.generic):
        return _jsonable(name, value.item())
    if isinstance(value, (list, tuple)):
        return [_jsonable(name, v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(name, v) for k, v in value.items()}
    raise TypeError(f"Option {name!r} must be a JSON value, not {type(value).__name__}.")


def _names(columns: Any) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(repr(n) for n in names[:12])
    return shown + (f" and {len(names) - 12} more" if len(names) > 12 else "")
