"""The alerts cast: Acme's project with a channel of each kind, and snapshots whose values and test
outcomes the tests choose."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.models import AlertRule, Channel
from projects.ingestion import ingest_snapshot
from projects.models import Project, Snapshot
from tests.factories import make_project

START = datetime(2026, 11, 1, 6, tzinfo=UTC)
ACCURACY = {"metric": "Quality()", "field": "current.accuracy"}


def document(
    accuracy: float | None,
    *,
    at: datetime,
    fail: int = 0,
    warn: int = 0,
    passed: int = 1,
    names: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A small valid snapshot: one metric, Quality() with current.accuracy, and tests with the
    given outcomes (`names`: ids of the failing ones, TestA, TestB... by default)."""
    tests = []
    outcomes = ["FAIL"] * fail + ["WARNING"] * warn + ["SUCCESS"] * passed
    for i, status in enumerate(outcomes):
        test_id = names[i] if i < len(names) else f"Test{chr(65 + i)}()"
        tests.append(
            {
                "id": test_id,
                "type": "TestValue",
                "name": f"Check {chr(65 + i)}",
                "status": status,
                "critical": status != "WARNING",
                "params": {},
                "metric_id": "Quality()",
                "field": "accuracy",
                "value": accuracy,
                "reference_value": None,
                "condition": {"gte": 0.8},
                "condition_source": "given",
                "description": f"Check {chr(65 + i)} is {accuracy}; expected ≥ 0.8.",
            }
        )
    counts = {s: outcomes.count(s) for s in ("SUCCESS", "FAIL", "WARNING", "ERROR", "SKIPPED")}
    return {
        "schema_version": 1,
        "id": str(uuid.uuid4()),
        "timestamp": at.isoformat(),
        "name": None,
        "tags": [],
        "metadata": {},
        "data": {
            "current": {"rows": 100, "columns": 1},
            "reference": None,
            "column_types": {},
            "roles": {},
            "embeddings": {},
        },
        "metrics": [
            {
                "id": "Quality()",
                "type": "Quality",
                "params": {},
                "status": "ok",
                "values": {"current": {"accuracy": accuracy}},
            }
        ],
        "tests": tests,
        "test_counts": counts,
        "library": {"name": "metrics", "version": "0.1.0"},
    }


def push(project: Project, accuracy: float | None, day: int, **tests: Any) -> Snapshot:
    raw = json.dumps(document(accuracy, at=START + timedelta(days=day), **tests)).encode()
    return ingest_snapshot(project, raw).snapshot


@pytest.fixture
def project(acme) -> Project:
    return make_project(acme, "Scoring")


@pytest.fixture
def email_channel(acme) -> Channel:
    return Channel.objects.create(
        organization=acme, kind="email", name="On call", config={"addresses": ["oncall@acme.test"]}
    )


def metric_rule(project: Project, *channels: Channel, **options: Any) -> AlertRule:
    config = {**ACCURACY, "condition": "lt", "threshold": 0.8, "aggregate": "last"}
    config.update(options.pop("config", {}))
    rule = AlertRule.objects.create(
        project=project,
        name=options.pop("name", "Accuracy below 0.8"),
        kind="metric",
        config=config,
        **options,
    )
    rule.channels.set(channels)
    return rule
