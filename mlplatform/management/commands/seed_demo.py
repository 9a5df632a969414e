"""Seed the demo: a verified user, an organisation with a second member, a team and projects.

Safe to run again: it finds what exists and adds what is missing.
"""

from typing import Any

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from mlplatform.accounts.models import Membership, Organization, Role, Team, User
from projects.models import Project

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"


def _user(email: str, name: str, password: str | None) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, name=name)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Create the demo user, organisation, team and projects (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="Where the site is served."
        )

    @transaction.atomic
    def handle(self, *args: Any, url: str, **options: Any) -> None:
        demo = _user(DEMO_EMAIL, "Demo User", DEMO_PASSWORD)
        # A colleague who cannot log in (no usable password), so the members page has a second row.
        colleague = _user("ada@example.com", "Ada Colleague", None)
        org, _ = Organization.objects.get_or_create(slug="acme-ml", defaults={"name": "Acme ML"})
        Membership.objects.get_or_create(organization=org, user=demo, defaults={"role": Role.OWNER})
        Membership.objects.get_or_create(
            organization=org, user=colleague, defaults={"role": Role.MEMBER}
        )
        team, _ = Team.objects.get_or_create(
            organization=org, slug="risk", defaults={"name": "Risk"}
        )
        team.members.add(colleague)
        credit, _ = Project.objects.get_or_create(
            organization=org,
            name="Credit scoring",
            defaults={"description": "Probability of default for retail loan applications."},
        )
        credit.teams.add(team)
        Project.objects.get_or_create(
            organization=org,
            name="Churn prediction",
            defaults={"description": "Monthly churn risk for subscribers."},
        )
        if demo.last_organization_id is None:
            demo.last_organization = org
            demo.save(update_fields=["last_organization"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: open {url} and log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
            )
        )
