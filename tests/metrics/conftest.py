"""Data for the metrics tests: a reference and a current frame with every column type, and helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, n).round(1),
            "income": rng.lognormal(10, 0.8, n),
            "score": rng.integers(0, 5, n).astype(float),  # few distinct values
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]),
            "active": rng.choice([True, False], n),
            "signup": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        }
    )
    frame.loc[rng.choice(n, n // 20, replace=False), "income"] = np.nan
    frame.loc[rng.choice(n, n // 50, replace=False), "plan"] = None
    return frame


@pytest.fixture
def reference() -> pd.DataFrame:
    return make_frame(3000, 1)


@pytest.fixture
def current() -> pd.DataFrame:
    return make_frame(2000, 2, shift=3.0)
