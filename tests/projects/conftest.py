"""Acme's projects for the API tests: P1 (open), P2 (restricted to a team bob is not in), and
tokens: an ingest token of P1, an org write token and an org read token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from mlplatform.accounts.models import Organization, TokenScope
from projects.models import Project
from tests.factories import make_project, make_team, make_token, snapshot_document


@dataclass
class World:
    org: Organization
    p1: Project
    p2: Project
    ingest: str  # secret of P1's ingest token
    write: str
    read: str


@pytest.fixture
def world(acme, alice) -> World:
    p1 = make_project(acme, "Churn")
    p2 = make_project(acme, "Credit", teams=[make_team(acme, "Risk", [alice])])
    return World(
        org=acme,
        p1=p1,
        p2=p2,
        ingest=make_token(acme, TokenScope.INGEST, project=p1)[1],
        write=make_token(acme, TokenScope.WRITE)[1],
        read=make_token(acme, TokenScope.READ)[1],
    )


def post_snapshot(
    client: Any, project: Project, document: dict[str, Any] | str | bytes, **extra: Any
) -> Any:
    body = document if isinstance(document, (str, bytes)) else json.dumps(document)
    return client.post(
        f"/api/v1/projects/{project.pk}/snapshots",
        body,
        content_type=extra.pop("content_type", "application/json"),
        **extra,
    )


@pytest.fixture
def document() -> dict[str, Any]:
    return snapshot_document(
        name="nightly", tags=["prod", "v3"], metadata={"model": "v3", "rows": 200}
    )
