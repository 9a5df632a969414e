"""Every REST endpoint under /api/v1/, in one place."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from mlplatform.accounts import api as accounts_api
from projects import api as projects_api

ORG = r"orgs/(?P<org_id>[^/.]+)"
PROJECT = r"projects/(?P<project_id>[^/.]+)"

router = SimpleRouter(trailing_slash=False)
router.register("orgs", accounts_api.OrganizationViewSet, basename="org")
router.register(f"{ORG}/members", accounts_api.MemberViewSet, basename="org-member")
router.register(f"{ORG}/invitations", accounts_api.InvitationViewSet, basename="org-invitation")
router.register(f"{ORG}/teams", accounts_api.TeamViewSet, basename="org-team")
router.register(f"{ORG}/tokens", accounts_api.TokenViewSet, basename="org-token")
router.register(f"{ORG}/projects", projects_api.OrgProjectViewSet, basename="org-project")
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register(f"{PROJECT}/snapshots", projects_api.SnapshotViewSet, basename="project-snapshot")
router.register(f"{PROJECT}/metrics", projects_api.MetricsViewSet, basename="project-metric")

urlpatterns = [
    path("me", accounts_api.MeView.as_view(), name="api-me"),
    path(
        "projects/<str:project_id>/series",
        projects_api.MetricsViewSet.as_view({"get": "points"}),
        name="project-series",
    ),
    path("", include(router.urls)),
]
