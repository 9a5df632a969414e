"""Column types inferred with overrides, roles, and clear errors for data that does not fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import ColumnType, DataDefinition, DataDefinitionError, DataSummaryPreset, Report


def test_types_are_inferred(reference):
    schema = DataDefinition().resolve(reference)
    assert schema.types == {
        "age": ColumnType.NUMERICAL,
        "income": ColumnType.NUMERICAL,
        "score": ColumnType.NUMERICAL,
        "plan": ColumnType.CATEGORICAL,
        "active": ColumnType.CATEGORICAL,
        "signup": ColumnType.DATETIME,
    }


def test_strings_that_read_like_phrases_are_text():
    rng = np.random.default_rng(0)
    words = np.array(
        [
            "the",
            "quick",
            "brown",
            "fox",
            "jumps",
            "over",
            "a",
            "lazy",
            "dog",
            "near",
            "river",
            "bank",
            "at",
            "dawn",
        ]
    )
    reviews = [" ".join(rng.choice(words, 6)) for _ in range(200)]
    frame = pd.DataFrame({"review": reviews, "city": rng.choice(["Paris", "Oslo"], 200)})
    assert DataDefinition().resolve(frame).types == {
        "review": ColumnType.TEXT,
        "city": ColumnType.CATEGORICAL,
    }


def test_declared_types_override_inference(reference):
    schema = DataDefinition(categorical_columns=["score"], text_columns=["plan"]).resolve(reference)
    assert schema.types["score"] == ColumnType.CATEGORICAL
    assert schema.types["plan"] == ColumnType.TEXT


def test_roles_are_kept_apart_from_features():
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "ts": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
            "x": [0.1, 0.2, 0.3],
            "y": [0, 1, 0],
            "pred": [0, 1, 1],
            "e1": [0.1, 0.2, 0.3],
            "e2": [0.4, 0.5, 0.6],
        }
    )
    definition = DataDefinition(
        id_column="id",
        timestamp_column="ts",
        target="y",
        prediction="pred",
        embeddings={"vec": ["e1", "e2"]},
    )
    schema = definition.resolve(frame)
    assert set(schema.types) == {"x", "y", "pred"}
    assert schema.role("target") == "y"
    assert schema.role("id") == "id"
    assert schema.embeddings == {"vec": ["e1", "e2"]}


def test_a_missing_declared_column_is_named(reference):
    with pytest.raises(
        DataDefinitionError,
        match=r"Column 'salary' is in the data definition but not in the current data",
    ):
        DataDefinition(numerical_columns=["salary"]).resolve(reference)


def test_a_wrong_type_says_how_to_fix_it():
    frame = pd.DataFrame({"amount": ["12.5", "n/a", "3"]})
    with pytest.raises(
        DataDefinitionError,
        match=r"'amount' is numerical but the current data holds non-numeric values .*'12.5'.*to_numeric",
    ):
        DataDefinition(numerical_columns=["amount"]).resolve(frame)


def test_a_type_that_differs_between_reference_and_current_is_named():
    current = pd.DataFrame({"x": [1.0, 2.0]})
    reference = pd.DataFrame({"x": ["a", "b"]})
    with pytest.raises(DataDefinitionError, match="reference data holds non-numeric"):
        DataDefinition().resolve(current, reference)


def test_an_empty_frame_is_refused():
    with pytest.raises(DataDefinitionError, match="The current data has no rows"):
        Report([DataSummaryPreset()]).run(pd.DataFrame({"x": []}))
    with pytest.raises(DataDefinitionError, match="The reference data has no rows"):
        Report([DataSummaryPreset()]).run(pd.DataFrame({"x": [1]}), pd.DataFrame({"x": []}))


def test_mismatched_columns_are_listed():
    with pytest.raises(DataDefinitionError, match=r"only in current: 'b'; only in reference: 'c'"):
        DataDefinition().resolve(
            pd.DataFrame({"a": [1], "b": [2]}), pd.DataFrame({"a": [1], "c": [2]})
        )


def test_not_a_frame_is_a_type_error():
    with pytest.raises(TypeError, match="pandas DataFrame, not ndarray"):
        DataDefinition().resolve(np.zeros((3, 2)))


def test_a_column_in_two_type_lists_is_refused(reference):
    with pytest.raises(DataDefinitionError, match="declared both numerical and categorical"):
        DataDefinition(numerical_columns=["age"], categorical_columns=["age"]).resolve(reference)


def test_duplicated_and_non_string_column_names_are_refused():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataDefinitionError, match="duplicated column names"):
        DataDefinition().resolve(frame)
    with pytest.raises(DataDefinitionError, match="Column names must be strings"):
        DataDefinition().resolve(pd.DataFrame({0: [1.0]}))


def test_excluded_columns_are_ignored(reference):
    schema = DataDefinition(exclude=["income", "signup"]).resolve(reference)
    assert "income" not in schema.types
    assert "signup" not in schema.types
