"""Alert pages, under an organisation: /o/<org_slug>/alerts/... and a project's
/o/<org_slug>/projects/<project_id>/alerts/..."""

from django.urls import path

from alerts import views

ORG = "o/<slug:org_slug>/"
PROJECT = ORG + "projects/<str:project_id>/"
CHANNEL = ORG + "alerts/channels/<str:channel_id>/"
RULE = PROJECT + "alerts/<str:rule_id>/"

urlpatterns = [
    path(ORG + "alerts/", views.alert_list, name="alert_list"),
    path(ORG + "alerts/channels/", views.alert_channels, name="alert_channels"),
    path(CHANNEL, views.alert_channel_edit, name="alert_channel_edit"),
    path(CHANNEL + "test/", views.alert_channel_test, name="alert_channel_test"),
    path(CHANNEL + "enable/", views.alert_channel_enable, name="alert_channel_enable"),
    path(CHANNEL + "rotate-secret/", views.alert_channel_rotate, name="alert_channel_rotate"),
    path(CHANNEL + "delete/", views.alert_channel_delete, name="alert_channel_delete"),
    path(PROJECT + "alerts/", views.project_alerts, name="project_alerts"),
    path(RULE, views.alert_rule_detail, name="alert_rule_detail"),
    path(RULE + "enable/", views.alert_rule_enable, name="alert_rule_enable"),
    path(RULE + "delete/", views.alert_rule_delete, name="alert_rule_delete"),
    path(PROJECT + "silences/", views.alert_silence_create, name="alert_silence_create"),
    path(
        PROJECT + "silences/<str:silence_id>/end/",
        views.alert_silence_end,
        name="alert_silence_end",
    ),
]
