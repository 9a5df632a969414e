"""Collector pages: a project's collectors, and one collector with its reference, buffer and runs."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from collector import intake, services
from collector.forms import CollectorForm
from collector.models import Collector, ReferenceDataset, summary
from mlplatform.accounts.access import Access, Perm, get_or_404
from mlplatform.accounts.pages import get_project, org_page
from projects.models import Project

# The reference's type is read from the file's name: browsers send unreliable content types.
REFERENCE_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}
RUNS_SHOWN = 50
# A placeholder value per column type, for the examples of "How to send rows".
_EXAMPLE_VALUES: dict[str, Any] = {
    "numerical": 1.0,
    "categorical": "a",
    "text": "some text",
    "datetime": "2026-01-01T00:00:00Z",
}


def _collector(access: Access, project_id: str, collector_id: str) -> tuple[Project, Collector]:
    project = get_project(access, project_id)
    return project, get_or_404(project.collectors.all(), collector_id, "collector")


def _detail_url(access: Access, project: Project, collector: Collector, anchor: str = "") -> str:
    url = reverse("collector_detail", args=[access.organization.slug, project.pk, collector.pk])
    return f"{url}#{anchor}" if anchor else url


def _current_references(collectors: list[Collector]) -> dict[Any, ReferenceDataset]:
    # The summaries only: the stored file (`parquet`) may be megabytes and no page shows it.
    found = ReferenceDataset.objects.filter(collector__in=collectors, current=True).defer("parquet")
    return {reference.collector_id: reference for reference in found}


def trigger_words(collector: Collector) -> str:
    """The collector's trigger as a sentence: "every 60 minutes or every 1,000 rows, whichever
    comes first"."""
    parts = []
    if collector.every_minutes:
        minutes = collector.every_minutes
        parts.append(f"every {minutes:,} minutes" if minutes != 1 else "every minute")
    if collector.every_rows:
        rows = collector.every_rows
        parts.append(f"every {rows:,} rows" if rows != 1 else "every row")
    if collector.cron:
        parts.append(f"on the cron schedule {collector.cron} (UTC)")
    if not parts:
        return "never: no trigger is set"
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} or {parts[-1]}, whichever comes first"


def _examples(
    request: HttpRequest, collector: Collector, reference: ReferenceDataset | None
) -> dict[str, str]:
    """The "How to send rows" snippets, with a row shaped like the reference."""
    # A value of the type each column is stored as: a categorical 0/1 column takes numbers.
    columns = {"feature": "numerical"}
    if reference is not None:
        stored = reference.storage
        columns = {
            c: stored[c] if stored.get(c) in ("numerical", "datetime") else role
            for c, role in reference.columns.items()
        }
    row = {"prediction_id": "p-1", **{c: _EXAMPLE_VALUES.get(k, "a") for c, k in columns.items()}}
    target = (collector.config.get("definition") or {}).get("target")
    row.pop(target, None)  # targets usually arrive later, as labels
    base = request.build_absolute_uri("/").rstrip("/")
    endpoint = f"{base}/api/v1/collectors/{collector.pk}"
    rows = json.dumps([row])
    labels = json.dumps([{"prediction_id": "p-1", "target": 1}])
    return {
        "endpoint": endpoint,
        "curl": (
            f"curl -X POST {endpoint}/data \\\n"
            '  -H "Authorization: Bearer $MLP_TOKEN" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{rows}'"
        ),
        "curl_labels": (
            f"curl -X POST {endpoint}/labels \\\n"
            '  -H "Authorization: Bearer $MLP_TOKEN" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{labels}'"
        ),
        "python": (
            "import os\n\n"
            "from metrics import CollectorClient\n\n"
            "client = CollectorClient(\n"
            f'    "{collector.pk}",\n'
            f'    url="{base}",\n'
            '    token=os.environ["MLP_TOKEN"],\n'
            ")\n"
            f"client.send({json.dumps(row)})\n"
            "# Later, when the targets are known:\n"
            'client.send_labels({"p-1": 1})\n'
            "client.close()"
        ),
    }


# ---- a project's collectors ---------------------------------------------------------------------


@org_page()
def project_collectors(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    form = CollectorForm(request.POST or None)
    if request.method == "POST":
        access.require(Perm.WRITE)
        if form.is_valid():
            collector = services.create_collector(project, form.collector_data)
            messages.success(
                request, f"Created the collector {collector.name}. Upload its reference dataset."
            )
            return redirect(_detail_url(access, project, collector, "reference"))
    collectors = list(project.collectors.all())
    references = _current_references(collectors)
    rows = [
        {
            "collector": collector,
            "trigger": trigger_words(collector),
            "reference": references.get(collector.pk),
            **summary(collector),
        }
        for collector in collectors
    ]
    return render(
        request,
        "collector/project_collectors.html",
        {
            "access": access,
            "project": project,
            "rows": rows,
            "form": form,
            "open_form": request.method == "POST" or not rows,
            "can_write": access.can(Perm.WRITE),
        },
    )


# ---- one collector ------------------------------------------------------------------------------


@org_page()
def collector_detail(
    request: HttpRequest, access: Access, project_id: str, collector_id: str
) -> HttpResponse:
    project, collector = _collector(access, project_id, collector_id)
    form = CollectorForm(request.POST or None, collector=collector)
    if request.method == "POST":
        access.require(Perm.WRITE)
        if form.is_valid():
            services.update_collector(collector, form.collector_data)
            messages.success(request, f"Saved the collector {collector.name}.")
            return redirect(_detail_url(access, project, collector))
    reference = _current_references([collector]).get(collector.pk)
    return render(
        request,
        "collector/collector_detail.html",
        {
            "access": access,
            "project": project,
            "collector": collector,
            "trigger": trigger_words(collector),
            "definition": [
                (key, ", ".join(value) if isinstance(value, list) else str(value))
                for key, value in (collector.config.get("definition") or {}).items()
            ],
            "reference": reference,
            "buffer": summary(collector),
            "runs": collector.runs.select_related("snapshot", "quality_snapshot")[:RUNS_SHOWN],
            "form": form,
            "max_bytes": intake.max_body_bytes(),
            "examples": _examples(request, collector, reference),
            "can_write": access.can(Perm.WRITE),
        },
    )


@org_page(Perm.WRITE)
@require_POST
def collector_enable(
    request: HttpRequest, access: Access, project_id: str, collector_id: str
) -> HttpResponse:
    project, collector = _collector(access, project_id, collector_id)
    services.set_collector_enabled(collector, request.POST.get("enabled") == "1")
    if collector.enabled:
        messages.success(request, f"Enabled {collector.name}: it accepts rows and runs again.")
    else:
        messages.success(
            request, f"Disabled {collector.name}: it refuses rows and runs nothing until enabled."
        )
    return redirect(_detail_url(access, project, collector))


@org_page(Perm.WRITE)
@require_POST
def collector_delete(
    request: HttpRequest, access: Access, project_id: str, collector_id: str
) -> HttpResponse:
    project, collector = _collector(access, project_id, collector_id)
    if request.POST.get("confirm", "").strip() != collector.name:
        messages.error(request, f"Type the collector's name, {collector.name}, to confirm.")
        return redirect(_detail_url(access, project, collector, "delete"))
    services.delete_collector(collector)
    messages.success(
        request,
        f"Deleted the collector {collector.name} with its rows and runs; "
        "the snapshots it computed stay in the project.",
    )
    return redirect("project_collectors", access.organization.slug, project.pk)


@org_page(Perm.WRITE)
@require_POST
def collector_reference(
    request: HttpRequest, access: Access, project_id: str, collector_id: str
) -> HttpResponse:
    project, collector = _collector(access, project_id, collector_id)
    back = redirect(_detail_url(access, project, collector, "reference"))
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV or Parquet file to upload.")
        return back
    limit = intake.max_body_bytes()
    assert upload.size is not None  # an uploaded file's size is always known
    if upload.size > limit:
        messages.error(
            request, f"{upload.name} is {upload.size:,} bytes; at most {limit:,} are accepted."
        )
        return back
    content_type = REFERENCE_TYPES.get(PurePath(upload.name or "").suffix.lower())
    if content_type is None:
        messages.error(request, f"{upload.name}: upload a .csv or a .parquet file.")
        return back
    try:
        reference = intake.accept_reference(
            collector, upload.read(), content_type, upload.name or ""
        )
    except intake.Rejected as exc:
        messages.error(request, f"{upload.name}: {exc.message}")
        return back
    messages.success(
        request,
        f"Uploaded {reference.filename}: {reference.rows:,} rows, {len(reference.columns)} "
        "columns. Runs from now on compare against it.",
    )
    return back


@org_page(Perm.WRITE)
@require_POST
def collector_run(
    request: HttpRequest, access: Access, project_id: str, collector_id: str
) -> HttpResponse:
    project, collector = _collector(access, project_id, collector_id)
    back = redirect(_detail_url(access, project, collector, "runs"))
    try:
        pending = services.request_run(collector)
    except services.RunRefused as exc:
        messages.warning(request, str(exc))
        return back
    messages.success(
        request,
        f"Queued a run over {pending:,} pending row{'s' if pending != 1 else ''}; "
        "it appears under Runs when it is done.",
    )
    return back
