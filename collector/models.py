"""Collectors and their durable buffer: live inference rows in, scheduled snapshots out.

- A `Collector` belongs to a project: which presets to compute, how to read the columns (the data
  definition), its reference dataset and its trigger (every N minutes, every N rows, either, or a
  cron expression).
- Each accepted request is one `RowBatch`: its rows as a Parquet file, validated and committed
  before the request is answered. A batch is the unit of work: a run claims whole batches (row
  locks, SKIP LOCKED), computes a snapshot from them, and stores the snapshot and marks them
  consumed in one transaction, so a crash at any step leaves them to be computed again, and no row
  is ever counted twice.
- A `Run` is one computation: its batches, its row count, its snapshot; later its labels' quality
  snapshot.
- Labels arrive later as `LabelBatch`es (prediction id, target) and are joined by prediction id.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models import Project, Snapshot


class Collector(models.Model):
    """`config`: {"presets": [names of metrics.client.cli.PRESETS], "definition": {DataDefinition
    fields: target, prediction, prediction_probas, numerical_columns, categorical_columns, ...},
    "drift_share": float | None, "pos_label": ... | None}."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="collectors")
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict)
    # Trigger: any of these that is set (minutes, rows, cron) starts a run when due.
    every_minutes = models.PositiveIntegerField(null=True, blank=True)
    every_rows = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True)
    # Labels are expected within this many hours of a run; its rows are kept until then.
    labels_window_hours = models.PositiveIntegerField(default=168)
    # Consumed rows (with their labels window closed) are deleted after this many hours.
    retention_hours = models.PositiveIntegerField(default=24)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferenceDataset(models.Model):
    """A collector's reference: the uploaded file as Parquet, read once per run, with its columns
    and types summarised when it is uploaded. Replacing it makes a new row; runs keep theirs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collector = models.ForeignKey(Collector, on_delete=models.CASCADE, related_name="references")
    filename = models.CharField(max_length=200, blank=True)
    parquet = models.BinaryField()
    rows = models.PositiveIntegerField()
    # {column: "numerical" | "categorical" | "text" | "datetime"}, in the file's order.
    columns = models.JSONField(default=dict)
    # {column: "numerical" | "datetime" | "text"}: how its values are stored, which is what the
    # intake checks live rows against (a categorical 0/1 column takes numbers).
    storage = models.JSONField(default=dict)
    size_bytes = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)
    current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["collector"], condition=Q(current=True), name="one_current_reference"
            )
        ]

    def __str__(self) -> str:
        return f"reference of {self.collector_id} ({self.rows} rows)"


class RowBatch(models.Model):
    """The rows of one accepted request, as Parquet (columns as validated, plus `prediction_id`
    and `timestamp`)."""

    id = models.BigAutoField(primary_key=True)
    collector = models.ForeignKey(Collector, on_delete=models.CASCADE, related_name="batches")
    rows = models.PositiveIntegerField()
    parquet = models.BinaryField()
    first_timestamp = models.DateTimeField()
    last_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # The request's Idempotency-Key: a retried request is answered with this batch, not stored
    # again.
    key = models.CharField(max_length=100, blank=True)
    run = models.ForeignKey(
        "Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="batches"
    )
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["collector", "id"],
                name="batch_pending",
                condition=Q(consumed_at__isnull=True),
            ),
            models.Index(fields=["consumed_at"], name="batch_consumed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["collector", "key"], condition=~Q(key=""), name="one_batch_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.collector_id} ({self.rows} rows)"


class Run(models.Model):
    """One computation over some batches: the data snapshot, and later the labels' quality
    snapshot for the same window."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collector = models.ForeignKey(Collector, on_delete=models.CASCADE, related_name="runs")
    rows = models.PositiveIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    labels_due_at = models.DateTimeField()
    quality_snapshot = models.ForeignKey(
        Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    labelled_rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.collector_id} ({self.rows} rows)"


class LabelBatch(models.Model):
    """Targets that arrived for prediction ids: `labels` maps prediction id to target."""

    id = models.BigAutoField(primary_key=True)
    collector = models.ForeignKey(Collector, on_delete=models.CASCADE, related_name="labels")
    labels = models.JSONField()
    count = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.count} labels for {self.collector_id}"


def summary(collector: Collector) -> dict[str, Any]:
    """What the collector's pages and API show about its buffer."""
    pending = collector.batches.filter(consumed_at__isnull=True)
    return {
        "pending_rows": sum(pending.values_list("rows", flat=True)),
        "pending_batches": pending.count(),
        "runs": collector.runs.count(),
        "last_run_at": collector.last_run_at,
    }
