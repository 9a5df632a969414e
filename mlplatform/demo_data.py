"""The demo's month of daily snapshots: a synthetic credit-scoring model drifts, dips, recovers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from metrics import (
    ClassificationPreset,
    ColumnDistribution,
    DataDefinition,
    DataDriftPreset,
    DataDriftTestPreset,
    DataQualityTestPreset,
    DataSummaryPreset,
    Report,
    TestAccuracy,
    TestColumnCount,
    TestColumnMeanInNSigmas,
    TestColumnMissingShare,
    TestColumnNewCategories,
    TestF1,
    TestPrecision,
    TestRecall,
    TestRocAuc,
    TestRowCount,
)

NUMERICAL = ["age", "income", "loan_amount", "credit_history_months"]
CATEGORICAL = ["employment_type", "region"]
FEATURES = [*NUMERICAL, *CATEGORICAL]
TARGET = "default"
PREDICTION = "prediction"
PROBABILITY = "probability"

DEFINITION = DataDefinition(
    numerical_columns=[*NUMERICAL, PROBABILITY],
    categorical_columns=[*CATEGORICAL, TARGET, PREDICTION],
    target=TARGET,
    prediction=PREDICTION,
    prediction_probas=PROBABILITY,
)

EMPLOYMENT = {"salaried": 0.62, "self_employed": 0.14, "contract": 0.12, "retired": 0.08}
EMPLOYMENT["unemployed"] = 1 - sum(EMPLOYMENT.values())
REGIONS = {"north": 0.3, "south": 0.28, "east": 0.22, "west": 0.2}
NEW_REGION = "online"
# The bank flags a loan as "will default" above this probability (not 0.5: defaults are rare).
DECISION_THRESHOLD = 0.35
SNAPSHOT_HOUR = time(6, 0, tzinfo=UTC)
ID_NAMESPACE = uuid.UUID("5b0f4c1e-2f0a-4a7e-9a55-6d656d6f6461")

# The story, on a 30-day scale (a shorter or longer period is stretched to fit):
DRIFT_START = 17  # income and loan amounts start creeping up the day after
QUALITY_DIP = (20, 26)  # the stale model's predictions get noisy and too pessimistic
RETRAIN_DAY = 27  # model 3.2 goes live
INCIDENT_DAY = 23  # a partial upstream load: fewer rows, many incomes missing
INCOME_MISSING_SHARE = 0.02


@dataclass(frozen=True)
class DemoDay:
    """One day's batch of scored loan applications."""

    batch: int  # 1 for the oldest day
    timestamp: datetime
    model_version: str
    frame: pd.DataFrame


@dataclass(frozen=True)
class DemoFrames:
    """The reference (model 3.1's validation sample) and the daily batches, oldest first."""

    reference: pd.DataFrame
    days: list[DemoDay]


def demo_frames(
    *, days: int = 30, end: datetime | None = None, seed: int = 7, rows: int = 2000
) -> DemoFrames:
    """The data behind `demo_snapshots`: the reference and one scored batch per day.

    The last batch is `end`'s date (default: the latest 06:00 UTC that has passed, so no batch
    lies in the future; a naive `end` is taken as UTC), and every batch is dated 06:00 UTC. The reference has `rows` rows and each day about as many. The same
    arguments give the same frames.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}.")
    if rows < 100:
        raise ValueError(f"rows must be at least 100 (drift on fewer is noise), not {rows}.")
    if end is None:
        now = datetime.now(UTC)
        last = now.date()
        if datetime.combine(last, SNAPSHOT_HOUR) > now:
            last -= timedelta(days=1)  # before 06:00 today's batch has not been scored yet
    else:
        last = (end if end.tzinfo else end.replace(tzinfo=UTC)).astimezone(UTC).date()
    reference = _applications(np.random.default_rng([seed, 0]), rows, _Conditions())
    batches = []
    for batch in range(1, days + 1):
        conditions = _Conditions.on(story_day=batch * 30 / days)
        # One generator per day, so a day's data does not depend on how the others were drawn.
        rng = np.random.default_rng([seed, batch])
        # Volumes vary a little from day to day; the incident day's load is partial.
        size = round(rows * rng.normal(1, 0.03) * (0.6 if conditions.incident else 1))
        day = last - timedelta(days=days - batch)
        batches.append(
            DemoDay(
                batch=batch,
                timestamp=datetime.combine(day, SNAPSHOT_HOUR),
                model_version=conditions.model_version,
                frame=_applications(rng, size, conditions),
            )
        )
    return DemoFrames(reference=reference, days=batches)


def demo_snapshots(
    *, days: int = 30, end: datetime | None = None, seed: int = 7, rows: int = 2000
) -> Iterator[dict[str, Any]]:
    """Snapshot documents (as `Run.dict()` gives them), oldest first, for the demo's credit
    scoring project: data summary, drift and classification quality, income and age
    distributions, and drift, data quality and model-quality tests in each.

    The month's story (on a 30-day scale; other lengths are stretched to fit): the first 17 days
    are quiet and every test passes. Then incomes and loan amounts creep up and a new region,
    "online", grows: their drift scores cross the thresholds around day 20 (warnings). From day
    20 the stale model 3.1 gets noisy and too pessimistic: accuracy and ROC AUC fall below the
    floors and the prediction drifts with them, so the dataset drifts (failures); day 23 also
    brings a partial load (fewer rows, 15% of incomes missing). Model 3.2 goes live on day 27:
    quality recovers, the feature drift stays (warnings).

    The same arguments give the same documents, ids included (a few hundredths of a second
    each at 2,000 rows).

    Examples
    --------
    >>> documents = list(demo_snapshots(days=2, end=datetime(2026, 11, 28, tzinfo=UTC), rows=300))
    >>> [d["timestamp"] for d in documents]
    ['2026-11-27T06:00:00+00:00', '2026-11-28T06:00:00+00:00']
    """
    frames = demo_frames(days=days, end=end, seed=seed, rows=rows)
    report = Report(
        [
            DataSummaryPreset(),
            DataDriftPreset(),
            ClassificationPreset(),
            # The drift preset has these too (a metric is computed once); named so that the
            # dashboards charting them do not depend on what the preset holds.
            ColumnDistribution(column="income"),
            ColumnDistribution(column="age"),
            *_tests(),
        ],
        definition=DEFINITION,
        progress=False,
    )
    for day in frames.days:
        run = report.run(
            day.frame,
            frames.reference,
            name=f"daily scoring {day.timestamp.date().isoformat()}",
            tags=["prod", "daily"],
            metadata={"model_version": day.model_version, "batch": day.batch},
            timestamp=day.timestamp,
        )
        document = run.dict()
        # Same arguments, same id: seeding twice stores nothing new (ingestion is idempotent on it).
        key = f"credit-scoring:{seed}:{days}:{rows}:{document['timestamp']}"
        document["id"] = str(uuid.uuid5(ID_NAMESPACE, key))
        yield document


def _tests() -> list[Any]:
    return [
        # The share of drifted columns (critical) and each column's drift (warnings).
        DataDriftTestPreset(),
        # Per-column checks on the categories only: the most common share of a continuous column
        # is noise.
        DataQualityTestPreset(columns=[*CATEGORICAL, PREDICTION]),
        TestRowCount(),
        TestColumnCount(),
        *(TestColumnMissingShare(column=c) for c in FEATURES),
        *(TestColumnMeanInNSigmas(column=c, n=2) for c in NUMERICAL),
        # A new region is news, not an outage.
        *(TestColumnNewCategories(column=c, is_critical=False) for c in CATEGORICAL),
        # The risk team's floors, stated rather than derived: a model below them must not score.
        TestRocAuc(gte=0.8),
        TestAccuracy(gte=0.78),
        TestF1(gte=0.5, is_critical=False),
        TestPrecision(),
        TestRecall(),
    ]


@dataclass(frozen=True)
class _Conditions:
    """How the world and the model differ from the training data on one day."""

    drift: float = 0.0  # 0 as in training, 1 at the end of the month
    dip: float = 0.0  # 0 a healthy model, 1 the worst day
    incident: bool = False
    model_version: str = "3.1"

    @classmethod
    def on(cls, *, story_day: float) -> _Conditions:
        drift = min(max(story_day - DRIFT_START, 0) / (30 - DRIFT_START), 1.0)
        first, last = QUALITY_DIP
        # The dip deepens over three days, then holds until the retrained model replaces it.
        dip = min((story_day - first + 1) / 3, 1.0) if first <= story_day <= last + 0.5 else 0.0
        return cls(
            drift=drift,
            dip=dip,
            incident=round(story_day) == INCIDENT_DAY,
            model_version="3.2" if story_day >= RETRAIN_DAY - 0.5 else "3.1",
        )


def _applications(rng: np.random.Generator, n: int, conditions: _Conditions) -> pd.DataFrame:
    """`n` scored loan applications: features, whether the loan defaulted, and the model's score."""
    age = np.clip(rng.normal(41, 12, n), 18, 85).round()
    # Incomes and loans drift up together (inflation, a new product), loans faster.
    income = rng.lognormal(np.log(46_000), 0.5, n) * (1 + 0.2 * conditions.drift)
    loan_amount = (
        rng.lognormal(np.log(14_000), 0.6, n)
        * (income / 46_000) ** 0.3
        * (1 + 0.3 * conditions.drift)
    ).round(-2)
    credit_history_months = np.clip(
        (age - 18) * 12 * rng.uniform(0.2, 0.9, n) + rng.normal(0, 6, n), 0, None
    ).round()
    employment = rng.choice(list(EMPLOYMENT), n, p=list(EMPLOYMENT.values()))
    online = 0.15 * conditions.drift
    region_shares = [p * (1 - online) for p in REGIONS.values()] + [online]
    region = rng.choice([*REGIONS, NEW_REGION], n, p=region_shares)

    employment_risk = pd.Series(employment).map(
        {"salaried": 0.0, "self_employed": 0.35, "contract": 0.5, "retired": 0.1, "unemployed": 1.3}
    )
    logit = -2.2 + 1.8 * (
        -0.02 * (age - 41)
        - 1.1 * np.log(income / 46_000)
        + 1.2 * np.log(loan_amount / 14_000)
        - 0.006 * (credit_history_months - 100)
        + employment_risk.to_numpy()
        + 0.25 * (region == "south")
    )
    default = rng.random(n) < _sigmoid(logit)
    # The model sees the risk through noise; a stale model sees more of it and errs pessimistic.
    score = logit + rng.normal(0, 0.5 + 2.0 * conditions.dip, n) + 0.8 * conditions.dip
    probability = _sigmoid(score).round(4)

    income = income.round(-1)
    missing_share = 0.15 if conditions.incident else INCOME_MISSING_SHARE
    # Exactly this share, not a random number of them: a missing-share test tolerates +10%.
    missing = rng.choice(n, round(missing_share * n), replace=False)
    income[missing] = np.nan
    return pd.DataFrame(
        {
            "age": age.astype(int),
            "income": income,
            "loan_amount": loan_amount,
            "credit_history_months": credit_history_months.astype(int),
            "employment_type": employment,
            "region": region,
            TARGET: default.astype(int),
            PREDICTION: (probability >= DECISION_THRESHOLD).astype(int),
            PROBABILITY: probability,
        }
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))
