"""Descriptors applied to data: their columns added to frames, and a definition declaring them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from metrics.computations.descriptors.base import Descriptor, describe_values, is_text
from metrics.core.definition import (
    ColumnType,
    DataDefinition,
    DataDefinitionError,
    check_frame,
    shown_names,
)


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
                    f"Its columns are: {shown_names(frame.columns)}."
                )
            if (frame.columns == column).sum() > 1:
                raise DataDefinitionError(
                    f"{descriptor!r} reads column {column!r}, which the data has more than once; "
                    "rename the copies."
                )
            if not is_text(frame[column]):
                raise DataDefinitionError(
                    f"{descriptor!r} reads column {column!r}, which holds "
                    f"{describe_values(frame[column])}, not text. Descriptors read text columns: strings "
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


def with_descriptors(
    definition: DataDefinition,
    current: pd.DataFrame,
    reference: pd.DataFrame | None,
    *,
    extra: Sequence[Any] = (),
) -> tuple[DataDefinition, pd.DataFrame, pd.DataFrame | None]:
    """The frames with the descriptors' columns added (the definition's and `extra`), and the
    definition declaring their types. Without descriptors, everything comes back unchanged."""
    descriptors = {d.alias: d for d in [*definition.descriptors, *extra]}
    if not descriptors:
        return definition, current, reference
    chosen = list(descriptors.values())
    check_frame(current, "current")
    current = add_descriptors(current, chosen)
    if reference is not None:
        check_frame(reference, "reference")
        reference = add_descriptors(reference, chosen)
    types = descriptor_types(chosen)
    numerical = [a for a, t in types.items() if t == ColumnType.NUMERICAL]
    categorical = [a for a, t in types.items() if t == ColumnType.CATEGORICAL]
    texts = sorted({d.column for d in chosen} - set(definition.declared_types()))
    described = replace(
        definition,
        numerical_columns=[*(definition.numerical_columns or []), *numerical],
        categorical_columns=[*(definition.categorical_columns or []), *categorical],
        text_columns=[*(definition.text_columns or []), *texts],
        descriptors=(),
    )
    return described, current, reference


def _descriptor_list(descriptors: Sequence[Descriptor]) -> list[Descriptor]:
    if isinstance(descriptors, Descriptor):
        raise TypeError("Pass a list of descriptors, e.g. [TextLength(column='review')].")
    found = list(descriptors)
    for descriptor in found:
        if not isinstance(descriptor, Descriptor):
            raise TypeError(f"{descriptor!r} is not a Descriptor.")
    return found
