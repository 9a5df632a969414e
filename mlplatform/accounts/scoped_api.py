"""The base API viewsets: resolve the organisation once and scope every query to it, failing closed.

Subclasses declare `queryset`, `org_field` (the lookup path from their model to its organisation) and
the permission each action needs; `ProjectScopedViewSet`, for a project's objects, knows the path and
the project already. They cannot override `initial`, `get_queryset` or `get_object`: class
creation fails if they try. To narrow a queryset further they override `scope_queryset`, whose
result is filtered by the organisation again, so no subclass can widen what a caller sees.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.viewsets import GenericViewSet

from mlplatform.accounts.access import (
    Access,
    Perm,
    access_for_project,
    access_for_request,
    get_or_404,
)
from mlplatform.api_schema import ApiMetadata

_SEALED = ("initial", "get_queryset", "get_object")
# "metadata" is DRF's name for OPTIONS: what the endpoint is, which anyone who reads it may know.
_READ_ACTIONS = ("list", "retrieve", "metadata")


class OrgScopedViewSet[M: Model](GenericViewSet):
    """Views under `/api/v1/orgs/{org_id}/...`; `self.access` says who calls and what they may do.

    `M` is the model of the subclass's `queryset`, the type `get_object()` returns."""

    org_field: ClassVar[str] = "organization"
    # The permission each action needs; actions not listed need READ to list or retrieve and
    # `default_permission` for anything else.
    action_permissions: ClassVar[dict[str, Perm]] = {}
    default_permission: ClassVar[Perm] = Perm.WRITE
    access: Access
    queryset: QuerySet[M] | None  # subclasses set a QuerySet, never a bare manager
    metadata_class = ApiMetadata  # OPTIONS reads no serializer and no object

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [name for name in _SEALED if name in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}: tenant scoping lives there. "
                "Override scope_queryset() to narrow the queryset instead."
            )

    def resolve_access(self, request: Request) -> Access:
        return access_for_request(request, org_id=self.kwargs["org_id"])

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: no access without it
        self.access = self.resolve_access(request)
        self.access.require(self.permission_for(self.action or ""))

    @classmethod
    def permission_for(cls, action: str) -> Perm:
        if action in cls.action_permissions:
            return cls.action_permissions[action]
        return Perm.READ if action in _READ_ACTIONS else cls.default_permission

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow the organisation's objects further (for example to visible projects)."""
        return queryset

    def get_queryset(self) -> QuerySet[Any]:
        assert self.queryset is not None, f"{type(self).__name__} needs a queryset"
        in_org = {self.org_field: self.access.organization}
        return self.scope_queryset(self.queryset.all().filter(**in_org)).filter(**in_org)

    def get_object(self) -> M:
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        try:
            obj = (
                self.filter_queryset(self.get_queryset())
                .filter(**{self.lookup_field: self.kwargs[lookup_url_kwarg]})
                .first()
            )
        except (ValidationError, ValueError):  # a malformed id is just another missing object
            obj = None
        if obj is None:
            raise Http404("No such object in this organisation.")
        self.check_object_permissions(self.request, obj)
        return obj


class ProjectScopedViewSet[M: Model](OrgScopedViewSet[M]):
    """Views of one project's objects (under /api/v1/projects/{project_id}/ by default): the
    organisation comes from the project, which the caller must see (teams, an ingest token's own
    project), else 404; the queryset's model has a `project`."""

    org_field: ClassVar[str] = "project__organization"
    # What the 404 names when the object the URL starts from is missing or hidden.
    missing: ClassVar[str] = "project"
    project: Any

    def resolve_project(self) -> Any:
        """The project the URL names (subclasses reach it through another object)."""
        projects = apps.get_model("projects", "Project").objects.all()
        return get_or_404(projects, self.kwargs["project_id"], "project")

    def resolve_access(self, request: Request) -> Access:
        self.project = self.resolve_project()
        return access_for_project(request, self.project, missing=f"No such {self.missing}.")

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(project=self.project)
