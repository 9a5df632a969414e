"""The base API viewset: resolves the organisation once and scopes every query to it, failing closed.

Subclasses declare `queryset`, `org_field` (the lookup path from their model to its organisation) and
the permission each action needs. They cannot override `initial`, `get_queryset` or `get_object`:
class creation fails if they try. To narrow a queryset further they override `scope_queryset`, whose
result is filtered by the organisation again, so no subclass can widen what a caller sees.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.viewsets import GenericViewSet

from mlplatform.accounts.access import Access, Perm, access_for_request

_SEALED = ("initial", "get_queryset", "get_object")


class OrgScopedViewSet(GenericViewSet):
    """Views under `/api/v1/orgs/{org_id}/...`; `self.access` says who calls and what they may do."""

    org_field: ClassVar[str] = "organization"
    # The permission each action needs; actions not listed need `default_permission`.
    action_permissions: ClassVar[dict[str, Perm]] = {"list": Perm.READ, "retrieve": Perm.READ}
    default_permission: ClassVar[Perm] = Perm.WRITE
    access: Access

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
        self.access.require(self.action_permissions.get(self.action or "", self.default_permission))

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow the organisation's objects further (for example to visible projects)."""
        return queryset

    def get_queryset(self) -> QuerySet[Any]:
        assert self.queryset is not None, f"{type(self).__name__} needs a queryset"
        in_org = {self.org_field: self.access.organization}
        return self.scope_queryset(self.queryset.all().filter(**in_org)).filter(**in_org)

    def get_object(self) -> Model:
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
