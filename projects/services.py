"""Changing projects, by verb: what the project pages and the project API call.

The functions take input already checked (by `ProjectForm`, `ProjectWriteSerializer`, or the
caller's lookup of teams in the project's organisation) and save it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from mlplatform.accounts.models import Organization, Team
from projects.models import MetricPoint, Project


def create_project(
    organization: Organization,
    *,
    name: str,
    description: str = "",
    teams: Iterable[Team] = (),
) -> Project:
    """A new project of the organisation; with `teams`, seen only by their members (and the
    organisation's owners and admins)."""
    with transaction.atomic():
        project = Project.objects.create(
            organization=organization, name=name.strip(), description=description
        )
        restrict_project(project, teams)
    return project


def update_project(
    project: Project, *, name: str | None = None, description: str | None = None
) -> Project:
    """Rename or describe the project; a field left None keeps its value."""
    fields = []
    if name is not None:
        project.name = name.strip()
        fields.append("name")
    if description is not None:
        project.description = description
        fields.append("description")
    if fields:
        project.save(update_fields=fields)
    return project


def restrict_project(project: Project, teams: Iterable[Team]) -> Project:
    """Who sees the project: the members of `teams`, or, with none, everyone in the organisation."""
    project.teams.set(list(teams))
    return project


def archive_project(project: Project, *, keep_first_time: bool = True) -> Project:
    """Archive the project: it refuses snapshots until unarchived. Archiving it again keeps the
    time it was first archived, or, with `keep_first_time=False` (the settings page's form),
    restamps it now."""
    if project.archived_at is None or not keep_first_time:
        project.archived_at = timezone.now()
        project.save(update_fields=["archived_at"])
    return project


def unarchive_project(project: Project) -> Project:
    """Take the project out of the archive: it accepts snapshots again."""
    if project.archived_at is not None:
        project.archived_at = None
        project.save(update_fields=["archived_at"])
    return project


def delete_project(project: Project) -> None:
    """Delete a project with everything in it. Its points go first, in one statement: the ORM's
    cascade would otherwise collect them snapshot by snapshot."""
    MetricPoint.objects.filter(series__project=project).delete()
    project.delete()
