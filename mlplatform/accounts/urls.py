"""Page URLs for organisations. Everything under /o/<org_slug>/ goes through `views.org_page`."""

from django.urls import path

from mlplatform.accounts import views

ORG = "o/<slug:org_slug>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.profile, name="profile"),
    path("orgs/", views.org_list, name="org_list"),
    path("invitations/<str:key>/", views.invitation_accept, name="invitation_accept"),
    path(ORG, views.org_home, name="org_home"),
    path(ORG + "members/", views.members, name="org_members"),
    path(ORG + "members/<str:user_id>/role/", views.member_role, name="org_member_role"),
    path(ORG + "members/<str:user_id>/remove/", views.member_remove, name="org_member_remove"),
    path(
        ORG + "invitations/<str:invitation_id>/revoke/",
        views.invitation_revoke,
        name="org_invitation_revoke",
    ),
    path(
        ORG + "invitations/<str:invitation_id>/resend/",
        views.invitation_resend,
        name="org_invitation_resend",
    ),
    path(ORG + "teams/", views.teams, name="org_teams"),
    path(ORG + "teams/<slug:team_slug>/", views.team_detail, name="org_team"),
    path(ORG + "teams/<slug:team_slug>/rename/", views.team_rename, name="org_team_rename"),
    path(ORG + "teams/<slug:team_slug>/delete/", views.team_delete, name="org_team_delete"),
    path(
        ORG + "teams/<slug:team_slug>/members/<str:user_id>/remove/",
        views.team_member_remove,
        name="org_team_member_remove",
    ),
    path(ORG + "tokens/", views.tokens, name="org_tokens"),
    path(ORG + "tokens/<str:token_id>/revoke/", views.token_revoke, name="org_token_revoke"),
    path(ORG + "settings/", views.org_settings, name="org_settings"),
    path(ORG + "settings/delete/", views.org_delete, name="org_delete"),
]
