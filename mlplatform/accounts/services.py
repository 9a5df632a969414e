"""Tenancy workflows: organisations, members and roles, invitations, teams and API tokens.

Pages and API views call these; each checks the caller's `Access` first and raises `PermissionDenied`
(403) or `ValidationError` (400, naming the field) when a rule is broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from mlplatform.accounts import token_cache
from mlplatform.accounts.access import Access, Perm
from mlplatform.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organization,
    Role,
    Team,
    TokenScope,
    User,
    normalize_email,
)
from mlplatform.emails import absolute_url, send_templated_email

# ---- organisations ---------------------------------------------------------------------------------


def _unique_slug(model: type[Organization], base: str, **scope: object) -> str:
    base = slugify(base)[:50].strip("-") or "org"
    slug, n = base, 1
    while model.objects.filter(slug=slug, **scope).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_organization(*, name: str, owner: User) -> Organization:
    """A new organisation with `owner` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organisation a name."})
    with transaction.atomic():
        org = Organization.objects.create(name=name, slug=_unique_slug(Organization, name))
        Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    return org


def create_personal_organization(user: User) -> Organization:
    label = user.name.strip() or user.email.split("@")[0]
    return create_organization(name=f"{label}'s organisation", owner=user)


def update_organization(
    access: Access, *, name: str | None = None, slug: str | None = None
) -> None:
    access.require(Perm.MANAGE_ORG)
    org = access.organization
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": "The name cannot be empty."})
        org.name = name.strip()
    if slug is not None:
        if slug != slugify(slug) or not slug:
            raise ValidationError(
                {"slug": "Use lowercase letters, digits and hyphens only, for example acme-ml."}
            )
        if Organization.objects.filter(slug=slug).exclude(pk=org.pk).exists():
            raise ValidationError({"slug": f"The address {slug!r} is taken; choose another."})
        org.slug = slug
    org.save()


def delete_organization(access: Access) -> None:
    access.require(Perm.DELETE_ORG)
    access.organization.delete()


# ---- members ---------------------------------------------------------------------------------------


def _lock_owners(org: Organization) -> int:
    """Lock the organisation's owner rows for this transaction and count them, so that two
    concurrent demotions cannot leave it without an owner."""
    return len(
        list(Membership.objects.select_for_update().filter(organization=org, role=Role.OWNER))
    )


def change_role(access: Access, *, membership: Membership, role: str) -> Membership:
    access.require(Perm.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    new, old = Role(role), Role(membership.role)
    if (Role.OWNER in (new, old)) and not access.is_owner:
        raise PermissionDenied("Only owners can make someone an owner or change an owner's role.")
    with transaction.atomic():
        if old is Role.OWNER and new is not Role.OWNER and _lock_owners(access.organization) <= 1:
            raise ValidationError(
                {"role": "This is the last owner: make someone else an owner first."}
            )
        membership.role = new
        membership.save(update_fields=["role"])
    return membership


def remove_member(access: Access, *, membership: Membership) -> None:
    """Remove a member (owners and admins), or leave the organisation (anyone, for themselves)."""
    leaving = access.user is not None and membership.user_id == access.user.pk
    if not leaving:
        access.require(Perm.MANAGE_MEMBERS)
        if membership.role == Role.OWNER and not access.is_owner:
            raise PermissionDenied("Only owners can remove an owner.")
    with transaction.atomic():
        if membership.role == Role.OWNER and _lock_owners(access.organization) <= 1:
            raise ValidationError(
                {"user": "The last owner cannot be removed: make someone else an owner first."}
            )
        for team in Team.objects.filter(organization=access.organization, members=membership.user):
            team.members.remove(membership.user)
        membership.delete()


# ---- invitations -----------------------------------------------------------------------------------


def invite(
    access: Access,
    *,
    email: str,
    role: str = Role.MEMBER,
    teams: Iterable[Team] = (),
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite `email` to the organisation and email them the link. Inviting the same address again
    replaces the pending invitation (a resend with a fresh link)."""
    access.require(Perm.MANAGE_MEMBERS)
    email = normalize_email(email)
    org = access.organization
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    if role == Role.OWNER and not access.is_owner:
        raise PermissionDenied("Only owners can invite owners.")
    if Membership.objects.filter(organization=org, user__email=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {org.name}."})
    teams = list(teams)
    if any(team.organization_id != org.pk for team in teams):
        raise ValidationError({"teams": "Choose teams of this organisation."})
    key, key_hash = Invitation.new_key()
    with transaction.atomic():
        Invitation.objects.pending().filter(organization=org, email=email).update(
            revoked_at=timezone.now()
        )
        invitation = Invitation.objects.create(
            organization=org,
            email=email,
            role=role,
            key_hash=key_hash,
            invited_by=access.user,
            expires_at=Invitation.default_expiry(),
        )
        invitation.teams.set(teams)
    link = absolute_url(reverse("invitation_accept", args=[key]), request)
    send_templated_email(
        "invitation",
        [email],
        {"invitation": invitation, "organization": org, "inviter": access.user, "link": link},
    )
    return invitation


def revoke_invitation(access: Access, *, invitation: Invitation) -> None:
    access.require(Perm.MANAGE_MEMBERS)
    if invitation.status == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


def accept_invitation(invitation: Invitation, *, user: User) -> Membership:
    """Make `user` a member as the invitation says. The link is the credential: whoever signed in
    holds it may accept, once, before it expires."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != "pending":
            raise ValidationError(
                {"invitation": f"This invitation is {invitation.status}; ask for a new one."}
            )
        membership, _ = Membership.objects.get_or_create(
            organization=invitation.organization, user=user, defaults={"role": invitation.role}
        )
        for team in invitation.teams.all():
            team.members.add(user)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


# ---- teams -----------------------------------------------------------------------------------------


def create_team(access: Access, *, name: str) -> Team:
    access.require(Perm.MANAGE_MEMBERS)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the team a name."})
    org = access.organization
    slug = slugify(name)[:60] or "team"
    if Team.objects.filter(organization=org, slug=slug).exists():
        raise ValidationError({"name": f"There is already a team called {name!r}."})
    try:
        return Team.objects.create(organization=org, name=name, slug=slug)
    except IntegrityError:  # created concurrently under the same name
        raise ValidationError({"name": f"There is already a team called {name!r}."}) from None


def rename_team(access: Access, *, team: Team, name: str) -> Team:
    access.require(Perm.MANAGE_MEMBERS)
    if not name.strip():
        raise ValidationError({"name": "Give the team a name."})
    team.name = name.strip()
    team.save(update_fields=["name"])
    return team


def delete_team(access: Access, *, team: Team) -> None:
    access.require(Perm.MANAGE_MEMBERS)
    team.delete()


def add_team_member(access: Access, *, team: Team, user: User) -> None:
    access.require(Perm.MANAGE_MEMBERS)
    if not Membership.objects.filter(organization=access.organization, user=user).exists():
        raise ValidationError({"user": "Only members of the organisation can join its teams."})
    team.members.add(user)


def remove_team_member(access: Access, *, team: Team, user: User) -> None:
    access.require(Perm.MANAGE_MEMBERS)
    team.members.remove(user)


# ---- API tokens ------------------------------------------------------------------------------------


def create_token(
    access: Access,
    *,
    name: str,
    scope: str,
    project_id: object | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is returned here once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the token after where it will be used."})
    if scope not in TokenScope.values:
        raise ValidationError({"scope": f"Choose one of: {', '.join(TokenScope.values)}."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    project = None
    if scope == TokenScope.INGEST:
        access.require(Perm.ISSUE_INGEST_TOKENS)
        if not project_id:
            raise ValidationError({"project": "An ingest token is bound to one project: pick it."})
        project = access.project(project_id)
        if project is None:
            raise ValidationError({"project": "No such project in this organisation."})
    else:
        access.require(Perm.MANAGE_TOKENS)
        if project_id:
            raise ValidationError(
                {"project": "Organisation tokens are not bound to a project; leave it out."}
            )
    secret, prefix, key_hash = ApiToken.generate(scope)
    token = ApiToken.objects.create(
        organization=access.organization,
        project=project,
        name=name,
        scope=scope,
        prefix=prefix,
        last4=secret[-4:],
        key_hash=key_hash,
        created_by=access.user,
        expires_at=expires_at,
    )
    return token, secret


def revoke_token(access: Access, *, token: ApiToken) -> None:
    """Owners and admins revoke any token; others only the ingest tokens they created."""
    if not access.can(Perm.MANAGE_TOKENS):
        access.require(Perm.ISSUE_INGEST_TOKENS)
        own = access.user is not None and token.created_by_id == access.user.pk
        if token.scope != TokenScope.INGEST or not (own or access.token is not None):
            raise PermissionDenied("Only owners and admins can revoke tokens made by others.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        # Forgotten now and again once committed: in between, a request could remember it unrevoked.
        token_cache.revoked()
        transaction.on_commit(token_cache.revoked)


def purge_stale_invitations(*, older_than_days: int = 30) -> int:
    """Delete invitations that expired or were revoked more than `older_than_days` ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = (
        Invitation.objects.filter(accepted_at__isnull=True)
        .filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
        .delete()
    )
    return deleted
