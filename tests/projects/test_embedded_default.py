"""Ingestion and series reading on the embedded default (SQLite, no PostgreSQL-only paths): the
demo and `make demo` store and chart snapshots through the same functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.processes import ROOT

SCRIPT = r"""
import json, sys
from datetime import datetime, timedelta, UTC
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from mlplatform.accounts.models import User
from mlplatform.accounts.services import create_organization
from projects.ingestion import ingest_snapshot, points_of
from projects.models import MetricPoint, MetricSeries, Project
from projects.series import as_json, read_series
from tests.factories import snapshot_document

owner = User.objects.create_user(email="o@example.com", password=None)
org = create_organization(name="Embedded", owner=owner)
project = Project.objects.create(organization=org, name="p")
day0 = datetime(2026, 10, 1, tzinfo=UTC)
documents = [snapshot_document(seed=i, timestamp=day0 + timedelta(days=i)) for i in range(3)]
stored = [ingest_snapshot(project, json.dumps(d).encode()).snapshot for d in documents]
again = ingest_snapshot(project, json.dumps(documents[0]).encode())
series = MetricSeries.objects.get(
    project=project, metric_id='ColumnSummary(column="age")', field="current.mean"
)
found = as_json(read_series(project, [series], since=None, until=None, points=500))[0]
print(json.dumps({
    "created_again": again.created,
    "points": MetricPoint.objects.count(),
    "expected_points": sum(len(list(points_of(d))) for d in documents),
    "series": found,
    "expected_values": [
        next(m for m in d["metrics"] if m["id"] == 'ColumnSummary(column="age")')["values"]["current"]["mean"]
        for d in documents
    ],
    "expected_snapshots": [str(s.uuid) for s in stored],
    "expected_times": [(day0 + timedelta(days=i)).timestamp() for i in range(3)],
}))
"""


def test_snapshots_are_stored_and_charted_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mlplatform.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["created_again"] is False
    assert out["points"] == out["expected_points"]
    assert out["series"]["total"] == 3
    assert out["series"]["points"]["v"] == out["expected_values"]
    assert out["series"]["points"]["snapshot"] == out["expected_snapshots"]
    assert out["series"]["points"]["t"] == out["expected_times"]
