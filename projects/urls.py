"""Project pages, under an organisation: /o/<org_slug>/projects/..."""

from django.urls import path

from projects import snapshot_pages, views

ORG = "o/<slug:org_slug>/"

urlpatterns = [
    # The project list is the organisation's home page; its own address leads there.
    path(ORG + "projects/", views.project_list, name="project_list"),
    path(ORG + "projects/new/", views.project_create, name="project_create"),
    path(ORG + "projects/<str:project_id>/", views.project_detail, name="project_detail"),
    path(
        ORG + "projects/<str:project_id>/snapshots/",
        snapshot_pages.snapshot_list,
        name="snapshot_list",
    ),
    path(
        ORG + "projects/<str:project_id>/snapshots/<str:snapshot_id>/",
        snapshot_pages.snapshot_detail,
        name="snapshot_detail",
    ),
    path(
        ORG + "projects/<str:project_id>/settings/", views.project_settings, name="project_settings"
    ),
    path(ORG + "projects/<str:project_id>/teams/", views.project_teams, name="project_teams"),
    path(ORG + "projects/<str:project_id>/archive/", views.project_archive, name="project_archive"),
    path(ORG + "projects/<str:project_id>/delete/", views.project_delete, name="project_delete"),
]
