"""Project pages: the list and creation (on the organisation's home), a project's snapshots, and
its settings (rename, describe, restrict to teams, archive, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mlplatform import querystring
from mlplatform.accounts.access import Access, Perm
from mlplatform.accounts.pages import get_project, org_page
from projects import panel_data, services
from projects.dashboards import document, prebuilt_tabs, store
from projects.forms import ProjectForm, ProjectTeamsForm

PAGE_SIZE = 50


@org_page()
@require_safe
def project_list(request: HttpRequest, access: Access) -> HttpResponse:
    """A typed address: the project list is the organisation's home page."""
    return redirect("org_home", access.organization.slug)


@org_page(Perm.WRITE)
@require_http_methods(["GET", "HEAD", "POST"])
def project_create(request: HttpRequest, access: Access) -> HttpResponse:
    if request.method != "POST":  # a bookmarked or typed address: the form is on the org's page
        return redirect(reverse("org_home", args=[access.organization.slug]) + "?new=1#new-project")
    form = ProjectForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            # ErrorList[i] is a message; django-stubs also allow a ValidationError.
            messages.error(request, errors[0])  # type: ignore[arg-type]
        return redirect("org_home", access.organization.slug)
    project = services.create_project(
        access.organization,
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
    )
    messages.success(request, f"Created {project.name}. Push its first snapshot to see it here.")
    return redirect("project_detail", access.organization.slug, project.pk)


@org_page()
@require_safe
def project_detail(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    """The project's dashboard: its tabs and panels, drawn by static/js/dashboard.js from the
    dashboard API, over the time range and filters in the URL (so a link keeps them)."""
    project = get_project(access, project_id)
    state = store.dashboard_of(project)
    tabs = state.spec["tabs"]
    tab = (document.find_tab(state.spec, request.GET.get("tab", "")) if tabs else None) or (
        tabs[0] if tabs else None
    )
    try:
        window = panel_data.parse_window(request.GET)
    except querystring.QueryError as exc:
        messages.error(request, exc.message)
        window = panel_data.parse_window({})
    slug = access.organization.slug
    snapshot_url = reverse("snapshot_detail", args=[slug, project.pk, "SNAPSHOT"])
    config = {
        "project": str(project.pk),
        "version": state.version,
        "tab": tab["id"] if tab else None,
        "canEdit": access.can(Perm.WRITE),
        "api": f"/api/v1/projects/{project.pk}/dashboard",
        "live": f"/ws/projects/{project.pk}/live",
        "snapshotUrl": snapshot_url,
        "snapshotsUrl": reverse("snapshot_list", args=[slug, project.pk]),
        "window": window.as_dict(),
    }
    query = request.GET.copy()
    query.pop("tab", None)
    titles = {t["title"].lower() for t in tabs}
    offers = (
        [
            p
            for p in prebuilt_tabs.available_presets(project)
            if p["available"] and p["title"].lower() not in titles
        ]
        if access.can(Perm.WRITE)
        else []
    )
    return render(
        request,
        "projects/dashboard.html",
        {
            "access": access,
            "project": project,
            "spec": state.spec,
            "tab": tab,
            "window": window,
            "ranges": querystring.RANGE_KEYS,
            "query": query.urlencode(),
            "config": config,
            "total": project.snapshots.count(),
            "can_edit": access.can(Perm.WRITE),
            "can_ingest": access.can(Perm.ISSUE_INGEST_TOKENS),
            "meta_filter": " ".join(f"{k}={v}" for k, v in window.metadata.items()),
            "offers": offers,
        },
    )


@org_page()
def project_settings(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    form = ProjectForm(
        request.POST or None, initial={"name": project.name, "description": project.description}
    )
    if request.method == "POST":
        access.require(Perm.WRITE)
        if form.is_valid():
            services.update_project(
                project,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
            messages.success(request, "Saved the project.")
            return redirect("project_settings", access.organization.slug, project.pk)
    teams_form = ProjectTeamsForm(
        organization=access.organization, initial={"teams": project.teams.all()}
    )
    return render(
        request,
        "projects/project_settings.html",
        {
            "access": access,
            "project": project,
            "form": form,
            "teams_form": teams_form,
            "can_write": access.can(Perm.WRITE),
            "can_manage": access.can(Perm.MANAGE_PROJECTS),
        },
    )


@org_page(Perm.MANAGE_PROJECTS)
@require_POST
def project_teams(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    form = ProjectTeamsForm(request.POST, organization=access.organization)
    if form.is_valid():
        services.restrict_project(project, form.cleaned_data["teams"])
        names = (
            ", ".join(t.name for t in form.cleaned_data["teams"]) or "everyone in the organisation"
        )
        messages.success(request, f"{project.name} is now seen by {names}.")
    return redirect("project_settings", access.organization.slug, project.pk)


@org_page(Perm.MANAGE_PROJECTS)
@require_POST
def project_archive(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    archive = request.POST.get("archive", "1") == "1"
    if archive:
        services.archive_project(project, keep_first_time=False)
    else:
        services.unarchive_project(project)
    messages.success(request, f"{'Archived' if archive else 'Restored'} {project.name}.")
    return redirect("project_settings", access.organization.slug, project.pk)


@org_page(Perm.MANAGE_PROJECTS)
@require_POST
def project_delete(request: HttpRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    if request.POST.get("confirm", "").strip() != project.name:
        messages.error(request, f"Type the project's name, {project.name}, to confirm.")
        return redirect("project_settings", access.organization.slug, project.pk)
    services.delete_project(project)
    messages.success(request, f"Deleted {project.name} and its snapshots.")
    return redirect("org_home", access.organization.slug)
