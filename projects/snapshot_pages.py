"""Snapshot pages: a project's snapshots with filters, and one snapshot as a readable report."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from mlplatform import querystring
from mlplatform.accounts.access import Access, Perm, get_or_404
from mlplatform.accounts.pages import get_project, org_page
from projects.forms import SnapshotFilterForm
from projects.models import META_KEY, Project, Snapshot, SnapshotDocument, SnapshotTag
from projects.snapshot_report import build_report
from projects.views import PAGE_SIZE


@org_page()
@require_safe
def snapshot_list(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    filters = SnapshotFilterForm(request.GET or None)
    snapshots = project.snapshots.order_by("-timestamp", "-pk")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["since"]:
            snapshots = snapshots.filter(timestamp__gte=data["since"])
        if data["until"]:
            snapshots = snapshots.filter(timestamp__lt=querystring.day_after(data["until"]))
        if data["tag"]:
            # Scoped to the project, so that the (project, tag) index answers it.
            snapshots = snapshots.filter(
                pk__in=SnapshotTag.objects.filter(project=project, tag=data["tag"]).values(
                    "snapshot_id"
                )
            )
        if data["status"]:
            snapshots = snapshots.filter(status=data["status"])
    metadata = querystring.metadata(request.GET, key=META_KEY, strict=False)
    snapshots = snapshots.matching(project, metadata=metadata)
    total = snapshots.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = querystring.page_number(request.GET, last=pages)
    rows = list(snapshots.prefetch_related("tag_rows")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    return render(
        request,
        "projects/snapshot_list.html",
        {
            "access": access,
            "project": project,
            "snapshots": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "query": querystring.without(request.GET, "page"),
            "filters": filters,
            "metadata_filters": [
                (key, value, querystring.without(request.GET, "page", f"meta.{key}"))
                for key, value in metadata.items()
            ],
            "filtered": any(value for key, value in request.GET.items() if key != "page"),
            "series_count": project.series.count(),
            "can_ingest": access.can(Perm.ISSUE_INGEST_TOKENS),
        },
    )


@org_page()
@require_safe
def snapshot_detail(
    request: HttpRequest, access: Access, project_id: str, snapshot_id: str
) -> HttpResponse:
    project = get_project(access, project_id)
    snapshot = get_or_404(
        project.snapshots.select_related("document"), snapshot_id, "snapshot", field="uuid"
    )
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
    return _neighbour(project, snapshot, older=True), _neighbour(project, snapshot, older=False)


def _neighbour(project: Project, snapshot: Snapshot, *, older: bool) -> str | None:
    at, pk = snapshot.timestamp, snapshot.pk
    before, strictly, order = ("lte", "lt", "-") if older else ("gte", "gt", "")
    # The plain bound (lte/gte) lets the (project, timestamp, id) index start the scan at this
    # snapshot; the OR alone would make PostgreSQL walk every newer (or older) row to reach it.
    found = (
        project.snapshots.filter(**{f"timestamp__{before}": at})
        .filter(Q(**{f"timestamp__{strictly}": at}) | Q(**{f"pk__{strictly}": pk}))
        .order_by(f"{order}timestamp", f"{order}pk")
        .values_list("uuid", flat=True)
        .first()
    )
    return str(found) if found else None


def _query_value(raw: str) -> str:
    """A metadata value as the list's filter takes it: strings bare, numbers and booleans as JSON."""
    value = json.loads(raw)
    return value if isinstance(value, str) else raw
