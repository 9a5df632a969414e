"""Seed the demo: a verified user, an organisation with a second member, a team and projects.

Safe to run again: it finds what exists and adds what is missing. The credit scoring project gets
a month of daily snapshots (`mlplatform.demo_data`) the first time.
"""

from datetime import timedelta
from typing import Any

import numpy as np
import orjson
import pandas as pd
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from alerts.models import AlertRule
from alerts.services import create_channel, create_rule
from alerts.validation import clean_channel, clean_rule
from collector.intake import accept_reference, accept_rows
from collector.models import Collector
from collector.runs import compute
from mlplatform.accounts.models import Membership, Organization, Role, Team, User
from mlplatform.demo_data import demo_snapshots
from projects.dashboards.prebuilt_tabs import default_spec
from projects.dashboards.store import save_dashboard
from projects.ingestion import ingest_snapshot
from projects.models import Dashboard, Project

DRIFT = "DatasetDrift(drift_share=0.5)"
QUALITY = "ClassificationQuality()"
DATASET = "DatasetSummary(almost_constant=0.95,almost_duplicated=0.95)"
DEMO_EMAIL = "demo@example.com"


def demo_dashboard(project: Project) -> dict[str, Any]:
    """An overview tab with one panel of every type, before the pre-built tabs of the project."""

    def series(metric: str, field: str, label: str, color: str) -> dict[str, str]:
        return {"metric": metric, "field": field, "label": label, "color": color}

    overview = {
        "id": "overview",
        "title": "Overview",
        "panels": [
            {
                "type": "counter",
                "title": "ROC AUC (latest)",
                "size": "third",
                "aggregate": "last",
                "series": [series(QUALITY, "current.roc_auc", "ROC AUC", "#2563eb")],
                "thresholds": [{"value": 0.8, "label": "target"}],
            },
            {
                "type": "counter",
                "title": "Rows scored this month",
                "size": "third",
                "aggregate": "sum",
                "format": "integer",
                "series": [series(DATASET, "current.row_count", "rows", "#059669")],
            },
            {
                "type": "test_counts",
                "title": "Test results",
                "size": "third",
            },
            {
                "type": "line",
                "title": "Model quality",
                "size": "half",
                "description": "Accuracy and ROC AUC of each day's scored and labelled loans.",
                "series": [
                    series(QUALITY, "current.accuracy", "accuracy", "#2563eb"),
                    series(QUALITY, "current.roc_auc", "ROC AUC", "#d97706"),
                    series(QUALITY, "current.f1", "F1", "#059669"),
                ],
                "thresholds": [{"value": 0.78, "label": "accuracy floor", "color": "#dc2626"}],
            },
            {
                "type": "line",
                "title": "Share of drifted columns",
                "size": "half",
                "format": "percent",
                "series": [series(DRIFT, "drifted_share", "drifted share", "#7c3aed")],
                "thresholds": [{"value": 0.5, "label": "dataset drift", "color": "#dc2626"}],
                "bands": [{"from": 0, "to": 0.3, "color": "#059669", "label": "calm"}],
            },
            {
                "type": "bar",
                "title": "Drift scores (grouped)",
                "size": "half",
                "series": [
                    series('ColumnDrift(column="income")', "score", "income", "#2563eb"),
                    series('ColumnDrift(column="loan_amount")', "score", "loan amount", "#d97706"),
                    series('ColumnDrift(column="age")', "score", "age", "#059669"),
                ],
                "thresholds": [{"value": 0.1, "label": "threshold"}],
            },
            {
                "type": "bar",
                "title": "Missing values by column (stacked)",
                "size": "half",
                "stacked": True,
                "format": "integer",
                "series": [
                    series(
                        'ColumnSummary(column="income")', "current.missing", "income", "#0891b2"
                    ),
                    series('ColumnSummary(column="age")', "current.missing", "age", "#db2777"),
                    series(
                        'ColumnSummary(column="region")', "current.missing", "region", "#65a30d"
                    ),
                ],
            },
            {
                "type": "scatter",
                "title": "Mean income and loan amount",
                "size": "half",
                "series": [
                    series('ColumnSummary(column="income")', "current.mean", "income", "#2563eb"),
                    series(
                        'ColumnSummary(column="loan_amount")', "current.mean", "loan", "#d97706"
                    ),
                ],
            },
            {
                "type": "distribution",
                "title": "Income distribution over time",
                "size": "half",
                "metric": 'ColumnDistribution(bins=20,column="income",top=20)',
            },
            {
                "type": "test_status",
                "title": "Tests per day",
                "size": "half",
                "period": "day",
            },
            {
                "type": "text",
                "title": "About this demo",
                "size": "half",
                "text": (
                    "A month of daily snapshots of a credit-scoring model. Income and loan "
                    "amounts drift from the third week, model quality dips, and a retrained "
                    "model (3.2) recovers it. Click any point to open its snapshot."
                ),
            },
        ],
    }
    return {"tabs": [overview, *default_spec(project)["tabs"]]}


DEMO_PASSWORD = "demo-password"


def login_line(url: str) -> str:
    """How to log in to the demo served at `url` (the last line `serve_demo` prints)."""
    return f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD} at {url}"


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
    # serve_demo prints the login itself, last, once the site is up.
    stealth_options = ("announce",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url", default=None, help="Where the site is served (default: SITE_URL)."
        )
        parser.add_argument(
            "--no-snapshots",
            action="store_false",
            dest="snapshots",
            help="Skip the month of demo snapshots (they take a few seconds).",
        )

    def handle(
        self,
        *args: Any,
        url: str | None,
        snapshots: bool = True,
        announce: bool = True,
        **options: Any,
    ) -> None:
        with transaction.atomic():
            self._seed(snapshots)
        # After the commit, so the alert emails it sent (on commit) are printed above it.
        if announce:
            self.stdout.write(
                self.style.SUCCESS(f"Demo ready. {login_line(url or settings.SITE_URL)}")
            )

    def _seed(self, snapshots: bool) -> None:
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
        churn, _ = Project.objects.get_or_create(
            organization=org,
            name="Churn prediction",
            defaults={"description": "Monthly churn risk for subscribers."},
        )
        if snapshots and not Collector.objects.filter(project=churn).exists():
            self._seed_collector(churn)
        if snapshots:
            self._seed_snapshots(credit)
        if snapshots and not Dashboard.objects.filter(project=credit).exists():
            save_dashboard(credit, demo_dashboard(credit))
        if snapshots and not AlertRule.objects.filter(project=credit).exists():
            self._seed_alerts(org, credit)
        if demo.last_organization_id is None:
            demo.last_organization = org
            demo.save(update_fields=["last_organization"])

    def _seed_collector(self, project: Project) -> None:
        """A collector for the churn model with its reference, three hours of live rows and one
        run over them, so the collector's pages (and the project) have something to show."""
        rng = np.random.default_rng(11)

        def rows(count: int, shift: float = 0.0) -> pd.DataFrame:
            tenure = rng.gamma(2.0 + shift, 12.0, count).round()
            charges = rng.normal(60 + 10 * shift, 15, count).round(2)
            plan = rng.choice(["monthly", "yearly", "two-year"], count, p=[0.6, 0.3, 0.1])
            risk = 1 / (1 + np.exp(0.05 * tenure - 0.02 * charges))
            return pd.DataFrame(
                {
                    "tenure_months": tenure,
                    "monthly_charges": charges,
                    "plan": plan,
                    "prediction": (risk > 0.5).astype(int),
                }
            )

        collector = Collector.objects.create(
            project=project,
            name="Live churn scoring",
            config={
                "presets": ["data_drift", "data_summary"],
                "quality_presets": ["classification"],
                "definition": {
                    "target": "churned",
                    "prediction": "prediction",
                    "categorical_columns": ["plan", "prediction"],
                },
            },
            every_minutes=60,
        )
        accept_reference(
            collector, rows(3000).to_csv(index=False).encode(), "text/csv", "training.csv"
        )
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for hour in range(3):
            batch = rows(500, shift=0.3 * hour)
            batch.insert(0, "prediction_id", [f"c-{hour}-{i}" for i in range(500)])
            batch["timestamp"] = [
                (now - timedelta(hours=3 - hour, seconds=-7 * i)).isoformat() for i in range(500)
            ]
            accept_rows(collector, batch.to_json(orient="records").encode(), "application/json")
        compute(collector.pk, force=True)

    def _seed_alerts(self, org: Organization, project: Project) -> None:
        """An email channel to the owners and four rules; income drift fires in the demo's data
        (its notice is printed in the terminal, where the demo's emails go)."""
        channel = create_channel(
            org,
            clean_channel(
                org, {"kind": "email", "name": "Owners by email", "config": {"roles": ["owner"]}}
            ),
        )
        rules: list[dict[str, Any]] = [
            {
                "name": "ROC AUC below 0.8",
                "kind": "metric",
                "severity": "critical",
                "pending_count": 2,
                "config": {
                    "metric": QUALITY,
                    "field": "current.roc_auc",
                    "condition": "lt",
                    "threshold": 0.8,
                },
            },
            {
                "name": "Income drifts",
                "kind": "metric",
                "severity": "warning",
                "repeat_minutes": 1440,
                "config": {
                    "metric": 'ColumnDrift(column="income")',
                    "field": "score",
                    "condition": "gte",
                    "threshold": 0.1,
                },
            },
            {
                "name": "Critical tests fail",
                "kind": "tests_failed",
                "severity": "critical",
                "config": {"tests": "critical"},
            },
            {
                "name": "No snapshot for two days",
                "kind": "no_data",
                "severity": "warning",
                "config": {"minutes": 2880},
            },
        ]
        for rule in rules:
            create_rule(project, clean_rule(project, {**rule, "channels": [str(channel.pk)]}), None)

    def _seed_snapshots(self, project: Project) -> None:
        """A month of daily snapshots, once: a project that has any is left alone."""
        if project.snapshots.exists():
            return
        days = 30
        # One line per snapshot on a terminal, overwritten in place; plain lines in a log.
        ending = "\r" if self.stdout.isatty() else "\n"
        for count, document in enumerate(demo_snapshots(days=days), start=1):
            ingest_snapshot(project, orjson.dumps(document))
            self.stdout.write(f"Seeding demo snapshots: {count}/{days}", ending=ending)
        if ending == "\r":
            self.stdout.write("")
