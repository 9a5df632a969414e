"""Acme's furniture for the tenancy tests: a team, a project, a token, a pending invitation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mlplatform.accounts import services
from mlplatform.accounts.models import ApiToken, Invitation, Organization, Team, TokenScope, User
from projects.models import Project, Snapshot
from tests.factories import make_project, make_snapshot, make_team, make_token, owner_access


@dataclass
class Furnished:
    org: Organization
    team: Team
    project: Project
    token: ApiToken
    invitation: Invitation
    snapshot: Snapshot


@pytest.fixture
def furnished(acme: Organization, bob: User) -> Furnished:
    team = make_team(acme, "Risk", [bob])
    project = make_project(acme, "Credit", teams=[team])
    token, _ = make_token(acme, TokenScope.INGEST, project=project)
    invitation = services.invite(owner_access(acme), email="newcomer@example.com")
    snapshot = make_snapshot(project)
    return Furnished(acme, team, project, token, invitation, snapshot)


def page_kwargs(f: Furnished, member: User) -> dict[str, str]:
    """Values for every URL parameter the organisation pages use."""
    return {
        "org_slug": f.org.slug,
        "user_id": str(member.pk),
        "invitation_id": str(f.invitation.pk),
        "team_slug": f.team.slug,
        "token_id": str(f.token.pk),
        "project_id": str(f.project.pk),
        "snapshot_id": str(f.snapshot.uuid),
    }


def api_kwargs(f: Furnished, member: User) -> dict[str, str]:
    """Values for every URL parameter of the organisation API."""
    return {
        "org_id": str(f.org.pk),
        "pk": "",  # filled per route: see api_routes()
        "user_id": str(member.pk),
    }
