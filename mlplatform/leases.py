"""Leases: a claim on a row that lapses with the worker holding it.

A worker claims a row with one conditional UPDATE that writes a token of its own and the time.
While it works, a heartbeat thread renews the time every third of the lease; when done, it
finishes the row (its changes are written only while the token is still its own) or releases it.
A worker that dies (killed, its machine gone) stops renewing, and the row is free again within
one lease: there is no long fixed timeout to wait out, and a short lease never takes work from a
live worker however long the work runs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseFields:
    """The two columns of a lease on a model: the holder's token (a nullable UUIDField) and when
    the claim was taken or last renewed (a nullable DateTimeField)."""

    token: str
    renewed: str

    def free(self, seconds: float, now: datetime | None = None) -> Q:
        """Rows nobody holds: never claimed or released, or not renewed for a lease."""
        stale = (now or timezone.now()) - timedelta(seconds=seconds)
        return Q(**{f"{self.token}__isnull": True}) | Q(**{f"{self.renewed}__lt": stale})


class Lease:
    """One worker's claim on the row of `rows` (a queryset of at most one row)."""

    def __init__(self, rows: QuerySet[Any], fields: LeaseFields, seconds: float) -> None:
        self.rows = rows
        self.fields = fields
        self.seconds = seconds
        self.token = uuid.uuid4()

    def acquire(self) -> bool:
        """Claim the row if nobody holds it; of two workers, one gets it."""
        now = timezone.now()
        claimed = self.rows.filter(self.fields.free(self.seconds, now)).update(
            **{self.fields.token: self.token, self.fields.renewed: now}
        )
        return bool(claimed)

    def renew(self) -> bool:
        """Push the lease's end back; False when the row is no longer ours."""
        mine = self.rows.filter(**{self.fields.token: self.token})
        return bool(mine.update(**{self.fields.renewed: timezone.now()}))

    def finish(self, **changes: Any) -> bool:
        """Write `changes` and free the row, if it is still ours."""
        mine = self.rows.filter(**{self.fields.token: self.token})
        done = mine.update(**{self.fields.token: None, self.fields.renewed: None, **changes})
        return bool(done)

    def release(self) -> None:
        """Free the row at once (the work failed): the next try need not wait out the lease."""
        self.finish()

    @contextmanager
    def kept(self) -> Iterator[Lease]:
        """Renew the lease from a thread every third of it while the block runs."""
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(stop,), name=f"lease-{self.token}", daemon=True
        )
        heartbeat.start()
        try:
            yield self
        finally:
            stop.set()
            heartbeat.join()

    def _heartbeat(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(self.seconds / 3):
                try:
                    if not self.renew():
                        logger.warning("Lease %s lapsed and was taken over.", self.token)
                        return
                except Exception:  # the database, for a moment: the next beat tries again
                    logger.exception("Lease %s not renewed.", self.token)
        finally:
            connections.close_all()  # this thread's own connections, if it opened any
