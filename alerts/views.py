"""Alert pages: the organisation's alerts and notification channels, a project's rules and
silences, and one rule with its history and the messages sent for it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from alerts import services
from alerts.forms import (
    CHANNEL_FORMS,
    RULE_FORMS,
    AlertFilterForm,
    MaintenanceForm,
    SilenceForm,
)
from alerts.models import (
    Alert,
    AlertRule,
    Channel,
    ChannelKind,
    Message,
    RuleKind,
    Severity,
    Silence,
    State,
)
from mlplatform import querystring
from mlplatform.accounts.access import Access, Perm, find, get_or_404
from mlplatform.accounts.pages import OrgRequest, get_project, org_page
from projects.models import Project
from projects.views import PAGE_SIZE


def _channel(access: Access, channel_id: str) -> Channel:
    return get_or_404(
        Channel.objects.filter(organization=access.organization), channel_id, "channel"
    )


def _rule(access: Access, project_id: str, rule_id: str) -> tuple[Project, AlertRule]:
    project = get_project(access, project_id)
    return project, get_or_404(project.alert_rules.all(), rule_id, "alert rule")


def _report(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _open_first(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """Firing before pending, critical before warning, newest first."""
    return alerts.order_by(
        Case(
            When(state=State.FIRING, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        Case(
            When(severity=Severity.CRITICAL, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "-started_at",
    )


# ---- the organisation's alerts ------------------------------------------------------------------


@org_page()
@require_safe
def alert_list(request: HttpRequest, access: Access) -> HttpResponse:
    projects = access.projects()
    filters = AlertFilterForm(request.GET or None, projects=projects)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    alerts = Alert.objects.filter(project__in=projects).select_related("rule", "project")
    if chosen.get("project"):
        alerts = alerts.filter(project_id=chosen["project"])
    state = chosen.get("state") or ""
    open_alerts = alerts.filter(resolved_at__isnull=True)
    history = alerts.filter(resolved_at__isnull=False).order_by("-resolved_at")
    if state in (State.FIRING, State.PENDING):
        open_alerts = open_alerts.filter(state=state)
        history = history.none()
    elif state == State.RESOLVED:
        open_alerts = open_alerts.none()
    total = history.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = querystring.page_number(request.GET, last=pages)
    return render(
        request,
        "alerts/alert_list.html",
        {
            "access": access,
            "filters": filters,
            "open_alerts": list(_open_first(open_alerts)[:200]),
            "history": list(history[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]),
            "page": page,
            "pages": pages,
            "query": querystring.without(request.GET, "page"),
            "filtered": bool(state or chosen.get("project")),
        },
    )


# ---- channels -----------------------------------------------------------------------------------


def _secret_page(
    request: HttpRequest, access: Access, channel: Channel, *, new: bool
) -> HttpResponse:
    return render(
        request,
        "alerts/channel_secret.html",
        {"access": access, "channel": channel, "secret": channel.secret, "new": new},
    )


@org_page()
def alert_channels(request: HttpRequest, access: Access) -> HttpResponse:
    org = access.organization
    forms = {kind: form(organization=org) for kind, form in CHANNEL_FORMS.items()}
    labels = dict(ChannelKind.choices)
    open_kind = ""
    if request.method == "POST":
        access.require(Perm.WRITE)
        kind = request.POST.get("kind", "")
        if kind not in CHANNEL_FORMS:
            messages.error(request, "Choose the kind of channel: email, Slack or webhook.")
            return redirect("alert_channels", org.slug)
        form = CHANNEL_FORMS[kind](request.POST, organization=org)
        if form.is_valid():
            channel = services.create_channel(org, form.channel_data)
            if channel.kind == ChannelKind.WEBHOOK:
                return _secret_page(request, access, channel, new=True)
            messages.success(request, f"Added {channel}. Send a test to check it.")
            return redirect("alert_channels", org.slug)
        forms[kind], open_kind = form, kind
    channels = list(Channel.objects.filter(organization=org))
    latest = services.latest_messages(channels)
    return render(
        request,
        "alerts/channels.html",
        {
            "access": access,
            "rows": [(channel, latest.get(channel.pk)) for channel in channels],
            "forms": [(kind, labels[kind], form) for kind, form in forms.items()],
            "open_kind": open_kind,
            "can_write": access.can(Perm.WRITE),
        },
    )


@org_page()
def alert_channel_edit(request: HttpRequest, access: Access, channel_id: str) -> HttpResponse:
    channel = _channel(access, channel_id)
    form = CHANNEL_FORMS[channel.kind](
        request.POST or None, organization=access.organization, channel=channel
    )
    if request.method == "POST":
        access.require(Perm.WRITE)
        if form.is_valid():
            services.update_channel(channel, form.channel_data)
            messages.success(request, f"Saved {channel}.")
            return redirect("alert_channel_edit", access.organization.slug, channel.pk)
    sent = (
        access.visible(channel.messages.all(), via="alert__project")
        .select_related("alert__rule", "alert__project")
        .prefetch_related("notifications")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "alerts/channel_edit.html",
        {
            "access": access,
            "channel": channel,
            "form": form,
            "sent": sent,
            "rules": access.visible(channel.rules.all()).select_related("project"),
            "can_write": access.can(Perm.WRITE),
        },
    )


def _back_to_channel(access: Access, request: HttpRequest, channel: Channel) -> HttpResponse:
    if request.POST.get("back") == "edit":
        return redirect("alert_channel_edit", access.organization.slug, channel.pk)
    return redirect("alert_channels", access.organization.slug)


@org_page(Perm.WRITE)
@require_POST
def alert_channel_test(request: HttpRequest, access: Access, channel_id: str) -> HttpResponse:
    channel = _channel(access, channel_id)
    try:
        services.send_test(channel)
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, f"Test queued for {channel}; see its result below.")
    return _back_to_channel(access, request, channel)


@org_page(Perm.WRITE)
@require_POST
def alert_channel_enable(request: HttpRequest, access: Access, channel_id: str) -> HttpResponse:
    channel = services.enable_channel(_channel(access, channel_id))
    messages.success(request, f"Enabled {channel}. Send a test to check it works again.")
    return _back_to_channel(access, request, channel)


@org_page(Perm.WRITE)
@require_POST
def alert_channel_rotate(request: HttpRequest, access: Access, channel_id: str) -> HttpResponse:
    channel = _channel(access, channel_id)
    try:
        services.rotate_secret(channel)
    except ValidationError as exc:
        _report(request, exc)
        return _back_to_channel(access, request, channel)
    return _secret_page(request, access, channel, new=False)


@org_page(Perm.WRITE)
@require_POST
def alert_channel_delete(request: HttpRequest, access: Access, channel_id: str) -> HttpResponse:
    channel = _channel(access, channel_id)
    services.delete_channel(channel)
    messages.success(request, f"Deleted {channel}.")
    return redirect("alert_channels", access.organization.slug)


# ---- a project's rules and silences -------------------------------------------------------------


def _current_silences(project: Project, rule: AlertRule | None = None) -> QuerySet[Silence]:
    """Silences in force or still to come: the project's, and the rule's (all rules' without one)."""
    silences = project.silences.filter(ends_at__gt=timezone.now())
    if rule is not None:
        silences = silences.filter(Q(rule__isnull=True) | Q(rule=rule))
    return silences.select_related("rule", "created_by").order_by("starts_at")


@org_page()
def project_alerts(request: OrgRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    forms = {kind: form(project=project) for kind, form in RULE_FORMS.items()}
    open_kind = ""
    if request.method == "POST":
        access.require(Perm.WRITE)
        kind = request.POST.get("kind", "")
        if kind not in RULE_FORMS:
            messages.error(request, "Choose the kind of rule: tests failed, metric or no data.")
            return redirect("project_alerts", access.organization.slug, project.pk)
        form = RULE_FORMS[kind](request.POST, project=project)
        if form.is_valid():
            rule = services.create_rule(project, form.rule_data, request.user)
            messages.success(request, f"Added the rule {rule.name}.")
            return redirect("alert_rule_detail", access.organization.slug, project.pk, rule.pk)
        forms[kind], open_kind = form, kind
    return render(
        request,
        "alerts/project_alerts.html",
        {
            "access": access,
            "project": project,
            "rules": project.alert_rules.prefetch_related("channels"),
            "forms": [(kind, label, forms[kind]) for kind, label in RuleKind.choices],
            "open_kind": open_kind,
            "silences": _current_silences(project),
            "mute_form": SilenceForm(project=project),
            "maintenance_form": MaintenanceForm(project=project),
            "can_write": access.can(Perm.WRITE),
            "now": timezone.now(),
        },
    )


@org_page()
def alert_rule_detail(
    request: HttpRequest, access: Access, project_id: str, rule_id: str
) -> HttpResponse:
    project, rule = _rule(access, project_id, rule_id)
    form = RULE_FORMS[rule.kind](request.POST or None, project=project, rule=rule)
    if request.method == "POST":
        access.require(Perm.WRITE)
        if form.is_valid():
            services.update_rule(rule, form.rule_data)
            messages.success(request, f"Saved the rule {rule.name}.")
            return redirect("alert_rule_detail", access.organization.slug, project.pk, rule.pk)
    sent = (
        Message.objects.filter(alert__rule=rule)
        .select_related("channel", "alert")
        .prefetch_related("notifications")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "alerts/rule_detail.html",
        {
            "access": access,
            "project": project,
            "rule": rule,
            "form": form,
            "alerts": rule.alerts.select_related("snapshot").order_by("-started_at")[:50],
            "events": rule.events.select_related("snapshot", "alert")[:100],
            "sent": sent,
            "silences": _current_silences(project, rule),
            "mute_form": SilenceForm(project=project),
            "can_write": access.can(Perm.WRITE),
            "now": timezone.now(),
        },
    )


@org_page(Perm.WRITE)
@require_POST
def alert_rule_enable(
    request: HttpRequest, access: Access, project_id: str, rule_id: str
) -> HttpResponse:
    project, rule = _rule(access, project_id, rule_id)
    enabled = request.POST.get("enabled") == "1"
    services.set_rule_enabled(rule, enabled)
    messages.success(request, f"{'Enabled' if enabled else 'Disabled'} the rule {rule.name}.")
    return redirect("alert_rule_detail", access.organization.slug, project.pk, rule.pk)


@org_page(Perm.WRITE)
@require_POST
def alert_rule_delete(
    request: HttpRequest, access: Access, project_id: str, rule_id: str
) -> HttpResponse:
    project, rule = _rule(access, project_id, rule_id)
    services.delete_rule(rule)
    messages.success(request, f"Deleted the rule {rule.name} and its history.")
    return redirect("project_alerts", access.organization.slug, project.pk)


def _back(access: Access, project: Project, rule_id: Any) -> HttpResponse:
    """To the rule's page when the form came from one, else to the project's alerts."""
    rule = find(project.alert_rules.all(), rule_id) if rule_id else None
    if rule is not None:
        return redirect("alert_rule_detail", access.organization.slug, project.pk, rule.pk)
    return redirect("project_alerts", access.organization.slug, project.pk)


@org_page(Perm.WRITE)
@require_POST
def alert_silence_create(request: OrgRequest, access: Access, project_id: str) -> HttpResponse:
    project = get_project(access, project_id)
    window = request.POST.get("mode") == "window"
    form = (
        MaintenanceForm(request.POST, project=project)
        if window
        else SilenceForm(request.POST, project=project, rule_id=request.POST.get("rule"))
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:  # messages; django-stubs also allow a ValidationError
                messages.error(request, error)  # type: ignore[arg-type]
        return _back(access, project, request.POST.get("rule"))
    data = form.silence_data
    if window:
        silence = services.schedule_maintenance(
            project, data["starts_at"], data["ends_at"], data["reason"], request.user
        )
        messages.success(
            request,
            f"Scheduled a maintenance window from {silence.starts_at:%Y-%m-%d %H:%M} to "
            f"{silence.ends_at:%Y-%m-%d %H:%M} UTC.",
        )
    else:
        silence = services.mute(
            project, data["rule"], data["ends_at"], data["reason"], request.user
        )
        what = f"the rule {silence.rule.name}" if silence.rule else f"every rule of {project.name}"
        messages.success(request, f"Muted {what} until {silence.ends_at:%Y-%m-%d %H:%M} UTC.")
    return _back(access, project, request.POST.get("rule"))


@org_page(Perm.WRITE)
@require_POST
def alert_silence_end(
    request: HttpRequest, access: Access, project_id: str, silence_id: str
) -> HttpResponse:
    project = get_project(access, project_id)
    silence = get_or_404(project.silences.all(), silence_id, "silence")
    services.end_silence(silence)
    messages.success(request, "Ended the silence; notifications resume.")
    return _back(access, project, request.POST.get("back"))
