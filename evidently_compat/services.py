"""Every write of the Evidently-compatible API: its projects through the projects app's services,
its snapshots through the same ingestion as our REST API (validation, idempotency, processing,
alerts and live updates), its dashboard document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from evidently_compat import translation
from evidently_compat.models import EvidentlyDashboard
from mlplatform import request_bodies
from projects.ingestion import Ingested, ingest_snapshot
from projects.models import Project


@dataclass
class Pushed:
    ingested: Ingested
    document: dict[str, Any]


def push_snapshot(project: Project, raw: bytes | bytearray) -> Pushed:
    """Translate an Evidently snapshot (`Snapshot.dump_dict()` as JSON) and ingest it.

    Raises `translation.EvidentlyRejected` for a body that is not an Evidently snapshot, and
    ingestion's `SnapshotRejected` for one whose translation our schema refuses. The same body
    pushed twice is the same snapshot (its id is derived from the body): stored once.
    """
    dump = translation.parse(raw)
    document = translation.translate(dump)
    del dump
    found = ingest_snapshot(project, orjson.dumps(document))
    return Pushed(found, document)


def read_body(request: Any, limit: int) -> bytes | bytearray:
    """The request's body, gunzipped if sent so, never past `limit` bytes."""
    return request_bodies.read_body(request, request.headers.get("Content-Encoding"), limit)


EMPTY_DASHBOARD: dict[str, Any] = {"tabs": [], "panels": []}


def dashboard_of(project: Project) -> dict[str, Any]:
    stored = EvidentlyDashboard.objects.filter(project=project).first()
    return stored.document if stored is not None else dict(EMPTY_DASHBOARD)


def save_dashboard(project: Project, document: dict[str, Any]) -> EvidentlyDashboard:
    stored, _ = EvidentlyDashboard.objects.update_or_create(
        project=project, defaults={"document": document}
    )
    return stored
