"""Collector pages, under a project: /o/<org_slug>/projects/<project_id>/collectors/..."""

from django.urls import path

from collector import views

PROJECT = "o/<slug:org_slug>/projects/<str:project_id>/"
COLLECTOR = PROJECT + "collectors/<str:collector_id>/"

urlpatterns = [
    path(PROJECT + "collectors/", views.project_collectors, name="project_collectors"),
    path(COLLECTOR, views.collector_detail, name="collector_detail"),
    path(COLLECTOR + "enable/", views.collector_enable, name="collector_enable"),
    path(COLLECTOR + "delete/", views.collector_delete, name="collector_delete"),
    path(COLLECTOR + "reference/", views.collector_reference, name="collector_reference"),
    path(COLLECTOR + "run/", views.collector_run, name="collector_run"),
]
