"""Your own function of the texts as a descriptor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from metrics.computations.descriptors.base import Descriptor, as_texts
from metrics.core.definition import ColumnType


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
    _rebuildable = False

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
        prepared = as_texts(texts, f"CustomDescriptor {self.alias!r}")
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
