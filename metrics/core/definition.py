"""What the columns of a dataset are: their types (inferred, or declared) and their roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd


class ColumnType(StrEnum):
    NUMERICAL = "numerical"
    CATEGORICAL = "categorical"
    TEXT = "text"
    DATETIME = "datetime"


class DataDefinitionError(ValueError):
    """The data does not fit its definition. The message names the column and what to do."""


# Strings are text rather than categories when most values are distinct and they read like phrases.
TEXT_MIN_UNIQUE_SHARE = 0.5
TEXT_MIN_MEAN_WORDS = 3.0
# How many non-null values type inference looks at.
INFERENCE_SAMPLE = 10_000


@dataclass(frozen=True, kw_only=True)
class DataDefinition:
    """Column types and roles for a dataset.

    Columns not declared in one of the `*_columns` lists have their type inferred: numbers are
    numerical, booleans and pandas categoricals are categorical, datetimes are datetime, and strings
    are text when most are distinct and average three words or more, else categorical. Declare a
    numeric column with few values (a rating from 1 to 5, say) as categorical when it is one.

    Parameters
    ----------
    numerical_columns, categorical_columns, text_columns, datetime_columns
        Columns whose type you set. A column may appear in one list only.
    id_column, timestamp_column
        Roles: neither is summarised as a feature or checked for drift.
    target, prediction
        The true label or value and the model's output (a label or a value).
    prediction_probas
        Predicted probabilities: one column per class (named after the class) for multiclass, or
        one column with the positive class's probability for binary classification.
    embeddings
        Named groups of numeric columns read together as vectors (their drift is measured as a
        whole; the member columns are not summarised one by one).
    user_id, item_id
        Ranking and recommendation roles.
    exclude
        Columns to ignore entirely.
    descriptors
        Text descriptors (`metrics.computations.descriptors`) computed per row of a text column and added as
        columns, numerical or categorical, before the run: statistics, tests and drift then work
        on them like on any column.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [31, 45], "plan": ["basic", "pro"], "id": [1, 2]})
    >>> schema = DataDefinition(id_column="id").resolve(frame)
    >>> schema.types
    {'age': <ColumnType.NUMERICAL: 'numerical'>, 'plan': <ColumnType.CATEGORICAL: 'categorical'>}
    """

    numerical_columns: Sequence[str] | None = None
    categorical_columns: Sequence[str] | None = None
    text_columns: Sequence[str] | None = None
    datetime_columns: Sequence[str] | None = None
    id_column: str | None = None
    timestamp_column: str | None = None
    target: str | None = None
    prediction: str | None = None
    prediction_probas: str | Sequence[str] | None = None
    embeddings: Mapping[str, Sequence[str]] = field(default_factory=dict)
    user_id: str | None = None
    item_id: str | None = None
    exclude: Sequence[str] = ()
    descriptors: Sequence[Any] = ()

    def declared_types(self) -> dict[str, ColumnType]:
        declared: dict[str, ColumnType] = {}
        for column_type, columns in (
            (ColumnType.NUMERICAL, self.numerical_columns),
            (ColumnType.CATEGORICAL, self.categorical_columns),
            (ColumnType.TEXT, self.text_columns),
            (ColumnType.DATETIME, self.datetime_columns),
        ):
            for column in columns or ():
                if column in declared and declared[column] != column_type:
                    raise DataDefinitionError(
                        f"Column {column!r} is declared both {declared[column]} and {column_type}; "
                        "give it one type."
                    )
                declared[column] = column_type
        return declared

    def role_columns(self) -> dict[str, str]:
        """Column name -> role, for the roles that name one column."""
        roles = {
            "id": self.id_column,
            "timestamp": self.timestamp_column,
            "target": self.target,
            "prediction": self.prediction,
            "user_id": self.user_id,
            "item_id": self.item_id,
        }
        found = {column: role for role, column in roles.items() if column is not None}
        for column in _as_list(self.prediction_probas):
            found[column] = "prediction_probas"
        return found

    def resolve(self, current: pd.DataFrame, reference: pd.DataFrame | None = None) -> Schema:
        """Check the data against this definition and settle every column's type."""
        check_frame(current, "current")
        if reference is not None:
            check_frame(reference, "reference")
            _check_same_columns(current, reference)
        declared = self.declared_types()
        excluded = set(self.exclude)
        embedded = {column for columns in self.embeddings.values() for column in columns}
        roles = self.role_columns()
        wanted = set(declared) | set(roles) | embedded
        for column in sorted(wanted - excluded):
            if column not in current.columns:
                raise DataDefinitionError(
                    f"Column {column!r} is in the data definition but not in the current data. "
                    f"Its columns are: {shown_names(current.columns)}."
                )
        types: dict[str, ColumnType] = {}
        for column in current.columns:
            if column in excluded or column in embedded:
                continue
            if roles.get(column) in ("id", "timestamp", "user_id", "item_id"):
                continue
            sample = current[column]
            column_type = declared.get(column) or infer_column_type(sample)
            _check_type(sample, column, column_type, "current")
            if reference is not None:
                _check_type(reference[column], column, column_type, "reference")
            types[column] = column_type
        for name, columns in self.embeddings.items():
            for column in columns:
                if not pd.api.types.is_numeric_dtype(current[column]):
                    raise DataDefinitionError(
                        f"Embedding {name!r}: column {column!r} is not numeric "
                        f"({current[column].dtype}); embeddings are numeric vectors."
                    )
        return Schema(
            types=types, roles=roles, embeddings={k: list(v) for k, v in self.embeddings.items()}
        )


@dataclass(frozen=True)
class Schema:
    """A data definition settled against data: the type of every feature column, and the roles."""

    types: dict[str, ColumnType]
    roles: dict[str, str] = field(default_factory=dict)
    embeddings: dict[str, list[str]] = field(default_factory=dict)

    def columns(self, *column_types: ColumnType) -> list[str]:
        """Feature columns, in frame order, optionally of the given types only."""
        return [c for c, t in self.types.items() if not column_types or t in column_types]

    def type_of(self, column: str) -> ColumnType:
        try:
            return self.types[column]
        except KeyError:
            known = shown_names(self.types)
            raise DataDefinitionError(
                f"Column {column!r} is not a feature column of this data (known: {known})."
            ) from None

    def role(self, role: str) -> str | None:
        return next((column for column, r in self.roles.items() if r == role), None)


def infer_column_type(series: pd.Series) -> ColumnType:
    """The type a column's values suggest (see `DataDefinition`)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return ColumnType.CATEGORICAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColumnType.DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        return ColumnType.NUMERICAL
    values = series.dropna()
    if len(values) > INFERENCE_SAMPLE:
        values = values.iloc[:INFERENCE_SAMPLE]
    if len(values) == 0:
        return ColumnType.CATEGORICAL
    if not all(isinstance(v, str) for v in values.iloc[:100]):
        return ColumnType.CATEGORICAL
    strings = values.astype(str)
    if strings.nunique() / len(strings) < TEXT_MIN_UNIQUE_SHARE:
        return ColumnType.CATEGORICAL  # repeated values: categories (and no need to count words)
    mean_words = strings.str.count(r"\s+").mean() + 1
    return ColumnType.TEXT if mean_words >= TEXT_MIN_MEAN_WORDS else ColumnType.CATEGORICAL


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def shown_names(columns: object) -> str:
    """Column names for an error message: the first twelve, quoted, and how many more."""
    names = [str(c) for c in columns]  # type: ignore[attr-defined]
    shown = ", ".join(repr(n) for n in names[:12])
    return shown + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def check_frame(frame: object, which: str) -> None:
    """Refuse what is not a usable frame (`which`: "current" or "reference"), saying why."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"The {which} data must be a pandas DataFrame, not {type(frame).__name__}; "
            "wrap arrays with pandas.DataFrame(...)."
        )
    if len(frame) == 0:
        raise DataDefinitionError(f"The {which} data has no rows.")
    if len(frame.columns) == 0:
        raise DataDefinitionError(f"The {which} data has no columns.")
    duplicated = frame.columns[frame.columns.duplicated()].unique()
    if len(duplicated):
        raise DataDefinitionError(
            f"The {which} data has duplicated column names: {shown_names(duplicated)}; rename them."
        )
    not_strings = [c for c in frame.columns if not isinstance(c, str)]
    if not_strings:
        raise DataDefinitionError(
            f"Column names must be strings; the {which} data has {shown_names(not_strings)}. "
            "Rename them, e.g. frame.columns = frame.columns.astype(str)."
        )


def _check_same_columns(current: pd.DataFrame, reference: pd.DataFrame) -> None:
    only_current = [c for c in current.columns if c not in reference.columns]
    only_reference = [c for c in reference.columns if c not in current.columns]
    if only_current or only_reference:
        parts = []
        if only_current:
            parts.append(f"only in current: {shown_names(only_current)}")
        if only_reference:
            parts.append(f"only in reference: {shown_names(only_reference)}")
        raise DataDefinitionError(
            "The reference and current data must have the same columns ("
            + "; ".join(parts)
            + "). Select the same columns from both, or exclude the others in the definition."
        )


def _check_type(series: pd.Series, column: str, column_type: ColumnType, which: str) -> None:
    dtype = series.dtype
    if column_type == ColumnType.NUMERICAL:
        if pd.api.types.is_bool_dtype(dtype):
            return
        if not pd.api.types.is_numeric_dtype(dtype):
            example = _first_non_numeric(series)
            raise DataDefinitionError(
                f"Column {column!r} is numerical but the {which} data holds non-numeric values "
                f"({dtype}, e.g. {example!r}). Convert it with pandas.to_numeric, or declare it "
                "categorical or text."
            )
    elif column_type == ColumnType.DATETIME:
        if not pd.api.types.is_datetime64_any_dtype(dtype):
            raise DataDefinitionError(
                f"Column {column!r} is declared datetime but the {which} data holds {dtype}. "
                "Convert it with pandas.to_datetime first."
            )
    elif column_type == ColumnType.TEXT:
        values = series.dropna()
        if len(values) and not all(isinstance(v, str) for v in values.iloc[:100]):
            raise DataDefinitionError(
                f"Column {column!r} is declared text but the {which} data holds "
                f"{type(values.iloc[0]).__name__} values; text columns hold strings."
            )


def _first_non_numeric(series: pd.Series) -> object:
    values = series.dropna()
    for value in values.iloc[:1000]:
        if not isinstance(value, (int, float, np.number)):
            return value
    return values.iloc[0] if len(values) else None


# The definition's fields that a collector's configuration (or a command line) may set.
DEFINITION_FIELDS = tuple(f.name for f in fields(DataDefinition) if f.name != "descriptors")
