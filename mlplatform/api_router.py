"""Every REST endpoint under /api/v1/, in one place."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from mlplatform.accounts import api as accounts_api

ORG = r"orgs/(?P<org_id>[^/.]+)"

router = SimpleRouter(trailing_slash=False)
router.register("orgs", accounts_api.OrganizationViewSet, basename="org")
router.register(f"{ORG}/members", accounts_api.MemberViewSet, basename="org-member")
router.register(f"{ORG}/invitations", accounts_api.InvitationViewSet, basename="org-invitation")
router.register(f"{ORG}/teams", accounts_api.TeamViewSet, basename="org-team")
router.register(f"{ORG}/tokens", accounts_api.TokenViewSet, basename="org-token")

urlpatterns = [
    path("me", accounts_api.MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
