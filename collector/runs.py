"""Computing snapshots from the buffer: which collectors are due, one run at a time per collector,
the data snapshot stored through the ingestion service in the same transaction that marks its
batches consumed, the quality snapshot once labels arrive, and retention.

A run holds its collector's row lock (taken with SKIP LOCKED: a second worker simply moves on)
from reading the batches to the commit. If the worker dies at any step, the transaction rolls
back: no snapshot, no batch consumed, and the next run takes the same rows again. A snapshot's id
is derived from its batches, so a run repeated after a crash between commit and acknowledgement
would be answered as the same snapshot, never a second one.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from collector.intake import (
    ID_COLUMN,
    TIME_COLUMN,
    current_reference,
    read_parquet,
    reference_frame,
)
from collector.models import Collector, LabelBatch, RowBatch, Run
from collector.signals import run_started, run_wanted
from metrics.core.definition import DataDefinition
from metrics.core.report import Report
from metrics.presets import PRESETS, PresetOptions
from projects.ingestion import ingest_snapshot

logger = logging.getLogger(__name__)

# The collector presets that stream (their metrics all run on merged partials).
STREAMED_PRESETS = {"data_summary", "data_drift"}
QUALITY_PRESETS = (
    "classification",
    "regression",
    "binary_classification_tests",
    "regression_tests",
)


def parse_cron(expression: str) -> crontab:
    """A five-field cron expression (minute hour day-of-month month day-of-week) as Celery's
    crontab; ValueError when malformed."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("A cron expression has five fields: minute hour day month weekday.")
    return crontab.from_string(" ".join(fields))


def pending_rows(collector: Collector) -> int:
    return collector.batches.filter(consumed_at__isnull=True).aggregate(n=Sum("rows"))["n"] or 0


def is_due(
    collector: Collector, now: datetime | None = None, *, pending: int | None = None
) -> bool:
    """Whether a trigger of the collector has fired; `pending` (rows waiting) when the caller
    counted them already."""
    now = now or timezone.now()
    pending = pending_rows(collector) if pending is None else pending
    if not pending:
        return False
    if collector.every_rows and pending >= collector.every_rows:
        return True
    since = collector.last_run_at or collector.created_at
    if collector.every_minutes and now - since >= timedelta(minutes=collector.every_minutes):
        return True
    if collector.cron:
        try:
            schedule = parse_cron(collector.cron)
        except ValueError:
            return False
        return schedule.remaining_estimate(since).total_seconds() <= 0
    return False


def _report(collector: Collector, names: list[str], columns: pd.Index) -> Report:
    """The collector's presets over frames with these columns. The live rows usually lack the
    target (it arrives later as labels): definition roles naming absent columns are left out."""
    config = collector.config
    options = PresetOptions(
        drift_share=config.get("drift_share"), pos_label=config.get("pos_label")
    )
    present = set(map(str, columns))
    definition: dict[str, Any] = {}
    for key, value in (config.get("definition") or {}).items():
        if isinstance(value, list):
            value = [v for v in value if v in present]
        elif isinstance(value, str) and value not in present:
            continue
        definition[key] = value
    return Report(
        [PRESETS[name][1](options) for name in names],
        definition=DataDefinition(**definition),
        progress=False,
    )


def compute(collector_id: Any, *, force: bool = False) -> Run | None:
    """One run of the collector if it is due (or `force`d) and no other worker is on it: the
    pending batches (whole batches, oldest first; with a row trigger, up to that many rows)."""
    now = timezone.now()
    with transaction.atomic():
        collector = (
            # NO KEY: batches and labels keep arriving while a run holds the row (their foreign
            # keys take a KEY SHARE lock, which a plain FOR UPDATE would make them wait for).
            Collector.objects.select_for_update(skip_locked=True, no_key=True)
            .select_related("project")
            .filter(pk=collector_id, enabled=True)
            .first()
        )
        if collector is None or not (force or is_due(collector, now)):
            return None
        reference = current_reference(collector)
        if reference is None:
            return None
        chosen: list[RowBatch] = []
        total = 0
        for batch in collector.batches.filter(consumed_at__isnull=True).order_by("id").iterator():
            if collector.every_rows and total >= collector.every_rows:
                break
            chosen.append(batch)
            total += batch.rows
        if not chosen:
            return None
        logger.info(
            "Collector %s: computing a snapshot of %d rows (batches %d to %d)",
            collector.pk,
            total,
            chosen[0].pk,
            chosen[-1].pk,
        )
        run_id = uuid.uuid5(collector.pk, f"run:{chosen[0].pk}:{chosen[-1].pk}")
        run_started.send(sender=Collector, collector=collector, run_id=run_id, rows=total)
        names = list(collector.config.get("presets") or ["data_drift"])
        run_options: dict[str, Any] = {
            "name": collector.name,
            "tags": ["collector"],
            "metadata": {"collector": str(collector.pk), "rows": total, "run": str(run_id)},
        }
        if total > settings.COLLECTOR_STREAM_ROWS and set(names) <= STREAMED_PRESETS:
            result, window_start, window_end = _streamed_run(
                collector, names, chosen, reference, run_options
            )
        else:
            current = pd.concat([read_parquet(b.parquet) for b in chosen], ignore_index=True)
            window_start, window_end = current[TIME_COLUMN].min(), current[TIME_COLUMN].max()
            features = current.drop(columns=[ID_COLUMN, TIME_COLUMN])
            result = _report(collector, names, features.columns).run(
                features,
                reference_frame(reference),
                timestamp=window_end.to_pydatetime(),
                **run_options,
            )
        document = result.dict()
        document["id"] = str(uuid.uuid5(run_id, "snapshot"))
        stored = ingest_snapshot(collector.project, orjson.dumps(document))
        run = Run.objects.create(
            id=run_id,
            collector=collector,
            rows=total,
            window_start=window_start.to_pydatetime(),
            window_end=window_end.to_pydatetime(),
            snapshot=stored.snapshot,
            labels_due_at=now + timedelta(hours=collector.labels_window_hours),
        )
        RowBatch.objects.filter(pk__in=[b.pk for b in chosen]).update(run=run, consumed_at=now)
        Collector.objects.filter(pk=collector.pk).update(last_run_at=now)
    return run


def _streamed_run(
    collector: Collector,
    names: list[str],
    chosen: list[RowBatch],
    reference: Any,
    run_options: dict[str, Any],
) -> tuple[Any, pd.Timestamp, pd.Timestamp]:
    """The run over many rows: each batch (and the reference) becomes a Parquet file in a
    temporary folder, one batch in memory at a time, and the report streams them."""
    with tempfile.TemporaryDirectory(prefix="collector-run-") as folder:
        paths, starts, ends = [], [], []
        columns: pd.Index | None = None
        for batch in chosen:
            rows = read_parquet(batch.parquet)
            starts.append(rows[TIME_COLUMN].min())
            ends.append(rows[TIME_COLUMN].max())
            features = rows.drop(columns=[ID_COLUMN, TIME_COLUMN])
            columns = features.columns if columns is None else columns
            path = Path(folder) / f"batch-{batch.pk:012d}.parquet"
            features.to_parquet(path, index=False)
            paths.append(path)
            del rows, features
        reference_path = Path(folder) / "reference.parquet"
        reference_frame(reference).to_parquet(reference_path, index=False)
        assert columns is not None  # chosen is never empty
        window_end = max(ends)
        result = _report(collector, names, columns).run(
            paths, reference_path, timestamp=window_end.to_pydatetime(), **run_options
        )
    return result, min(starts), window_end


def run_due() -> int:
    """Every 30 seconds (beat): a run wanted for each due collector (each queued as its own task);
    how many."""
    queued = 0
    waiting = Collector.objects.filter(enabled=True).annotate(
        pending=Sum("batches__rows", filter=Q(batches__consumed_at__isnull=True))
    )
    for collector in waiting:  # one query for all, whatever their number
        if is_due(collector, pending=collector.pending or 0):
            run_wanted.send(sender=Collector, collector_id=str(collector.pk), force=False)
            queued += 1
    return queued


# ---- labels -------------------------------------------------------------------------------------


def _labels(collector: Collector) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for labels in collector.labels.order_by("id").values_list("labels", flat=True):
        merged.update(labels)
    return merged


def compute_quality(collector_id: Any) -> list[Run]:
    """Quality snapshots for the runs whose rows are all labelled, or whose labels window has
    closed with some labelled: the rows joined with their targets by prediction id, at the run's
    time."""
    now = timezone.now()
    done: list[Run] = []
    collector = Collector.objects.select_related("project").filter(pk=collector_id).first()
    if collector is None:
        return done
    definition = collector.config.get("definition") or {}
    target = definition.get("target")
    names = [
        n
        for n in collector.config.get("quality_presets") or ["classification"]
        if n in QUALITY_PRESETS
    ]
    if not target or not names:
        return done
    # Only runs whose rows are still here can be judged; runs without any are left alone.
    candidates = list(
        collector.runs.filter(quality_snapshot__isnull=True, batches__isnull=False)
        .distinct()
        .values_list("pk", flat=True)
    )
    labels = _labels(collector) if candidates else {}
    if not labels:
        return done
    reference = current_reference(collector)
    # The reference takes part only when it carries the target too; read once for every run.
    baseline = reference_frame(reference) if reference and target in reference.columns else None
    for run_id in candidates:
        with transaction.atomic():
            run = (
                Run.objects.select_for_update(skip_locked=True)
                .filter(pk=run_id, quality_snapshot__isnull=True)
                .first()
            )
            if run is None:
                continue
            batches = list(run.batches.order_by("id"))
            if not batches:
                continue  # its rows are gone (retention)
            rows = pd.concat([read_parquet(b.parquet) for b in batches], ignore_index=True)
            known = rows[ID_COLUMN].map(lambda i: i in labels if i is not None else False)
            labelled = rows[known.astype(bool)].copy()
            complete = len(labelled) == len(rows)
            if not len(labelled) or not (complete or now >= run.labels_due_at):
                continue
            labelled[target] = labelled[ID_COLUMN].map(labels)
            features = labelled.drop(columns=[ID_COLUMN, TIME_COLUMN])
            if baseline is not None:
                features = features[[c for c in features.columns if c in baseline.columns]]
            result = _report(collector, names, features.columns).run(
                features,
                baseline,
                name=f"{collector.name}: labels",
                tags=["collector", "labels"],
                metadata={
                    "collector": str(collector.pk),
                    "run": str(run.pk),
                    "rows": len(rows),
                    "labelled_rows": len(labelled),
                },
                timestamp=run.window_end,
            )
            document = result.dict()
            document["id"] = str(uuid.uuid5(run.pk, "quality"))
            stored = ingest_snapshot(collector.project, orjson.dumps(document))
            Run.objects.filter(pk=run.pk).update(
                quality_snapshot=stored.snapshot, labelled_rows=len(labelled)
            )
            done.append(run)
    return done


def purge(now: datetime | None = None) -> int:
    """Hourly (beat): consumed rows are deleted once their run's quality snapshot is made, or the
    collector's retention after their labels window closed (leaving `quality_due` the time to make
    it from the labels that came); snapshots keep only aggregates. Labels older than every window
    they could serve go too."""
    now = now or timezone.now()
    deleted = 0
    for collector in Collector.objects.all():
        keep = timedelta(hours=collector.retention_hours)
        gone = RowBatch.objects.filter(collector=collector, consumed_at__lt=now - keep).filter(
            Q(run__quality_snapshot__isnull=False) | Q(run__labels_due_at__lt=now - keep)
        )
        deleted += gone.delete()[0]
        LabelBatch.objects.filter(
            collector=collector,
            received_at__lt=now - keep - timedelta(hours=collector.labels_window_hours),
        ).delete()
    return deleted
