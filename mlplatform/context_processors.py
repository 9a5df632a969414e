"""Template context shared by every page: the site's name and the signed-in user's organisations."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"site_name": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["user_memberships"] = user.memberships.select_related("organization").order_by(
            "organization__name"
        )
    return context
