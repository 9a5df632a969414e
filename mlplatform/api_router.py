"""Every REST endpoint under /api/v1/, registered from its viewset in one place."""

from django.urls import include, path
from rest_framework.routers import DynamicRoute, Route, SimpleRouter
from rest_framework.viewsets import ViewSetMixin

from alerts import api as alerts_api
from collector import api as collector_api
from mlplatform.accounts import api as accounts_api
from projects import api as projects_api
from projects import dashboard_api


class ResourceRouter(SimpleRouter):
    """Routes for resources whose prefix names them whole (`projects/{id}/dashboard`,
    `collectors/{id}`): the prefix itself is the list (list, create) or the one object (retrieve,
    update, destroy), named by the basename alone; `@action`s go below it as `{basename}-{url_name}`."""

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={"get": "list", "post": "create"},
            name="{basename}",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={
                "get": "retrieve",
                "put": "update",
                "patch": "partial_update",
                "delete": "destroy",
            },
            name="{basename}",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
        DynamicRoute(
            url=r"^{prefix}/{url_path}{trailing_slash}$",
            name="{basename}-{url_name}",
            detail=True,
            initkwargs={},
        ),
    ]

    def register(
        self, prefix: str, viewset: type[ViewSetMixin], basename: str | None = None
    ) -> None:
        # One object or a list at a prefix, never both: the two routes would share its URL.
        assert not (hasattr(viewset, "list") and hasattr(viewset, "retrieve")), viewset
        super().register(prefix, viewset, basename)


ORG = r"orgs/(?P<org_id>[^/.]+)"
PROJECT = r"projects/(?P<project_id>[^/.]+)"
# Path converters, as these routes always had: an id takes any character but '/'.
ONE_PROJECT = "projects/<str:project_id>"

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

resources = ResourceRouter(trailing_slash=False, use_regex_path=False)
resources.register(f"{ONE_PROJECT}/series", projects_api.SeriesViewSet, basename="project-series")
resources.register(
    f"{ONE_PROJECT}/dashboard", dashboard_api.DashboardViewSet, basename="project-dashboard"
)
resources.register(
    f"{ONE_PROJECT}/collectors",
    collector_api.ProjectCollectorViewSet,
    basename="project-collectors",
)
resources.register(
    "collectors/<str:collector_id>", collector_api.CollectorViewSet, basename="collector"
)

urlpatterns = [
    path("me", accounts_api.MeView.as_view(), name="api-me"),
    *resources.urls,
    path("", include(router.urls)),
]
