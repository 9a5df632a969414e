"""After a snapshot commits: announce it (`snapshot_ingested`: alerts, live updates) once, in a
worker, under a lease; and the sweeper, which takes the snapshots whose task was never queued
(Redis down) or whose worker died.

A worker holds the snapshot with a short lease (`SNAPSHOT_PROCESSING_LEASE_SECONDS`, 30 s) that
its heartbeat renews while the announcement runs (mlplatform/leases.py). A worker killed mid-task
stops renewing; beat's sweep (every 15 s) takes the snapshot once the lease has lapsed, so it is
processed within 45 s of the worker's death, or of a push whose task could not be queued.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from mlplatform.leases import Lease, LeaseFields
from projects.models import Snapshot
from projects.signals import snapshot_ingested

logger = logging.getLogger(__name__)

LEASE = LeaseFields(token="processing_claimed_by", renewed="processing_claimed_at")


def lease_seconds() -> int:
    return settings.SNAPSHOT_PROCESSING_LEASE_SECONDS


def process_snapshot(snapshot_pk: int) -> bool:
    """Announce a stored snapshot once. False when another worker holds or has done it. Safe to
    run twice."""
    lease = Lease(
        Snapshot.objects.filter(pk=snapshot_pk, processed_at__isnull=True),
        LEASE,
        lease_seconds(),
    )
    if not lease.acquire():
        return False
    try:
        with lease.kept():
            snapshot = Snapshot.objects.select_related("project").get(pk=snapshot_pk)
            snapshot_ingested.send(sender=Snapshot, snapshot=snapshot)
    except BaseException:
        lease.release()  # to the task's retry, or the sweeper, without waiting out the lease
        raise
    if not lease.finish(processed_at=timezone.now()):
        logger.warning(
            "Snapshot %s: the lease lapsed mid-announcement (a stalled worker) and another "
            "worker took it over; it may be announced twice.",
            snapshot_pk,
        )
    return True


def sweep_unprocessed(limit: int = 500) -> int:
    """Process snapshots nobody holds that are older than a lease (their own task had its
    chance): never queued, or whose worker died."""
    seconds = lease_seconds()
    now = timezone.now()
    pending = list(
        Snapshot.objects.filter(
            processed_at__isnull=True, created_at__lt=now - timedelta(seconds=seconds)
        )
        .filter(LEASE.free(seconds, now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(process_snapshot(pk) for pk in pending)
