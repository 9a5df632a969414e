"""A project's saved dashboard: reading it (or the default when none is saved), saving it with a
version that refuses lost updates, and saving the default after a project's first snapshot."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from projects.dashboards.document import clean_spec
from projects.dashboards.prebuilt_tabs import default_spec
from projects.models import Dashboard, Project, Snapshot


@dataclass
class DashboardState:
    spec: dict[str, Any]
    version: int  # 0: not saved yet (the generated default is shown)
    updated_at: Any


def dashboard_of(project: Project) -> DashboardState:
    """The project's saved dashboard, or (version 0) the default made from what it has received."""
    saved = Dashboard.objects.filter(project=project).first()
    if saved is not None:
        # Checked again on the way out: options added since it was saved get their defaults.
        try:
            spec = clean_spec(saved.spec)
        except ValidationError:
            spec = saved.spec
        return DashboardState(spec, saved.version, saved.updated_at)
    return DashboardState(default_spec(project), 0, None)


class VersionConflict(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(
            f"The dashboard changed since you read it (now version {current}); reload and "
            "apply your change again."
        )
        self.current = current


def save_dashboard(
    project: Project, spec: Any, *, user: Any = None, expected_version: int | None = None
) -> Dashboard:
    """Store a checked dashboard document. With `expected_version`, refuse (VersionConflict) when
    someone saved since that version was read; 0 means "nobody has saved one yet"."""
    spec = clean_spec(spec)
    with transaction.atomic():
        saved = Dashboard.objects.select_for_update().filter(project=project).first()
        current = saved.version if saved else 0
        if expected_version is not None and expected_version != current:
            raise VersionConflict(current)
        user_id = getattr(user, "pk", None)
        if saved is None:
            try:
                with transaction.atomic():
                    return Dashboard.objects.create(
                        project=project, spec=spec, version=1, updated_by_id=user_id
                    )
            except IntegrityError:  # saved at the same moment by someone else
                raise VersionConflict(1) from None
        saved.spec = spec
        saved.version = current + 1
        saved.updated_at = timezone.now()
        saved.updated_by_id = user_id
        saved.save()
        return saved


def ensure_default_dashboard(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    """A `snapshot_ingested` receiver: after a project's first snapshot, save its default
    dashboard (later snapshots leave the dashboard to its people)."""
    project = snapshot.project
    if Dashboard.objects.filter(project=project).exists():
        return
    spec = default_spec(project)
    if not spec["tabs"]:
        return
    # Someone (another worker, a person) may have saved one first: theirs stands.
    with contextlib.suppress(VersionConflict):
        save_dashboard(project, spec, expected_version=0)
