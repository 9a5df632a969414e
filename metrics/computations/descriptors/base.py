"""The `Descriptor` base class, its registry by class name, and helpers the families share."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from metrics.core.definition import ColumnType, DataDefinitionError

#: Every `Descriptor` subclass, by class name (filled as classes are defined).
DESCRIPTORS: dict[str, type[Descriptor]] = {}


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
    #: False for a class `descriptor_from_dict` cannot rebuild (it holds a function).
    _rebuildable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Private helpers and shared bases (TextDescriptor) are not descriptors of their own.
        if cls.__name__.startswith("_") or cls.__dict__.get("_shared_base", False):
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


class TextDescriptor(Descriptor):
    """The base of the built-ins that read one text column: `compute()` checks its input and
    calls `_compute` on the non-null texts only."""

    _shared_base: ClassVar[bool] = True

    def compute(self, texts: pd.Series) -> pd.Series:
        prepared = as_texts(texts, type(self).__name__)
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


def descriptor_from_dict(data: Mapping[str, Any]) -> Descriptor:
    """Rebuild a descriptor from its `describe()` output (a registered class; not a custom one)."""
    name = data.get("descriptor")
    cls = DESCRIPTORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Unknown descriptor {name!r}; known: {', '.join(sorted(DESCRIPTORS))}. "
            "Define (import) a custom descriptor's class before rebuilding it."
        )
    if not cls.__dict__.get("_rebuildable", True):
        raise TypeError("A CustomDescriptor holds a function and cannot be rebuilt from JSON.")
    return cls(column=data["column"], alias=data.get("alias"), **dict(data.get("options", {})))


# ---- helpers shared by the families -------------------------------------------------------------


def as_texts(texts: pd.Series, who: str) -> pd.Series:
    """The texts as an object Series of str and nulls, so .str runs Python's `re` whatever the
    storage (pyarrow's regex engine differs on \\w, lookbehinds and more)."""
    if not isinstance(texts, pd.Series):
        raise TypeError(f"{who} computes on a pandas Series of texts, not {type(texts).__name__}.")
    if not is_text(texts):
        raise DataDefinitionError(
            f"{who} needs text (strings and nulls); column {texts.name!r} holds {describe_values(texts)}."
        )
    return texts.astype(object)


def is_text(series: pd.Series) -> bool:
    """Whether the column holds text: a string dtype, or an object column of str and nulls."""
    if isinstance(series.dtype, pd.StringDtype):
        return True
    if series.dtype != object:
        return False
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def describe_values(series: pd.Series) -> str:
    """What a column holds, for an error message: "int64 values", "float, str values"."""
    if series.dtype == object:
        kinds = sorted({type(v).__name__ for v in series.dropna().iloc[:1000]})
        return f"{', '.join(kinds)} values"
    return f"{series.dtype} values"


def sums_between(flags: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many flags are set in each consecutive slice of `flags` ending (exclusive) at `ends`."""
    running = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return np.diff(running[np.concatenate([[0], ends])])


def string_list(name: str, values: Sequence[str]) -> list[str]:
    """Option `name` as a list of non-empty strings, or TypeError saying what was expected."""
    if isinstance(values, str) or not isinstance(values, (list, tuple, set, frozenset)):
        raise TypeError(f"{name} must be a list of strings, e.g. {name}=['refund'].")
    strings = list(values)
    for value in strings:
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must hold non-empty strings, not {value!r}.")
    return strings


def flag_option(name: str, value: bool) -> bool:
    """Option `name` as a bool, or TypeError (a truthy string is not a flag)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, not {value!r}.")
    return bool(value)


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
