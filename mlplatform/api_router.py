"""Every REST endpoint under /api/v1/, in one place."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from alerts import api as alerts_api
from collector import api as collector_api
from mlplatform.accounts import api as accounts_api
from projects import api as projects_api
from projects import dashboard_api

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
router.register(f"{ORG}/alert-channels", alerts_api.ChannelViewSet, basename="org-alert-channel")
router.register(f"{PROJECT}/alert-rules", alerts_api.RuleViewSet, basename="project-alert-rule")
router.register(f"{PROJECT}/alerts", alerts_api.AlertViewSet, basename="project-alert")
router.register(f"{PROJECT}/silences", alerts_api.SilenceViewSet, basename="project-silence")

COLLECTOR = "collectors/<str:collector_id>"

urlpatterns = [
    path("me", accounts_api.MeView.as_view(), name="api-me"),
    path(
        "projects/<str:project_id>/series",
        projects_api.MetricsViewSet.as_view({"get": "points"}),
        name="project-series",
    ),
    path(
        "projects/<str:project_id>/dashboard",
        dashboard_api.DashboardViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="project-dashboard",
    ),
    path(
        "projects/<str:project_id>/dashboard/panels",
        dashboard_api.DashboardViewSet.as_view({"post": "add_panel"}),
        name="project-dashboard-panels",
    ),
    path(
        "projects/<str:project_id>/dashboard/panels/<str:panel_id>",
        dashboard_api.DashboardViewSet.as_view({"delete": "delete_panel"}),
        name="project-dashboard-panel",
    ),
    path(
        "projects/<str:project_id>/dashboard/presets",
        dashboard_api.DashboardViewSet.as_view({"get": "presets", "post": "add_presets"}),
        name="project-dashboard-presets",
    ),
    path(
        "projects/<str:project_id>/dashboard/data",
        dashboard_api.DashboardViewSet.as_view({"get": "data"}),
        name="project-dashboard-data",
    ),
    path(
        "projects/<str:project_id>/dashboard/choices",
        dashboard_api.DashboardViewSet.as_view({"get": "choices"}),
        name="project-dashboard-choices",
    ),
    path(
        "projects/<str:project_id>/collectors",
        collector_api.ProjectCollectorViewSet.as_view({"get": "list", "post": "create"}),
        name="project-collectors",
    ),
    path(
        COLLECTOR,
        collector_api.CollectorViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="collector",
    ),
    path(
        f"{COLLECTOR}/reference",
        collector_api.CollectorViewSet.as_view({"get": "reference", "put": "upload_reference"}),
        name="collector-reference",
    ),
    path(
        f"{COLLECTOR}/data",
        collector_api.CollectorViewSet.as_view({"post": "data"}),
        name="collector-data",
    ),
    path(
        f"{COLLECTOR}/labels",
        collector_api.CollectorViewSet.as_view({"post": "labels"}),
        name="collector-labels",
    ),
    path(
        f"{COLLECTOR}/run",
        collector_api.CollectorViewSet.as_view({"post": "run"}),
        name="collector-run",
    ),
    path(
        f"{COLLECTOR}/runs",
        collector_api.CollectorViewSet.as_view({"get": "runs"}),
        name="collector-runs",
    ),
    path("", include(router.urls)),
]
