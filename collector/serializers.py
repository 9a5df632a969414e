"""API representations of collectors, their reference datasets and their runs."""

from __future__ import annotations

from typing import Any

from collector import intake
from collector.models import Collector, ReferenceDataset, Run, summary


def collector_json(collector: Collector) -> dict[str, Any]:
    reference = intake.current_reference(collector)
    return {
        "id": str(collector.pk),
        "project": str(collector.project_id),
        "name": collector.name,
        **collector.config,
        "every_minutes": collector.every_minutes,
        "every_rows": collector.every_rows,
        "cron": collector.cron or None,
        "labels_window_hours": collector.labels_window_hours,
        "retention_hours": collector.retention_hours,
        "enabled": collector.enabled,
        "created_at": collector.created_at.isoformat(),
        "reference": None if reference is None else reference_json(reference),
        **{
            k: v.isoformat() if hasattr(v, "isoformat") else v
            for k, v in summary(collector).items()
        },
    }


def reference_json(reference: ReferenceDataset) -> dict[str, Any]:
    return {
        "id": str(reference.pk),
        "filename": reference.filename,
        "rows": reference.rows,
        "columns": reference.columns,
        "size_bytes": reference.size_bytes,
        "uploaded_at": reference.uploaded_at.isoformat(),
    }


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": str(run.pk),
        "rows": run.rows,
        "window_start": run.window_start.isoformat(),
        "window_end": run.window_end.isoformat(),
        "snapshot": str(run.snapshot.uuid) if run.snapshot else None,
        "quality_snapshot": str(run.quality_snapshot.uuid) if run.quality_snapshot else None,
        "labelled_rows": run.labelled_rows,
        "created_at": run.created_at.isoformat(),
    }
