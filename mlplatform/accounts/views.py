"""Pages for organisations: switcher, home, members and invitations, teams, tokens, settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from mlplatform.accounts import services
from mlplatform.accounts.access import Access, Perm, get_or_404, parse_uuid
from mlplatform.accounts.adapters import INVITATION_SESSION_KEY
from mlplatform.accounts.forms import (
    InviteForm,
    OrganizationForm,
    OrganizationSettingsForm,
    ProfileForm,
    RoleForm,
    TeamForm,
    TeamMemberForm,
    TokenForm,
)
from mlplatform.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Role,
    Team,
    TokenScope,
)
from mlplatform.accounts.pages import AuthenticatedHttpRequest, org_page


def _attempt(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a service call; a broken rule (ValidationError) becomes a message on the page. A missing
    permission (PermissionDenied) stays a 403: the page offered no such button."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


def _org_url(name: str, access: Access, *args: Any) -> str:
    return reverse(name, args=[access.organization.slug, *args])


# ---- home, switcher, organisation creation -------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    org = request.user.last_organization
    if org is None or not org.memberships.filter(user=request.user).exists():
        membership = request.user.memberships.select_related("organization").first()
        if membership is None:
            return redirect("org_list")
        org = membership.organization
    return redirect("org_home", org.slug)


@login_required
def org_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.create_organization(name=form.cleaned_data["name"], owner=request.user)
        except ValidationError as exc:
            form.add_error("name", exc.messages[0])
        else:
            messages.success(request, f"Created {org.name}. Invite your team from Members.")
            return redirect("org_home", org.slug)
    memberships = request.user.memberships.select_related("organization").order_by(
        "organization__name"
    )
    return render(request, "accounts/org_list.html", {"memberships": memberships, "form": form})


@org_page()
@require_safe
def org_home(request: HttpRequest, access: Access) -> HttpResponse:
    projects = (
        access.projects()
        .filter(archived_at__isnull=True)
        .prefetch_related("teams")
        .annotate(snapshot_total=Count("snapshots"), last_snapshot=Max("snapshots__timestamp"))
    )
    return render(
        request,
        "accounts/org_home.html",
        {"access": access, "projects": projects, "can_create": access.can(Perm.WRITE)},
    )


# ---- members and invitations ---------------------------------------------------------------------


@org_page()
def members(request: HttpRequest, access: Access) -> HttpResponse:
    org = access.organization
    can_manage = access.can(Perm.MANAGE_MEMBERS)
    form = InviteForm(request.POST or None, organization=org, can_invite_owners=access.is_owner)
    if request.method == "POST":
        access.require(Perm.MANAGE_MEMBERS)
        if form.is_valid():
            data = form.cleaned_data
            if _attempt(
                request,
                lambda: services.invite(
                    access,
                    email=data["email"],
                    role=data["role"],
                    teams=data.get("teams", ()),
                    request=request,
                ),
                f"Invitation sent to {data['email']}.",
            ):
                return redirect(_org_url("org_members", access))
    memberships = (
        Membership.objects.filter(organization=org)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "user__teams", queryset=Team.objects.filter(organization=org), to_attr="org_teams"
            )
        )
        .order_by("user__email")
    )
    invitations = (
        Invitation.objects.pending().filter(organization=org).select_related("invited_by")
        if can_manage
        else Invitation.objects.none()
    )
    roles = Role.choices if access.is_owner else [c for c in Role.choices if c[0] != Role.OWNER]
    rows = [
        (
            m,
            can_manage
            and m.user_id != request.user.pk
            and (m.role != Role.OWNER or access.is_owner),
        )
        for m in memberships
    ]
    return render(
        request,
        "accounts/members.html",
        {
            "access": access,
            "rows": rows,
            "invitation_days": settings.INVITATION_EXPIRY_DAYS,
            "invitations": invitations,
            "form": form,
            "can_manage": can_manage,
            "roles": roles,
        },
    )


def _membership(access: Access, user_id: str) -> Membership:
    memberships = Membership.objects.filter(organization=access.organization)
    return get_or_404(memberships, user_id, "member", field="user_id")


@org_page(Perm.MANAGE_MEMBERS)
@require_POST
def member_role(request: HttpRequest, access: Access, user_id: str) -> HttpResponse:
    membership = _membership(access, user_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        role = form.cleaned_data["role"]
        _attempt(
            request,
            lambda: services.change_role(access, membership=membership, role=role),
            f"{membership.user.email} is now {Role(role).label.lower()}.",
        )
    return redirect(_org_url("org_members", access))


@org_page()
@require_POST
def member_remove(request: HttpRequest, access: Access, user_id: str) -> HttpResponse:
    membership = _membership(access, user_id)
    leaving = membership.user_id == request.user.pk
    done = _attempt(
        request,
        lambda: services.remove_member(access, membership=membership),
        f"You left {access.organization.name}."
        if leaving
        else f"Removed {membership.user.email} from {access.organization.name}.",
    )
    if done and leaving:
        return redirect("home")
    return redirect(_org_url("org_members", access))


def _invitation(access: Access, invitation_id: str) -> Invitation:
    return get_or_404(
        Invitation.objects.filter(organization=access.organization), invitation_id, "invitation"
    )


@org_page(Perm.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request: HttpRequest, access: Access, invitation_id: str) -> HttpResponse:
    invitation = _invitation(access, invitation_id)
    _attempt(
        request,
        lambda: services.revoke_invitation(access, invitation=invitation),
        f"Revoked the invitation of {invitation.email}.",
    )
    return redirect(_org_url("org_members", access))


@org_page(Perm.MANAGE_MEMBERS)
@require_POST
def invitation_resend(request: HttpRequest, access: Access, invitation_id: str) -> HttpResponse:
    invitation = _invitation(access, invitation_id)
    _attempt(
        request,
        lambda: services.invite(
            access,
            email=invitation.email,
            role=invitation.role,
            teams=invitation.teams.all(),
            request=request,
        ),
        f"Sent a new invitation link to {invitation.email}.",
    )
    return redirect(_org_url("org_members", access))


@never_cache
def invitation_accept(request: HttpRequest, key: str) -> HttpResponse:
    """The emailed link. Signed out: sign up (the address counts as verified) or log in first.
    Signed in: a button joins the organisation."""
    invitation = Invitation.find(key)
    if invitation is None or invitation.status != "pending":
        status = invitation.status if invitation else "unknown"
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"status": status},
            status=410 if invitation else 404,
        )
    here = reverse("invitation_accept", args=[key])
    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = key
        # Whoever signs up with the invited address from this link has proven they read its mail.
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(
            request,
            "accounts/invitation.html",
            {
                "invitation": invitation,
                "signup_url": f"{reverse('account_signup')}?next={here}",
                "login_url": f"{reverse('account_login')}?next={here}",
            },
        )
    already = invitation.organization.memberships.filter(user=request.user).exists()
    if request.method == "POST":
        try:
            services.accept_invitation(invitation, user=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect("home")
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, f"Welcome to {invitation.organization.name}.")
        return redirect("org_home", invitation.organization.slug)
    return render(
        request, "accounts/invitation.html", {"invitation": invitation, "already": already}
    )


# ---- teams ---------------------------------------------------------------------------------------


@org_page()
def teams(request: HttpRequest, access: Access) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        access.require(Perm.MANAGE_MEMBERS)
        if form.is_valid():
            name = form.cleaned_data["name"]
            try:
                team = services.create_team(access, name=name)
            except ValidationError as exc:
                form.add_error("name", exc.messages[0])
            else:
                messages.success(request, f"Created the team {team.name}.")
                return redirect(_org_url("org_team", access, team.slug))
    org_teams = Team.objects.filter(organization=access.organization).prefetch_related(
        "members", Prefetch("projects", queryset=access.projects())
    )
    return render(
        request,
        "accounts/teams.html",
        {
            "access": access,
            "teams": org_teams,
            "form": form,
            "can_manage": access.can(Perm.MANAGE_MEMBERS),
        },
    )


def _team(access: Access, team_slug: str) -> Team:
    return get_object_or_404(Team, organization=access.organization, slug=team_slug)


@org_page()
def team_detail(request: HttpRequest, access: Access, team_slug: str) -> HttpResponse:
    team = _team(access, team_slug)
    add_form = TeamMemberForm(request.POST or None, organization=access.organization, team=team)
    rename_form = TeamForm(initial={"name": team.name})
    if request.method == "POST":
        access.require(Perm.MANAGE_MEMBERS)
        if add_form.is_valid():
            user = add_form.cleaned_data["user"]
            if _attempt(
                request,
                lambda: services.add_team_member(access, team=team, user=user),
                f"Added {user.email} to {team.name}.",
            ):
                return redirect(_org_url("org_team", access, team.slug))
    return render(
        request,
        "accounts/team_detail.html",
        {
            "access": access,
            "team": team,
            "team_members": team.members.order_by("email"),
            "projects": access.projects().filter(teams=team),
            "add_form": add_form,
            "rename_form": rename_form,
            "can_manage": access.can(Perm.MANAGE_MEMBERS),
        },
    )


@org_page(Perm.MANAGE_MEMBERS)
@require_POST
def team_rename(request: HttpRequest, access: Access, team_slug: str) -> HttpResponse:
    team = _team(access, team_slug)
    form = TeamForm(request.POST)
    if form.is_valid():
        name = form.cleaned_data["name"]
        _attempt(
            request, lambda: services.rename_team(access, team=team, name=name), "Renamed the team."
        )
    return redirect(_org_url("org_team", access, team.slug))


@org_page(Perm.MANAGE_MEMBERS)
@require_POST
def team_member_remove(
    request: HttpRequest, access: Access, team_slug: str, user_id: str
) -> HttpResponse:
    team = _team(access, team_slug)
    user = get_or_404(team.members.all(), user_id, "team member")
    _attempt(
        request,
        lambda: services.remove_team_member(access, team=team, user=user),
        f"Removed {user.email} from {team.name}.",
    )
    return redirect(_org_url("org_team", access, team.slug))


@org_page(Perm.MANAGE_MEMBERS)
@require_POST
def team_delete(request: HttpRequest, access: Access, team_slug: str) -> HttpResponse:
    team = _team(access, team_slug)
    _attempt(
        request, lambda: services.delete_team(access, team=team), f"Deleted the team {team.name}."
    )
    return redirect(_org_url("org_teams", access))


# ---- API tokens ----------------------------------------------------------------------------------


def _token_scopes(access: Access) -> list[str]:
    scopes: list[str] = []
    if access.can(Perm.ISSUE_INGEST_TOKENS):
        scopes.append(TokenScope.INGEST)
    if access.can(Perm.MANAGE_TOKENS):
        scopes += [TokenScope.READ, TokenScope.WRITE]
    return scopes


@never_cache
@org_page()
def tokens(request: HttpRequest, access: Access) -> HttpResponse:
    scopes = _token_scopes(access)
    projects = access.projects()
    initial: dict[str, Any] = {}
    wanted = parse_uuid(request.GET.get("project")) if request.method != "POST" else None
    # Opened from a project's page ("create an ingest token for this project"): that one.
    if wanted and (chosen := projects.filter(pk=wanted).first()) is not None:
        initial["project"] = chosen
    form = TokenForm(request.POST or None, projects=projects, scopes=scopes, initial=initial)
    if request.method == "POST":
        if not scopes:
            raise PermissionDenied("Viewers can look but not change anything.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                token, secret = services.create_token(
                    access,
                    name=data["name"],
                    scope=data["scope"],
                    project_id=data["project"].pk if data["project"] else None,
                    expires_at=form.expires_at(),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                # The secret is shown in this response only; it is not stored anywhere.
                return render(
                    request,
                    "accounts/token_created.html",
                    {"access": access, "token": token, "secret": secret},
                )
    org_tokens = access.visible(
        ApiToken.objects.filter(organization=access.organization).select_related(
            "project", "created_by"
        )
    )
    return render(
        request,
        "accounts/tokens.html",
        {
            "access": access,
            "tokens": org_tokens,
            "form": form,
            "can_create": bool(scopes),
            "can_manage": access.can(Perm.MANAGE_TOKENS),
        },
    )


@org_page(Perm.ISSUE_INGEST_TOKENS)
@require_POST
def token_revoke(request: HttpRequest, access: Access, token_id: str) -> HttpResponse:
    org_tokens = access.visible(ApiToken.objects.filter(organization=access.organization))
    token = get_or_404(org_tokens, token_id, "token")
    _attempt(request, lambda: services.revoke_token(access, token=token), f"Revoked {token.name}.")
    return redirect(_org_url("org_tokens", access))


# ---- organisation settings and the user's profile ------------------------------------------------


@org_page()
def org_settings(request: HttpRequest, access: Access) -> HttpResponse:
    org = access.organization
    form = OrganizationSettingsForm(
        request.POST or None, initial={"name": org.name, "slug": org.slug}
    )
    if request.method == "POST":
        access.require(Perm.MANAGE_ORG)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_organization(access, name=data["name"], slug=data["slug"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field, errors)
            else:
                messages.success(request, "Saved the organisation's settings.")
                return redirect("org_settings", org.slug)
    return render(
        request,
        "accounts/org_settings.html",
        {
            "access": access,
            "form": form,
            "can_manage": access.can(Perm.MANAGE_ORG),
            "can_delete": access.can(Perm.DELETE_ORG),
        },
    )


@org_page(Perm.DELETE_ORG)
@require_POST
def org_delete(request: HttpRequest, access: Access) -> HttpResponse:
    org = access.organization
    if request.POST.get("confirm", "").strip() != org.slug:
        messages.error(
            request, f"Type the organisation's address, {org.slug}, to confirm deletion."
        )
        return redirect("org_settings", org.slug)
    name = org.name
    services.delete_organization(access)
    messages.success(request, f"Deleted {name} and everything in it.")
    return redirect("home")


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, initial={"name": request.user.name})
    if request.method == "POST" and form.is_valid():
        request.user.name = form.cleaned_data["name"].strip()
        request.user.save(update_fields=["name"])
        messages.success(request, "Saved your profile.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})
