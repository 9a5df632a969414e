"""The Evidently-compatible routes, served twice by the URL configuration: under `/evidently/`
and at the site root.

Evidently's client builds each URL with `urljoin(base_url, "/api/...")`, which drops any path
of `base_url`: `RemoteWorkspace("https://host/evidently")` asks for `https://host/api/version`.
So the routes are served where the client really asks, at the root (none of them collides with
our own `/api/v1/`, `/api/schema/` and `/api/docs/`), and under `/evidently/` for a proxy or a
client that keeps the prefix.
"""

from __future__ import annotations

from django.urls import path

from evidently_compat import views

urlpatterns = [
    path("api/version", views.VersionView.as_view(), name="evidently-version"),
    path("api/users/login", views.LoginView.as_view(), name="evidently-login"),
    path("api/v2/projects", views.ProjectListView.as_view(), name="evidently-projects"),
    path("api/v2/projects/<str:project_id>", views.ProjectView.as_view(), name="evidently-project"),
    path(
        "api/projects/search/<str:name>",
        views.ProjectSearchView.as_view(),
        name="evidently-project-search",
    ),
    path(
        "api/projects/<str:project_id>/info",
        views.ProjectInfoView.as_view(),
        name="evidently-project-info",
    ),
    path(
        "api/v2/snapshots/<str:project_id>",
        views.SnapshotView.as_view(),
        name="evidently-snapshots",
    ),
    path(
        "api/v2/dashboards/<str:project_id>",
        views.DashboardView.as_view(),
        name="evidently-dashboard",
    ),
]
