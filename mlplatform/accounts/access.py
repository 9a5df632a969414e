"""The one access layer: which organisation a request reaches, and what it may do there.

Pages, API views and websocket consumers all resolve the tenant here, from the URL (a slug or an id)
and the signed-in user or API token, never from the request body. An organisation the caller does not
belong to raises `Http404`, never a 403 that would confirm it exists. Inside an organisation, a missing
permission raises `PermissionDenied` (403): the caller already knows the object is there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from mlplatform.accounts.models import ApiToken, Membership, Organization, Role, TokenScope, User


class Perm(StrEnum):
    READ = "read"  # see the organisation, its members, projects and data
    WRITE = "write"  # change projects, dashboards and alert rules
    INGEST = "ingest"  # push snapshots and collector data
    ISSUE_INGEST_TOKENS = "issue_ingest_tokens"  # create ingest tokens for visible projects
    MANAGE_MEMBERS = "manage_members"  # invitations, roles, removals, teams
    MANAGE_TOKENS = "manage_tokens"  # org tokens, and revoking anyone's token
    MANAGE_ORG = "manage_org"  # rename the organisation, change its slug
    MANAGE_PROJECTS = (
        "manage_projects"  # archive and delete projects and snapshots, restrict to teams
    )
    DELETE_ORG = "delete_org"


_VIEWER = frozenset({Perm.READ})
_MEMBER = _VIEWER | {Perm.WRITE, Perm.INGEST, Perm.ISSUE_INGEST_TOKENS}
_ADMIN = _MEMBER | {Perm.MANAGE_MEMBERS, Perm.MANAGE_TOKENS, Perm.MANAGE_ORG, Perm.MANAGE_PROJECTS}
_OWNER = _ADMIN | {Perm.DELETE_ORG}

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.VIEWER: _VIEWER,
    Role.MEMBER: _MEMBER,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

# Tokens never manage people, organisations or org tokens: those stay with signed-in humans.
TOKEN_PERMS: dict[str, frozenset[Perm]] = {
    TokenScope.INGEST: frozenset({Perm.INGEST}),
    TokenScope.READ: frozenset({Perm.READ}),
    TokenScope.WRITE: frozenset({Perm.READ, Perm.WRITE, Perm.INGEST, Perm.ISSUE_INGEST_TOKENS}),
}

_REFUSALS = {
    Perm.MANAGE_MEMBERS: "Only owners and admins can manage members, invitations and teams.",
    Perm.MANAGE_TOKENS: "Only owners and admins can manage organisation tokens.",
    Perm.MANAGE_ORG: "Only owners and admins can change the organisation's settings.",
    Perm.MANAGE_PROJECTS: "Only owners and admins can archive or delete projects and snapshots.",
    Perm.DELETE_ORG: "Only owners can delete the organisation.",
}


@dataclass(frozen=True)
class Access:
    """What one caller (a user with a role, or a token) may do in one organisation."""

    organization: Organization
    user: User | None = None
    role: Role | None = None
    token: ApiToken | None = None
    _projects_found: dict[uuid.UUID, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def perms(self) -> frozenset[Perm]:
        if self.token is not None:
            return TOKEN_PERMS[self.token.scope]
        assert self.role is not None
        return ROLE_PERMS[self.role]

    def can(self, perm: Perm) -> bool:
        return perm in self.perms

    def require(self, perm: Perm) -> None:
        if self.can(perm):
            return
        if self.token is not None:
            if self.token.scope == TokenScope.INGEST:
                message = "An ingest token can only push data to its project."
            elif perm in _REFUSALS:
                message = f"{_REFUSALS[perm]} Tokens cannot."
            else:
                message = f"This token's scope ({self.token.scope}) does not allow that."
        elif self.role is Role.VIEWER:
            message = "Viewers can look but not change anything."
        else:
            message = _REFUSALS.get(perm, "You do not have permission to do that.")
        raise PermissionDenied(message)

    @property
    def is_owner(self) -> bool:
        return self.token is None and self.role is Role.OWNER

    def projects(self) -> QuerySet[Any]:
        """The organisation's projects this caller may see (see `ProjectQuerySet.for_access`)."""
        # Looked up in the app registry: the projects app depends on accounts, not the reverse.
        return apps.get_model("projects", "Project").objects.for_access(self)

    def project(self, project_id: Any) -> Any:
        """One visible project by id, or None (a malformed id is just a missing project).

        Looked up once per `Access` (one request): a page's decorator and its view share it."""
        parsed = parse_uuid(project_id)
        if parsed is None:
            return None
        if parsed not in self._projects_found:
            self._projects_found[parsed] = self.projects().filter(pk=parsed).first()
        return self._projects_found[parsed]

    def visible(self, queryset: QuerySet[Any], *, via: str = "project") -> QuerySet[Any]:
        """`queryset` without the objects of projects this caller may not see (teams).

        `via` is the lookup path from the model to its project; objects tied to no project (an
        organisation token, a channel's test message) stay. Every organisation-wide listing of
        objects that name a project goes through here, so team restriction hides it everywhere.
        """
        return queryset.filter(Q(**{f"{via}__isnull": True}) | Q(**{f"{via}__in": self.projects()}))


def parse_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def find(queryset: QuerySet[Any], object_id: Any, *, field: str = "pk") -> Any:
    """The object of `queryset` whose `field` is the UUID `object_id`, or None (a malformed id is
    just a missing object)."""
    parsed = parse_uuid(object_id)
    return None if parsed is None else queryset.filter(**{field: parsed}).first()


def get_or_404(queryset: QuerySet[Any], object_id: Any, what: str, *, field: str = "pk") -> Any:
    """Like `find`, but a missing object raises `Http404("No such <what>.")`."""
    found = find(queryset, object_id, field=field)
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def access_for_user(user: User, *, slug: str | None = None, org_id: Any = None) -> Access:
    """The user's access to the organisation named by `slug` or `org_id`; 404 if not a member."""
    if not user.is_authenticated:
        raise Http404("No such organisation.")
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if slug is not None:
        memberships = memberships.filter(organization__slug=slug)
    else:
        parsed = parse_uuid(org_id)
        if parsed is None:
            raise Http404("No such organisation.")
        memberships = memberships.filter(organization_id=parsed)
    membership = memberships.first()
    if membership is None:
        raise Http404("No such organisation.")
    return Access(organization=membership.organization, user=user, role=Role(membership.role))


def access_for_token(token: ApiToken, *, org_id: Any) -> Access:
    """A token's access to the organisation `org_id`: only its own; 404 for any other."""
    if parse_uuid(org_id) != token.organization_id:
        raise Http404("No such organisation.")
    return Access(organization=token.organization, token=token)


def access_for_request(request: Any, *, org_id: Any) -> Access:
    """Access for an API request authenticated by a token (`request.auth`) or a session."""
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken):
        return access_for_token(token, org_id=org_id)
    return access_for_user(request.user, org_id=org_id)


def access_for_project(request: Any, project: Any, *, missing: str = "No such project.") -> Access:
    """The caller's access to the organisation of `project`, which they must see (teams, an ingest
    token's own project); else `Http404(missing)`, for a project of another organisation too
    (the caller is asking about a project, and learns nothing of whose it is)."""
    try:
        access = access_for_request(request, org_id=project.organization_id)
    except Http404:
        raise Http404(missing) from None
    if access.token is not None:
        # A token sees its organisation's projects, an ingest token its own: no query needed.
        visible = access.token.project_id in (None, project.pk)
    else:
        visible = access.projects().filter(pk=project.pk).exists()
    if not visible:
        raise Http404(missing)
    return access
