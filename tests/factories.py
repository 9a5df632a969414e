"""Hand-written factories for the tests' small cast."""

from __future__ import annotations

from functools import cache
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from mlplatform.accounts import services
from mlplatform.accounts.access import Access
from mlplatform.accounts.models import ApiToken, Membership, Organization, Role, Team, User
from projects.models import Project

PASSWORD = "correct-horse-battery-staple"


@cache
def _hashed(password: str) -> str:
    # Argon2 is slow on purpose; hash the cast's shared password once per test run.
    return make_password(password)


def make_user(email: str, *, name: str = "", password: str | None = PASSWORD) -> User:
    user = User.objects.create_user(email=email, password=None, name=name)
    if password is not None:
        user.password = _hashed(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def make_org(name: str, owner: User) -> Organization:
    return services.create_organization(name=name, owner=owner)


def add_member(org: Organization, user: User, role: str = Role.MEMBER) -> Membership:
    return Membership.objects.create(organization=org, user=user, role=role)


def make_team(org: Organization, name: str, members: list[User] = ()) -> Team:  # type: ignore[assignment]
    team = Team.objects.create(organization=org, name=name, slug=name.lower().replace(" ", "-"))
    team.members.add(*members)
    return team


def make_project(org: Organization, name: str, teams: list[Team] = ()) -> Project:  # type: ignore[assignment]
    project = Project.objects.create(organization=org, name=name)
    project.teams.add(*teams)
    return project


def snapshot_document(**run: Any) -> dict[str, Any]:
    """A small but real snapshot document: the summary and drift presets and a few tests."""
    import numpy as np
    import pandas as pd

    from metrics import DataDriftPreset, DataSummaryPreset, Report, TestColumnMean, TestRowCount

    rng = np.random.default_rng(run.pop("seed", 0))
    frame = pd.DataFrame({"age": rng.normal(40, 10, 200), "plan": rng.choice(["a", "b"], 200)})
    report = Report(
        [
            DataSummaryPreset(),
            DataDriftPreset(),
            TestRowCount(gt=100),
            TestColumnMean(column="age", gt=50),
        ]
    )
    return report.run(frame, frame, **run).dict()


def make_snapshot(project: Project, **run: Any) -> Any:
    import json

    from projects.ingestion import ingest_snapshot

    return ingest_snapshot(project, json.dumps(snapshot_document(**run)).encode()).snapshot


def owner_access(org: Organization) -> Access:
    membership = org.memberships.filter(role=Role.OWNER).select_related("user").first()
    assert membership is not None
    return Access(organization=org, user=membership.user, role=Role.OWNER)


def make_token(
    org: Organization, scope: str, *, project: Project | None = None, **kwargs: Any
) -> tuple[ApiToken, str]:
    """A token made through the service, as its owner would; returns (token, secret)."""
    return services.create_token(
        owner_access(org),
        name=kwargs.pop("name", f"{scope} token"),
        scope=scope,
        project_id=project.pk if project else None,
        **kwargs,
    )
