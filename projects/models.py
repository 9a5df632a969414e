"""Projects and what is pushed to them: snapshots, their metric points and test results.

A snapshot document is stored once, compressed, and read whole only when someone opens it.
Dashboards read `MetricPoint`s: one row per numeric value of a snapshot, keyed by its
`MetricSeries` (metric id + field path), indexed by series and time, so "this metric over this time
range" reads only that series' rows however many snapshots the project holds.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
import zlib
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from metrics.core.snapshot import BATCH_ID_MAX_LENGTH
from mlplatform.accounts.access import Access
from mlplatform.accounts.models import Organization, Role, Team, TokenScope


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_access(self, access: Access) -> ProjectQuerySet:
        """The projects of the access's organisation that its holder may see.

        Owners, admins and org tokens see every project; an ingest token sees its own project; other
        members see the projects restricted to no team and those of the teams they belong to.
        """
        projects = self.filter(organization=access.organization)
        if access.token is not None:
            if access.token.scope == TokenScope.INGEST:
                return projects.filter(pk=access.token.project_id)
            return projects
        assert access.role is not None
        assert access.user is not None
        if access.role.at_least(Role.ADMIN):
            return projects
        visible = Q(teams__isnull=True) | Q(teams__members=access.user)
        return projects.filter(pk__in=projects.filter(visible).values("pk"))


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    # Empty: every member of the organisation sees the project. Otherwise only these teams' members
    # (and the organisation's owners and admins) do.
    teams = models.ManyToManyField(Team, blank=True, related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class SnapshotStatus(models.TextChoices):
    """A snapshot's overall status: its worst test outcome."""

    FAIL = "FAIL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    SUCCESS = "SUCCESS"
    NO_TESTS = "NO_TESTS", "No tests"


# A metadata key a filter may name: no "__", which the ORM would read as a lookup path.
META_KEY = re.compile(r"^(?!.*__)[A-Za-z0-9_.-]{1,100}\Z")


class SnapshotQuerySet(models.QuerySet["Snapshot"]):
    def matching(
        self, project: Project, *, tags: Iterable[str] = (), metadata: dict[str, str] | None = None
    ) -> SnapshotQuerySet:
        """Snapshots with every given tag and metadata equal to each given value (a value given as
        text also matches the number or boolean it spells: "3" matches 3, "true" matches true).
        Keys must match META_KEY (callers check them, to name the bad parameter)."""
        snapshots = self
        for tag in tags:
            snapshots = snapshots.filter(
                pk__in=SnapshotTag.objects.filter(project=project, tag=tag).values("snapshot_id")
            )
        for key, value in (metadata or {}).items():
            if not META_KEY.match(key):
                raise ValueError(f"Not a metadata key: {key!r}")
            match = Q(**{f"metadata__{key}": value})
            with contextlib.suppress(ValueError):
                spelled = json.loads(value)
                # "\u0000" spells a NUL, which no stored document holds and jsonb refuses.
                if "\\u0000" not in json.dumps(spelled):
                    match |= Q(**{f"metadata__{key}": spelled})
            snapshots = snapshots.filter(match)
        return snapshots


class Snapshot(models.Model):
    # Internal key: points reference it, and a bigint is half the width of a UUID.
    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="snapshots")
    uuid = models.UUIDField("snapshot id")  # the client's id, public
    timestamp = models.DateTimeField()
    name = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The batch of data the snapshot is about (its metadata's batch_id), or None. Snapshots of one
    # batch in a project (a report's and a test suite's) are counted once by sums and counts (see
    # projects/batches.py). NULL, not "", for none: COUNT(DISTINCT batch_id) and the partial index
    # leave NULLs out, which is what counting each unbatched snapshot on its own relies on.
    batch_id = models.CharField(  # noqa: DJ001
        max_length=BATCH_ID_MAX_LENGTH, null=True, blank=True
    )
    status = models.CharField(max_length=16, choices=SnapshotStatus.choices)
    tests_success = models.PositiveIntegerField(default=0)
    tests_fail = models.PositiveIntegerField(default=0)
    tests_warning = models.PositiveIntegerField(default=0)
    tests_error = models.PositiveIntegerField(default=0)
    tests_skipped = models.PositiveIntegerField(default=0)
    metric_count = models.PositiveIntegerField(default=0)
    point_count = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveIntegerField(default=0)
    # SHA-256 of the canonical document: a retry with the same id and body is recognised by it.
    body_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the post-commit work (alerts, live updates) is done; the sweeper finishes the rest.
    processed_at = models.DateTimeField(null=True, blank=True)
    # The lease of the worker announcing it (projects/processing.py): its token, and when it was
    # taken or last renewed by the worker's heartbeat.
    processing_claimed_by = models.UUIDField(null=True, blank=True)
    processing_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "uuid"], name="snapshot_id_unique_in_project"
            )
        ]
        indexes = [
            models.Index(fields=["project", "-timestamp", "-id"], name="snapshot_project_time"),
            models.Index(
                fields=["created_at"],
                name="snapshot_unprocessed",
                condition=Q(processed_at__isnull=True),
            ),
            models.Index(
                fields=["project", "batch_id"],
                name="snapshot_project_batch",
                condition=Q(batch_id__isnull=False),
            ),
        ]
        ordering = ["-timestamp", "-id"]

    def __str__(self) -> str:
        return f"{self.uuid} at {self.timestamp:%Y-%m-%d %H:%M}"

    @property
    def test_counts(self) -> dict[str, int]:
        return {
            "SUCCESS": self.tests_success,
            "FAIL": self.tests_fail,
            "WARNING": self.tests_warning,
            "ERROR": self.tests_error,
            "SKIPPED": self.tests_skipped,
        }


class SnapshotDocument(models.Model):
    """The snapshot as pushed, compressed; separate so lists never load it."""

    snapshot = models.OneToOneField(
        Snapshot, on_delete=models.CASCADE, primary_key=True, related_name="document"
    )
    body = models.BinaryField()

    def __str__(self) -> str:
        return f"document of {self.snapshot_id}"

    @staticmethod
    def pack(text: str | bytes) -> bytes:
        return zlib.compress(text.encode() if isinstance(text, str) else text, level=1)

    @staticmethod
    def packer() -> Any:
        """A compressor for a text given in pieces, in the format of `pack` (read by `text`)."""
        return zlib.compressobj(level=1)

    def text(self) -> str:
        return zlib.decompress(bytes(self.body)).decode()


class SnapshotTag(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="tag_rows")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    tag = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["project", "tag"], name="tag_project_tag")]

    def __str__(self) -> str:
        return self.tag


class MetricSeries(models.Model):
    """One plottable line: a metric (its id, type and parameters) and one of its value fields."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="series")
    metric_id = models.CharField(max_length=2000)
    metric_type = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    field = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "metric_id", "field"], name="series_unique_in_project"
            )
        ]
        ordering = ["metric_id", "field"]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.field}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "metric": self.metric_id,
            "type": self.metric_type,
            "params": self.params,
            "field": self.field,
        }


class MetricPoint(models.Model):
    """One numeric value of one snapshot (booleans as 0/1).

    The table grows by hundreds of rows per snapshot, so it carries no foreign-key constraints
    (their per-row triggers would double the cost of an insert) and no index of its own on the
    series (the (series, timestamp) index serves): points are only ever written by ingestion, in
    the transaction that creates their snapshot and series, and deleted with them by the ORM.

    The (series, timestamp) index carries the value and the snapshot too, so reading a series is
    an index-only scan that never touches the table (see projects/series.py). That needs the
    table's pages marked all-visible by vacuum, so autovacuum visits the table after every 1% of
    new rows instead of PostgreSQL's default 20% (migration 0003).
    """

    id = models.BigAutoField(primary_key=True)
    series = models.ForeignKey(
        MetricSeries,
        on_delete=models.CASCADE,
        related_name="points",
        db_constraint=False,
        db_index=False,
    )
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="points", db_constraint=False
    )
    timestamp = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        indexes = [
            models.Index(
                fields=["series", "timestamp"],
                include=["value", "snapshot"],
                name="point_series_time_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.series_id} at {self.timestamp}: {self.value}"


class TestOutcome(models.Model):
    """One test result of one snapshot (for test panels and "tests failed" alerts)."""

    __test__ = False  # not a pytest test class

    id = models.BigAutoField(primary_key=True)
    # No constraints, as for points: written only by ingestion, with its snapshot.
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="tests", db_constraint=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    timestamp = models.DateTimeField()
    test_id = models.CharField(max_length=2000)
    test_type = models.CharField(max_length=100)
    name = models.CharField(max_length=500)
    status = models.CharField(max_length=16)
    critical = models.BooleanField(default=True)
    description = models.TextField(max_length=2000)
    value = models.FloatField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "timestamp"], name="outcome_project_time"),
            models.Index(fields=["project", "test_id", "timestamp"], name="outcome_project_test"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"


class Dashboard(models.Model):
    """A project's dashboard: tabs of panels, kept as one validated document (projects/dashboards/
    defines and checks it), so that the browser's editor and "dashboard as code" over the API
    read and write the same thing. `version` rises with every save: a writer that read an older
    version gets a conflict instead of overwriting someone else's change."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="dashboard"
    )
    spec = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"dashboard of {self.project_id}"
