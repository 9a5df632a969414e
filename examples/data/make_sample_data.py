"""Write small sample datasets for the examples: a reference, a current batch like it, and a
drifted batch.

    python examples/data/make_sample_data.py              # into examples/data/
    python examples/data/make_sample_data.py /tmp/demo --format parquet

Files: ``reference.<ext>`` (the training data), ``current.<ext>`` (a new batch from the same
distribution: the checks pass) and ``drifted.<ext>`` (means shifted by three standard deviations,
a new plan, more missing incomes: the stability and drift checks fail). A binary churn model's
``churned`` label and ``predicted`` score columns make the classification presets usable too.
Generated, not committed, so the repository stays small; the same seed gives the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def make_frame(rows: int, seed: int, *, drifted: bool = False) -> pd.DataFrame:
    """Customers of a subscription service, with a churn model's prediction."""
    rng = np.random.default_rng(seed)
    shift = 3.0 if drifted else 0.0
    age = rng.normal(40 + 10 * shift, 10, rows).round(1)
    tenure = rng.gamma(2.0, 12.0, rows).round(1) + 10 * shift
    spend = rng.normal(60 + 15 * shift, 15, rows).round(2)
    plans = ["basic", "plus", "pro", "family"] if drifted else ["basic", "plus", "pro"]
    weights = [0.25, 0.25, 0.2, 0.3] if drifted else [0.5, 0.3, 0.2]
    plan = rng.choice(plans, rows, p=weights)
    # Churn is likelier for short tenure and the basic plan; the model sees the same signals.
    logit = -1.0 - 0.04 * (tenure - 24) + 0.8 * (plan == "basic")
    probability = 1 / (1 + np.exp(-logit))
    churned = (rng.random(rows) < probability).astype(int)
    score = np.clip(probability + rng.normal(0, 0.1, rows), 0, 1).round(3)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(seed * 1_000_000, seed * 1_000_000 + rows),
            "age": age,
            "tenure_months": tenure,
            "monthly_spend": spend,
            "plan": plan,
            "churned": churned,
            "predicted": (score >= 0.5).astype(int),
        }
    )
    # A few missing spends, the same share in every clean batch so the missing-value checks hold.
    missing = rows // (5 if drifted else 50)
    frame.loc[rng.choice(rows, missing, replace=False), "monthly_spend"] = np.nan
    return frame


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def make_sample_data(folder: Path, *, rows: int = 1000, fmt: str = "csv") -> dict[str, Path]:
    """Write reference, current and drifted files into `folder`; returns their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "reference": make_frame(rows, seed=1),
        "current": make_frame(rows, seed=2),
        "drifted": make_frame(rows, seed=3, drifted=True),
    }
    return {name: write(frame, folder / f"{name}.{fmt}") for name, frame in frames.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=HERE)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()
    for path in make_sample_data(args.folder, rows=args.rows, fmt=args.format).values():
        print(path)


if __name__ == "__main__":
    main()
