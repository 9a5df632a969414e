"""Snapshot pages: a project's snapshots with filters, and one snapshot as a readable report."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from mlplatform.accounts.access import Access, Perm, parse_uuid
from mlplatform.accounts.views import org_page
from projects.forms import SnapshotFilterForm
from projects.models import META_KEY, Project, Snapshot, SnapshotDocument, SnapshotTag
from projects.snapshot_report import build_report
from projects.views import PAGE_SIZE, _project


def metadata_filters(query: QueryDict) -> dict[str, str]:
    """The `meta.<key>=value` parameters of a page's query string; malformed keys are ignored."""
    return {
        name[5:]: value
        for name, value in query.items()
        if name.startswith("meta.") and META_KEY.match(name[5:]) and value != ""
    }


@org_page()
@require_safe
def snapshot_list(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = _project(access, project_id)
    filters = SnapshotFilterForm(request.GET or None)
    snapshots = project.snapshots.order_by("-timestamp", "-pk")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["since"]:
            snapshots = snapshots.filter(timestamp__gte=data["since"])
        if data["until"]:
            snapshots = snapshots.filter(timestamp__lt=data["until"] + timedelta(days=1))
        if data["tag"]:
            # Scoped to the project, so that the (project, tag) index answers it.
            snapshots = snapshots.filter(
                pk__in=SnapshotTag.objects.filter(project=project, tag=data["tag"]).values(
                    "snapshot_id"
                )
            )
        if data["status"]:
            snapshots = snapshots.filter(status=data["status"])
    metadata = metadata_filters(request.GET)
    snapshots = snapshots.matching(project, metadata=metadata)
    raw_page = request.GET.get("page", "1")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    total = snapshots.count()
    rows = list(snapshots.prefetch_related("tag_rows")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "projects/snapshot_list.html",
        {
            "access": access,
            "project": project,
            "snapshots": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "query": query.urlencode(),
            "filters": filters,
            "metadata_filters": [
                (key, value, _without(query, f"meta.{key}")) for key, value in metadata.items()
            ],
            "filtered": any(value for key, value in request.GET.items() if key != "page"),
            "series_count": project.series.count(),
            "can_ingest": access.can(Perm.ISSUE_INGEST_TOKENS),
        },
    )


def _without(query: QueryDict, name: str) -> str:
    """The query string without one parameter: the link that removes that filter."""
    remaining = query.copy()
    remaining.pop(name, None)
    return remaining.urlencode()


@org_page()
@require_safe
def snapshot_detail(
    request: HttpRequest, access: Access, project_id: str, snapshot_id: str
) -> HttpResponse:
    project = _project(access, project_id)
    snapshot_uuid = parse_uuid(snapshot_id)
    snapshot = (
        project.snapshots.filter(uuid=snapshot_uuid).select_related("document").first()
        if snapshot_uuid
        else None
    )
    if snapshot is None:
        raise Http404("No such snapshot.")
    try:
        document = json.loads(snapshot.document.text())
    except SnapshotDocument.DoesNotExist:
        raise Http404("No such snapshot.") from None
    report = build_report(document)
    older, newer = _neighbours(project, snapshot)
    return render(
        request,
        "projects/snapshot_detail.html",
        {
            "access": access,
            "project": project,
            "snapshot": snapshot,
            "report": report,
            "charts": {chart.anchor: chart.data() for chart in report.charts},
            # A key the list cannot filter by is shown without a link.
            "metadata_links": [
                (
                    key,
                    value,
                    urlencode({f"meta.{key}": _query_value(value.raw)})
                    if META_KEY.match(key)
                    else "",
                )
                for key, value in report.metadata
            ],
            "older": older,
            "newer": newer,
        },
    )


def _neighbours(project: Project, snapshot: Snapshot) -> tuple[str | None, str | None]:
    """The ids of the snapshots just before and after this one in time (the list's order)."""
    at, pk = snapshot.timestamp, snapshot.pk
    # The plain bound (lte/gte) lets the (project, timestamp, id) index start the scan at this
    # snapshot; the OR alone would make PostgreSQL walk every newer (or older) row to reach it.
    older = (
        project.snapshots.filter(timestamp__lte=at)
        .filter(Q(timestamp__lt=at) | Q(pk__lt=pk))
        .order_by("-timestamp", "-pk")
        .values_list("uuid", flat=True)
        .first()
    )
    newer = (
        project.snapshots.filter(timestamp__gte=at)
        .filter(Q(timestamp__gt=at) | Q(pk__gt=pk))
        .order_by("timestamp", "pk")
        .values_list("uuid", flat=True)
        .first()
    )
    return (str(older) if older else None, str(newer) if newer else None)


def _query_value(raw: str) -> str:
    """A metadata value as the list's filter takes it: strings bare, numbers and booleans as JSON."""
    value = json.loads(raw)
    return value if isinstance(value, str) else raw
