"""Dataset-level data quality: sizes, missing values, constant, empty and duplicated rows and
columns, and correlations between columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from metrics.computations.column_stats import ColumnSummary
from metrics.core.base import Context, Metric, MetricError, MetricResult
from metrics.core.definition import ColumnType, Schema

# Rows compared first when looking for almost-duplicated columns; only candidates go to a full pass.
_SCREEN_ROWS = 2_000
_MAX_NAMES = 50
_HASH_PRIME = np.uint64(1_000_003)


class DatasetSummary(Metric):
    """Sizes and data quality of the whole frame, per side.

    Values: `row_count`, `column_count` and the count per type (`numerical_columns`, ...);
    `missing_cells` and `missing_cells_share`; `rows_with_missing` (+ `_share`), `empty_rows` (all
    null); `columns_with_missing`, `empty_columns` (all null); `constant_columns` (at most one
    distinct value) and `almost_constant_columns` (the most common value's share is at least
    `almost_constant`); `duplicated_rows` (+ `_share`: rows equal to an earlier row);
    `duplicated_columns` (columns equal to an earlier column) and `almost_duplicated_columns` (pairs
    equal in at least `almost_duplicated` of rows). The names are in the details.
    """

    def __init__(self, *, almost_constant: float = 0.95, almost_duplicated: float = 0.95) -> None:
        for name, value in (
            ("almost_constant", almost_constant),
            ("almost_duplicated", almost_duplicated),
        ):
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], not {value}.")
        super().__init__(almost_constant=almost_constant, almost_duplicated=almost_duplicated)

    def dependencies(self, schema: Schema) -> list[Metric]:
        return [ColumnSummary(column=c) for c in schema.columns()]

    def compute(self, ctx: Context) -> MetricResult:
        values: dict[str, Any] = {}
        details: dict[str, Any] = {}
        frames = {"current": ctx.current}
        if ctx.reference is not None:
            frames["reference"] = ctx.reference
        for side, frame in frames.items():
            values[side], details[side] = self._side(ctx, side, frame)
        return self.result(values, details)

    def _side(
        self, ctx: Context, side: str, frame: pd.DataFrame
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        schema = ctx.schema
        columns = [c for c in frame.columns if c in schema.types or c in schema.roles]
        rows = len(frame)
        nulls = frame[columns].isna().to_numpy()
        per_column_missing = nulls.sum(axis=0)
        per_row_missing = nulls.sum(axis=1)
        del nulls
        unique, most_common_share = self._uniqueness(ctx, side, frame, columns)
        hashes = {c: _column_hash(frame[c]) for c in columns}
        duplicated_columns = _duplicated_columns(frame, columns, hashes)
        almost_duplicated = _almost_duplicated_columns(
            frame, columns, schema, self.params["almost_duplicated"], duplicated_columns
        )
        row_hash = _row_hash([hashes[c] for c in columns])
        del hashes
        duplicated_rows = int(pd.Series(row_hash).duplicated().sum())
        return quality_values(
            self,
            schema,
            columns=columns,
            rows=rows,
            per_column_missing=per_column_missing,
            rows_with_missing=int(np.count_nonzero(per_row_missing)),
            empty_rows=int(np.count_nonzero(per_row_missing == len(columns))),
            unique=unique,
            most_common_share=most_common_share,
            duplicated_rows=duplicated_rows,
            duplicated_columns=duplicated_columns,
            almost_duplicated=almost_duplicated,
        )

    @staticmethod
    def _uniqueness(
        ctx: Context, side: str, frame: pd.DataFrame, columns: list[str]
    ) -> tuple[dict[str, int], dict[str, float]]:
        unique: dict[str, int] = {}
        share: dict[str, float] = {}
        for column in columns:
            if column in ctx.schema.types:
                summary = ctx.result(ColumnSummary(column=column))
                if summary.status == "ok" and side in summary.values:
                    unique[column] = summary.values[side]["unique"]
                    share[column] = summary.values[side]["most_common_share"]
                    continue
            counts = frame[column].value_counts(dropna=True)
            unique[column] = len(counts)
            share[column] = float(counts.iloc[0] / counts.sum()) if len(counts) else float("nan")
        return unique, share


def _column_hash(series: pd.Series) -> np.ndarray:
    """A hash per value, equal for equal values of the column (rows and columns of one frame are
    compared by it, then checked). Text is hashed by its codes: no Python string per cell."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcmM":
        return pd.util.hash_array(series.to_numpy())
    codes, _ = pd.factorize(series, use_na_sentinel=True)
    return pd.util.hash_array(codes)


def _row_hash(column_hashes: list[np.ndarray]) -> np.ndarray:
    combined = np.zeros(len(column_hashes[0]) if column_hashes else 0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for h in column_hashes:
            combined = combined * _HASH_PRIME ^ h
    return combined


def _equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Elementwise equality where two nulls count as equal."""
    same = a.reset_index(drop=True).eq(b.reset_index(drop=True)).fillna(False).to_numpy(dtype=bool)
    return same | (a.isna().to_numpy() & b.isna().to_numpy())


def _duplicated_columns(
    frame: pd.DataFrame, columns: list[str], hashes: dict[str, np.ndarray]
) -> list[tuple[str, str]]:
    seen: dict[tuple[int, int], list[str]] = {}
    pairs = []
    for column in columns:
        h = hashes[column]
        fingerprint = (int(h.sum(dtype=np.uint64)), int(h[: min(len(h), 64)].sum(dtype=np.uint64)))
        for earlier in seen.get(fingerprint, []):
            if np.array_equal(h, hashes[earlier]) and _equal(frame[earlier], frame[column]).all():
                pairs.append((earlier, column))
                break
        seen.setdefault(fingerprint, []).append(column)
    return pairs


def _almost_duplicated_columns(
    frame: pd.DataFrame,
    columns: list[str],
    schema: Schema,
    threshold: float,
    exact: list[tuple[str, str]],
) -> list[tuple[str, str, float]]:
    """Pairs of same-typed columns equal in at least `threshold` of rows. Every pair is screened on
    a sample of rows at once (one comparison per column against all later ones); only candidates
    get a pass over the full columns."""
    exact_pairs = set(exact)
    sample = frame.iloc[:: max(1, len(frame) // _SCREEN_ROWS)]
    groups: dict[object, list[str]] = {}
    for column in columns:
        groups.setdefault(schema.types.get(column, "role"), []).append(column)
    found = []
    for group in groups.values():
        if len(group) < 2:
            continue
        codes = _sample_codes(sample, group)
        for i, a in enumerate(group[:-1]):
            shares = (codes[:, i : i + 1] == codes[:, i + 1 :]).mean(axis=0)
            for offset in np.flatnonzero(shares >= threshold * 0.9):
                b = group[i + 1 + offset]
                if (a, b) in exact_pairs:
                    continue
                share = float(_equal(frame[a], frame[b]).mean())
                if threshold <= share < 1.0:  # equal columns are exact duplicates already
                    found.append((a, b, share))
    return found


def _sample_codes(sample: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The sample's values as integer codes shared by all the columns (nulls share one code)."""
    stacked = pd.concat([sample[c].reset_index(drop=True) for c in columns], ignore_index=True)
    codes, _ = pd.factorize(stacked.astype(object), use_na_sentinel=True)
    return codes.reshape(len(columns), len(sample)).T


def quality_values(
    metric: Metric,
    schema: Schema,
    *,
    columns: list[str],
    rows: int,
    per_column_missing: np.ndarray,
    rows_with_missing: int,
    empty_rows: int,
    unique: dict[str, int],
    most_common_share: dict[str, float],
    duplicated_rows: int,
    duplicated_columns: list[tuple[str, str]],
    almost_duplicated: list[tuple[str, str, float]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """DatasetSummary's values and details of one side, from its counts (in memory or streamed)."""
    constant = [c for c in columns if unique[c] <= 1]
    almost_constant = [
        c
        for c in columns
        if unique[c] > 1 and most_common_share[c] >= metric.params["almost_constant"]
    ]
    empty_columns = [c for c, m in zip(columns, per_column_missing, strict=True) if m == rows]
    missing_cells = int(per_column_missing.sum())
    values = {
        "row_count": rows,
        "column_count": len(columns),
        **{f"{t}_columns": sum(1 for c in columns if schema.types.get(c) == t) for t in ColumnType},
        "missing_cells": missing_cells,
        "missing_cells_share": missing_cells / (rows * len(columns)) if columns else float("nan"),
        "rows_with_missing": rows_with_missing,
        "rows_with_missing_share": float(rows_with_missing) / rows,
        "empty_rows": empty_rows,
        "columns_with_missing": int(np.count_nonzero(per_column_missing)),
        "empty_columns": len(empty_columns),
        "constant_columns": len(constant),
        "almost_constant_columns": len(almost_constant),
        "duplicated_rows": duplicated_rows,
        "duplicated_rows_share": duplicated_rows / rows,
        "duplicated_columns": len(duplicated_columns),
        "almost_duplicated_columns": len(almost_duplicated),
    }
    details = {
        "constant_columns": constant[:_MAX_NAMES],
        "almost_constant_columns": almost_constant[:_MAX_NAMES],
        "empty_columns": empty_columns[:_MAX_NAMES],
        "duplicated_columns": [list(p) for p in duplicated_columns[:_MAX_NAMES]],
        "almost_duplicated_columns": [
            {"columns": [a, b], "equal_share": share}
            for a, b, share in almost_duplicated[:_MAX_NAMES]
        ],
    }
    return values, details


class Correlations(Metric):
    """Correlation between pairs of columns: Pearson, Spearman or Kendall between numerical
    columns, or Cramér's V between categorical ones.

    Values per side: `max_abs` (the strongest pair) and `high_pairs` (pairs with |r| >= threshold).
    Details: the matrix (up to 50 columns) and the strongest pairs (up to 20). Pairs are computed
    on the rows where both values are present (finite for numbers).
    """

    METHODS = ("pearson", "spearman", "kendall", "cramer_v")

    def __init__(
        self, *, method: str = "pearson", threshold: float = 0.9, columns: list[str] | None = None
    ) -> None:
        if method not in self.METHODS:
            raise ValueError(f"method must be one of {', '.join(self.METHODS)}, not {method!r}.")
        super().__init__(method=method, threshold=threshold, columns=columns)

    def checked_columns(self, schema: Schema) -> list[str]:
        """The columns to correlate, checked to be of the method's type (at least two)."""
        method = self.params["method"]
        wanted = ColumnType.CATEGORICAL if method == "cramer_v" else ColumnType.NUMERICAL
        columns: list[str] = self.params.get("columns") or schema.columns(wanted)
        for column in columns:
            if schema.type_of(column) != wanted:
                raise MetricError(
                    f"{method} needs {wanted} columns; {column!r} is {schema.type_of(column)}."
                )
        if len(columns) < 2:
            raise MetricError(
                f"{method} needs at least two {wanted} columns; the data has {len(columns)}."
            )
        return columns

    def compute(self, ctx: Context) -> MetricResult:
        columns = self.checked_columns(ctx.schema)
        frames = {"current": ctx.current}
        if ctx.reference is not None:
            frames["reference"] = ctx.reference
        matrices = {
            side: _correlation_matrix(frame, columns, self.params["method"])
            for side, frame in frames.items()
        }
        values, details = correlation_summary(self, columns, matrices)
        return self.result(values, details)


def correlation_summary(
    metric: Metric, columns: list[str], matrices: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Correlations' values and details from each side's matrix."""
    values: dict[str, Any] = {}
    details: dict[str, Any] = {"columns": columns}
    for side, matrix in matrices.items():
        upper = np.triu_indices(len(columns), k=1)
        pair_values = matrix[upper]
        strength = np.abs(np.nan_to_num(pair_values, nan=0.0))
        order = np.argsort(-strength, kind="stable")[:20]
        values[side] = {
            "max_abs": float(strength.max()) if len(strength) else float("nan"),
            "high_pairs": int(np.count_nonzero(strength >= metric.params["threshold"])),
        }
        details[f"{side}_top_pairs"] = [
            {
                "columns": [columns[upper[0][k]], columns[upper[1][k]]],
                "value": float(pair_values[k]),
            }
            for k in order
        ]
        if len(columns) <= 50:
            details[f"{side}_matrix"] = matrix.tolist()
    return values, details


def _correlation_matrix(frame: pd.DataFrame, columns: list[str], method: str) -> np.ndarray:
    if method == "cramer_v":
        return _cramer_v_matrix(frame, columns)
    # One row per column (each column's values contiguous): a fast copy, and fast sums below.
    by_column = np.stack([frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in columns])
    if method == "pearson":
        return _pairwise_pearson(by_column, overwrite=True)
    by_column[~np.isfinite(by_column)] = np.nan
    data = by_column.T
    if method == "spearman":
        return _spearman(data)
    if method == "kendall":
        k = len(columns)
        matrix = np.eye(k)
        for i in range(k):
            for j in range(i + 1, k):
                both = ~np.isnan(data[:, i]) & ~np.isnan(data[:, j])
                tau = (
                    stats.kendalltau(data[both, i], data[both, j]).statistic
                    if both.sum() > 1
                    else np.nan
                )
                matrix[i, j] = matrix[j, i] = tau
        return matrix
    raise ValueError(f"unknown correlation method {method!r}")


def _spearman(data: np.ndarray) -> np.ndarray:
    """Spearman's rho: Pearson's r of the ranks, ranked over the rows where both columns of a pair
    are present (as pandas does). Complete columns are ranked once for all their pairs."""
    complete = ~np.isnan(data).any(axis=0)
    ranks = np.column_stack(
        [stats.rankdata(data[:, j]) if complete[j] else data[:, j] for j in range(data.shape[1])]
    )
    matrix = (
        _pairwise_pearson(np.where(complete, ranks, 0.0).T, overwrite=True)
        if complete.any()
        else np.eye(data.shape[1])
    )
    for i in range(data.shape[1]):
        for j in range(i + 1, data.shape[1]):
            if complete[i] and complete[j]:
                continue
            both = ~np.isnan(data[:, i]) & ~np.isnan(data[:, j])
            if both.sum() < 2:
                value = np.nan
            else:
                a, b = stats.rankdata(data[both, i]), stats.rankdata(data[both, j])
                with np.errstate(invalid="ignore", divide="ignore"):
                    value = float(np.corrcoef(a, b)[0, 1])
            matrix[i, j] = matrix[j, i] = value
    np.fill_diagonal(matrix, 1.0)
    return matrix


def _pairwise_pearson(by_column: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Pearson r for every pair of columns (the rows of `by_column`) over the observations where
    both are finite, with matrix products instead of a loop over pairs (`overwrite`: the input
    may be used as working space)."""
    present = np.isfinite(by_column)
    if present.all():
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.corrcoef(by_column)
    x = by_column if overwrite else by_column.copy()
    mask = present.astype(np.float64)
    # Centring first (zeros where a value is missing) keeps the one-pass sums from cancelling.
    np.copyto(x, 0.0, where=~present)
    with np.errstate(invalid="ignore", divide="ignore"):
        x -= (x.sum(axis=1) / mask.sum(axis=1))[:, None]
    np.copyto(x, 0.0, where=~present)
    del present
    n = mask @ mask.T
    sum_x = x @ mask.T  # [i, j]: sum of column i over the rows where j is present too
    sum_xy = x @ x.T
    np.multiply(x, x, out=x)
    sum_xx = x @ mask.T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = sum_x / n
        mean_j = sum_x.T / n
        cov = sum_xy / n - mean_i * mean_j
        var_i = sum_xx / n - mean_i**2
        var_j = sum_xx.T / n - mean_j**2
        matrix = cov / np.sqrt(var_i * var_j)
    np.fill_diagonal(matrix, 1.0)
    return np.clip(matrix, -1.0, 1.0)


def _cramer_v_matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    codes = [pd.factorize(frame[c], use_na_sentinel=True) for c in columns]
    k = len(columns)
    matrix = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            a, levels_a = codes[i]
            b, levels_b = codes[j]
            both = (a >= 0) & (b >= 0)
            ka, kb = len(levels_a), len(levels_b)
            table = np.bincount(a[both] * kb + b[both], minlength=ka * kb).reshape(ka, kb)
            table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
            n = table.sum()
            if min(table.shape) < 2 or n == 0:
                value = np.nan
            else:
                chi2 = stats.chi2_contingency(table, correction=False).statistic
                value = float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))
            matrix[i, j] = matrix[j, i] = value
    return matrix
