"""Counting each batch of data once: snapshots of one project that share a `batch_id`.

A batch is sometimes pushed as two snapshots, a report's and a test suite's, and both may carry
the same metric (the suite's tests read the dataset summary the report also holds). Their points
are one measurement, so a series keeps one point per batch: the point of the batch's oldest stored
snapshot (lowest key) that has one in that series. The others are *repeats*, left out of charts,
counters and alert windows. Deleting the kept snapshot makes the next one's point the kept one, as
this is worked out when reading, never stored.

Snapshots without a batch id are each their own batch. The common case (no batch shared by two
snapshots) costs one probe of the (project, batch_id) index.
"""

from __future__ import annotations

import uuid

import numpy as np
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import CombinedExpression

from projects.models import MetricPoint, Project, Snapshot, TestOutcome


def shared_batches(project: Project | uuid.UUID | str) -> dict[int, str]:
    """Snapshot key -> batch id, for the project's snapshots whose batch id another of its
    snapshots shares (empty when none does)."""
    project_id = project.pk if isinstance(project, Project) else project
    batched = Snapshot.objects.filter(project_id=project_id, batch_id__isnull=False)
    shared = (
        batched.order_by()
        .values("batch_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("batch_id")
    )
    return {
        key: str(batch_id)
        for key, batch_id in batched.filter(batch_id__in=shared).values_list("pk", "batch_id")
    }


def first_of_each_batch(keys: np.ndarray, batches: dict[int, str]) -> np.ndarray:
    """Which of a series' points to keep (a boolean mask), given each point's snapshot key: all
    but the repeats, the points of a shared batch after its lowest-keyed snapshot's."""
    keep = np.ones(len(keys), dtype=bool)
    if not batches or len(keys) == 0:
        return keep
    members = np.fromiter(batches, dtype=np.int64, count=len(batches))
    at = np.flatnonzero(np.isin(keys, members))
    if len(at) < 2:
        return keep
    names = {name: i for i, name in enumerate(sorted(set(batches.values())))}
    batch_of = np.array([names[batches[k]] for k in keys[at].tolist()], dtype=np.int64)
    order = np.lexsort((keys[at], batch_of))
    grouped = batch_of[order]
    repeat = np.r_[False, grouped[1:] == grouped[:-1]]
    keep[at[order[repeat]]] = False
    return keep


def repeated_snapshots(series_id: int, batches: dict[int, str]) -> list[int]:
    """The keys of the snapshots whose points in a series are repeats of their batch's."""
    if not batches:
        return []
    keys = np.array(
        MetricPoint.objects.filter(series_id=series_id, snapshot_id__in=list(batches))
        .order_by()
        .values_list("snapshot_id", flat=True),
        dtype=np.int64,
    )
    return keys[~first_of_each_batch(keys, batches)].tolist()


def batch_count() -> CombinedExpression:
    """An aggregate counting batches: each snapshot without a batch id, and each batch id once.
    (COUNT DISTINCT leaves NULLs out, so the two halves do not meet.)"""
    return Count("id", filter=Q(batch_id__isnull=True)) + Count("batch_id", distinct=True)


def count_batches(snapshots: QuerySet) -> int:
    """How many batches a queryset of snapshots holds."""
    return snapshots.order_by().aggregate(n=batch_count())["n"] or 0


def repeated_outcomes(
    batches: dict[int, str], snapshots: QuerySet, test_ids: list[str] | None = None
) -> list[int]:
    """The keys of the test outcomes that repeat their batch's: the same test in a later snapshot
    of the batch (among `snapshots`, and only tests of `test_ids` when given)."""
    if not batches:
        return []
    outcomes = TestOutcome.objects.filter(snapshot_id__in=list(batches)).filter(
        snapshot_id__in=snapshots.values("pk")
    )
    if test_ids is not None:
        outcomes = outcomes.filter(test_id__in=test_ids)
    seen: set[tuple[str, str]] = set()
    repeats = []
    for key, snapshot_key, test_id in outcomes.order_by("snapshot_id", "id").values_list(
        "pk", "snapshot_id", "test_id"
    ):
        once = (batches[snapshot_key], test_id)
        if once in seen:
            repeats.append(key)
        seen.add(once)
    return repeats
