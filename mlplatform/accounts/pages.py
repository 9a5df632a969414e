"""Page access: the organisation a page's URL names, the caller's `Access` there, and its projects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mlplatform.accounts.access import Access, Perm, access_for_user
from mlplatform.accounts.models import User
from mlplatform.querystring import QueryError

OrgView = Callable[..., HttpResponse]


class AuthenticatedHttpRequest(HttpRequest):
    """A request to a view behind `login_required`, for the type checker: its user is a `User`."""

    user: User


class OrgRequest(AuthenticatedHttpRequest):
    """A request to an `org_page` view: the decorator sets `access` for the templates' navigation."""

    access: Access


def org_page(perm: Perm = Perm.READ) -> Callable[[OrgView], OrgView]:
    """Resolve `org_slug` to the signed-in user's `Access` (404 for non-members) and require `perm`.

    A page under a project (a `project_id` in its URL) answers 404 for a project the caller does
    not see, not 403, so a refusal never confirms that a hidden project exists. A query parameter
    the view refuses (`QueryError`) is the 400 page, which names it.
    """

    def decorator(view: OrgView) -> OrgView:
        @login_required
        @wraps(view)
        def wrapper(request: OrgRequest, org_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            access = access_for_user(request.user, slug=org_slug)
            if "project_id" in kwargs:
                get_project(access, kwargs["project_id"])  # before a 403 or a 405 could answer
            access.require(perm)
            if request.user.last_organization_id != access.organization.pk:
                User.objects.filter(pk=request.user.pk).update(
                    last_organization=access.organization
                )
            request.access = access  # for the navigation in templates
            try:
                return view(request, access, *args, **kwargs)
            except QueryError as exc:
                return render(request, "400.html", {"error": exc}, status=400)

        return wrapper

    return decorator


def get_project(access: Access, project_id: Any) -> Any:
    """A project the caller sees (teams), by the id in the URL; else `Http404("No such project.")`."""
    project = access.project(project_id)
    if project is None:
        raise Http404("No such project.")
    return project
