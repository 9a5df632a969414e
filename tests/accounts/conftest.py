"""Acme's furniture for the tenancy tests: a team, a project, a token, a pending invitation, an
alert channel, rule, firing alert and silence, and a collector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRule, Channel, Silence, State
from collector.models import Collector
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
    channel: Channel
    rule: AlertRule
    alert: Alert
    silence: Silence
    collector: Collector


@pytest.fixture
def furnished(acme: Organization, bob: User) -> Furnished:
    team = make_team(acme, "Risk", [bob])
    project = make_project(acme, "Credit", teams=[team])
    token, _ = make_token(acme, TokenScope.INGEST, project=project)
    invitation = services.invite(owner_access(acme), email="newcomer@example.com")
    snapshot = make_snapshot(project)
    channel = Channel.objects.create(
        organization=acme, kind="email", name="On call", config={"addresses": ["oncall@acme.test"]}
    )
    rule = AlertRule.objects.create(
        project=project, name="Tests fail", kind="tests_failed", config={"tests": "any"}
    )
    rule.channels.add(channel)
    alert = Alert.objects.create(
        rule=rule, project=project, severity=rule.severity, state=State.FIRING, value=1.0
    )
    silence = Silence.objects.create(project=project, ends_at=timezone.now() + timedelta(hours=1))
    collector = Collector.objects.create(
        project=project,
        name="c",
        config={"presets": ["data_drift"], "quality_presets": ["classification"], "definition": {}},
        every_minutes=60,
    )
    return Furnished(
        acme, team, project, token, invitation, snapshot, channel, rule, alert, silence, collector
    )


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
        "channel_id": str(f.channel.pk),
        "rule_id": str(f.rule.pk),
        "silence_id": str(f.silence.pk),
        "collector_id": str(f.collector.pk),
    }


def api_kwargs(f: Furnished, member: User) -> dict[str, str]:
    """Values for every URL parameter of the organisation API."""
    return {
        "org_id": str(f.org.pk),
        "pk": "",  # filled per route: see api_routes()
        "user_id": str(member.pk),
    }
