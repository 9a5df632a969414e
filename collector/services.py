"""Changing collectors and feeding them, by verb: what the collector pages and the collector API call.

The functions take input already checked (`collector.validation.clean_collector`, through
`CollectorForm` or the API) and save it. Work they start (a run, quality snapshots) is announced
with `collector.signals` once the transaction commits; `collector.tasks` queues it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from collector import intake, runs
from collector.models import Collector, LabelBatch, RowBatch
from collector.signals import labels_received, run_wanted
from projects.models import Project


def create_collector(project: Project, data: dict[str, Any]) -> Collector:
    """A new collector of the project from `clean_collector`'s output."""
    return Collector.objects.create(project=project, **data)


def update_collector(collector: Collector, data: dict[str, Any]) -> Collector:
    """Save `clean_collector(data, collector=collector)`'s output to the collector."""
    for field, value in data.items():
        setattr(collector, field, value)
    collector.save()
    return collector


def set_collector_enabled(collector: Collector, enabled: bool) -> Collector:
    """Turn a collector on or off: a disabled one refuses rows and runs nothing."""
    collector.enabled = enabled
    collector.save(update_fields=["enabled"])
    return collector


def delete_collector(collector: Collector) -> None:
    """Delete the collector with its rows, labels, references and runs; the snapshots it computed
    stay in the project."""
    collector.delete()


def send_rows(
    collector: Collector,
    raw: bytes,
    content_type: str,
    *,
    key: str = "",
    content_encoding: str | None = None,
) -> tuple[RowBatch, bool]:
    """Store the rows of a request (`intake.accept_rows`: the batch and whether it is new); with a
    row trigger, a run is wanted once enough rows wait."""
    batch, created = intake.accept_rows(
        collector, raw, content_type, key=key, content_encoding=content_encoding
    )
    if collector.every_rows:
        transaction.on_commit(lambda: _announce_if_due(collector))
    return batch, created


def _announce_if_due(collector: Collector) -> None:
    if runs.is_due(collector):
        run_wanted.send(sender=Collector, collector_id=str(collector.pk), force=False)


def send_labels(
    collector: Collector, raw: bytes, *, content_encoding: str | None = None
) -> LabelBatch:
    """Store targets by prediction id (`intake.accept_labels`); quality snapshots follow for the
    runs whose rows they complete."""
    batch = intake.accept_labels(collector, raw, content_encoding=content_encoding)
    collector_id = str(collector.pk)
    transaction.on_commit(lambda: labels_received.send(sender=Collector, collector_id=collector_id))
    return batch


class RunRefused(Exception):
    """A run asked for by hand that cannot be made; the message says what to do first."""


def request_run(collector: Collector) -> int:
    """Ask for a run of the pending rows now (announced once the transaction commits); the number
    of rows. Raises RunRefused for a disabled collector, one without a reference, or nothing
    pending."""
    if not collector.enabled:
        raise RunRefused(f"{collector.name} is disabled: enable it to run it.")
    if not collector.references.filter(current=True).exists():
        raise RunRefused("Upload a reference dataset first: runs compare against it.")
    pending = runs.pending_rows(collector)
    if not pending:
        raise RunRefused("No rows are waiting: send some first, then run.")
    collector_id = str(collector.pk)
    transaction.on_commit(
        lambda: run_wanted.send(sender=Collector, collector_id=collector_id, force=True)
    )
    return pending
