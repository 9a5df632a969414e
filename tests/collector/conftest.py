"""The collector cast: Acme's scoring project, a collector of drift and summary presets with a
reference, an ingest token, and rows made to drift or not."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collector.intake import accept_reference
from collector.models import Collector
from mlplatform.accounts.models import TokenScope
from tests.factories import make_project, make_token

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def frame(rows: int, *, seed: int, shift: float = 0.0, start: int = 0) -> pd.DataFrame:
    """Rows of a binary classifier's inputs and output; `shift` moves x (drift)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0 + shift, 1, rows)
    y = rng.normal(5, 2, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    prediction = (x + rng.normal(0, 1, rows) > 0).astype(int)
    return pd.DataFrame(
        {
            "prediction_id": [f"p{start + i}" for i in range(rows)],
            "timestamp": [(T0 + timedelta(seconds=start + i)).isoformat() for i in range(rows)],
            "x": x,
            "y": y,
            "plan": plan,
            "prediction": prediction,
        }
    )


def records(data: pd.DataFrame) -> list[dict[str, Any]]:
    return data.to_dict(orient="records")


def parquet(data: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), sink)
    return sink.getvalue()


@pytest.fixture
def scoring(acme):
    return make_project(acme, "Live scoring")


@pytest.fixture
def collector(scoring) -> Collector:
    made = Collector.objects.create(
        project=scoring,
        name="live",
        config={
            "presets": ["data_drift", "data_summary"],
            "quality_presets": ["classification"],
            "definition": {
                "target": "target",
                "prediction": "prediction",
                "categorical_columns": ["plan", "prediction"],
            },
        },
        every_minutes=60,
    )
    reference = frame(5000, seed=1).drop(columns=["prediction_id", "timestamp"])
    accept_reference(made, reference.to_csv(index=False).encode(), "text/csv", "reference.csv")
    return made


@pytest.fixture
def ingest_secret(acme, scoring) -> str:
    return make_token(acme, TokenScope.INGEST, project=scoring)[1]
