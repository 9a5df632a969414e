"""Columns prepared once for every metric that reads them: values as float64, sorted once, and
categories as integer codes shared by reference and current.

Everything here is vectorised: one sort per numeric column, `np.bincount` over integer codes, binary
searches on sorted arrays instead of passes over the data. A `ColumnPair` holds both datasets' views
of one column, so reference and current agree on categories and bins; the run releases it when the
column's metrics are done, so at most a few columns' working arrays are alive at once.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from metrics.core.definition import ColumnType


class ColumnData:
    """One column of one dataset."""

    def __init__(self, series: pd.Series, column_type: ColumnType) -> None:
        self.series = series
        self.type = column_type
        self.name = str(series.name)

    @property
    def n_rows(self) -> int:
        return len(self.series)

    @cached_property
    def null_mask(self) -> np.ndarray:
        return self.series.isna().to_numpy()

    @cached_property
    def n_missing(self) -> int:
        return int(self.null_mask.sum())

    # ---- numbers (numerical columns; datetimes as nanoseconds since the epoch) ------------------

    @cached_property
    def values(self) -> np.ndarray:
        """float64 values with NaN for nulls."""
        series = self.series
        if self.type == ColumnType.DATETIME:
            stamps = pd.to_datetime(series, utc=True)
            ints = stamps.to_numpy(dtype="datetime64[ns]").view("int64").astype(np.float64)
            ints[self.null_mask] = np.nan
            return ints
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return series.to_numpy(dtype=np.float64, na_value=np.nan, copy=False)

    @cached_property
    def sorted_finite(self) -> np.ndarray:
        """The finite values, sorted ascending (the one sort of this column)."""
        values = self.values
        finite = values[np.isfinite(values)]
        finite.sort(kind="quicksort")
        return finite

    @cached_property
    def n_infinite(self) -> int:
        values = self.values
        return int(np.count_nonzero(np.isinf(values)))

    @cached_property
    def n_unique_finite(self) -> int:
        data = self.sorted_finite
        if len(data) == 0:
            return 0
        return int(np.count_nonzero(data[1:] != data[:-1])) + 1

    def value_counts_sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct finite values and their counts, from the sorted array."""
        data = self.sorted_finite
        if len(data) == 0:
            return data, np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, data[1:] != data[:-1]])
        counts = np.diff(np.r_[starts, len(data)])
        return data[starts], counts

    # ---- categories (categorical and text columns) ---------------------------------------------

    @cached_property
    def codes_and_uniques(self) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes (-1 for null) and the distinct values, in order of appearance."""
        codes, uniques = pd.factorize(self.series, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)

    @cached_property
    def category_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct non-null values and their counts."""
        codes, uniques = self.codes_and_uniques
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        return uniques, counts


class ColumnPair:
    """A column in the current data and, when there is one, in the reference data."""

    def __init__(self, current: ColumnData, reference: ColumnData | None) -> None:
        self.current = current
        self.reference = reference
        self.type = current.type
        self.name = current.name

    def require_reference(self) -> ColumnData:
        if self.reference is None:
            raise MissingReference(f"Column {self.name!r} needs reference data to compare against.")
        return self.reference

    @cached_property
    def shared_category_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(categories, reference counts, current counts) over the union of both sides' values.

        Categories are in the reference's order of appearance, then those new in current.
        """
        reference = self.require_reference()
        ref_values, ref_counts = reference.category_counts
        cur_values, cur_counts = self.current.category_counts
        index = pd.Index(ref_values)
        positions = index.get_indexer(pd.Index(cur_values))
        new = positions < 0
        categories = np.concatenate([ref_values, cur_values[new]])
        reference_aligned = np.concatenate([ref_counts, np.zeros(int(new.sum()), dtype=np.int64)])
        current_aligned = np.zeros(len(categories), dtype=np.int64)
        positions[new] = len(ref_values) + np.arange(int(new.sum()))
        current_aligned[positions] = cur_counts
        return categories, reference_aligned, current_aligned

    @cached_property
    def shared_value_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a numeric column read as categories: (values, reference counts, current counts)."""
        reference = self.require_reference()
        ref_values, ref_counts = reference.value_counts_sorted()
        cur_values, cur_counts = self.current.value_counts_sorted()
        values = np.union1d(ref_values, cur_values)
        reference_aligned = np.zeros(len(values), dtype=np.int64)
        current_aligned = np.zeros(len(values), dtype=np.int64)
        reference_aligned[np.searchsorted(values, ref_values)] = ref_counts
        current_aligned[np.searchsorted(values, cur_values)] = cur_counts
        return values, reference_aligned, current_aligned


class MissingReference(Exception):
    """A metric needs reference data and none was given (the metric is skipped, not failed)."""


def sorted_quantile(data: np.ndarray, q: float) -> float:
    """The q-quantile of an ascending array by linear interpolation (NumPy's default method)."""
    n = len(data)
    if n == 0:
        return float("nan")
    position = q * (n - 1)
    low = int(np.floor(position))
    high = min(low + 1, n - 1)
    fraction = position - low
    return float(data[low] + (data[high] - data[low]) * fraction)
