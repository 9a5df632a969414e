"""Teams: a project restricted to teams is seen by their members, owners and admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mlplatform.accounts.access import access_for_user
from mlplatform.accounts.models import Role, Team, TokenScope
from tests.factories import add_member, make_project, make_team, make_token, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(acme, bob):
    risk = make_team(acme, "Risk", [bob])
    growth = make_team(acme, "Growth")
    return {
        "open": make_project(acme, "Open to all"),
        "risk": make_project(acme, "Credit", teams=[risk]),
        "growth": make_project(acme, "Churn", teams=[growth]),
        "both": make_project(acme, "Shared", teams=[risk, growth]),
    }


def _visible(user, org) -> set[str]:
    return set(access_for_user(user, slug=org.slug).projects().values_list("name", flat=True))


def test_members_see_unrestricted_projects_and_their_teams(projects, acme, bob, vera):
    assert _visible(bob, acme) == {"Open to all", "Credit", "Shared"}
    assert _visible(vera, acme) == {"Open to all"}


def test_owners_and_admins_see_every_project(projects, acme, alice):
    carol = make_user("carol@example.com")
    add_member(acme, carol, Role.ADMIN)
    everything = {"Open to all", "Credit", "Churn", "Shared"}
    assert _visible(alice, acme) == everything
    assert _visible(carol, acme) == everything


def test_org_tokens_see_everything_and_ingest_tokens_their_project(projects, acme):
    from mlplatform.accounts.access import access_for_token

    read, _ = make_token(acme, TokenScope.READ)
    ingest, _ = make_token(acme, TokenScope.INGEST, project=projects["growth"])

    def names(t):
        return set(access_for_token(t, org_id=acme.pk).projects().values_list("name", flat=True))

    assert names(read) == {"Open to all", "Credit", "Churn", "Shared"}
    assert names(ingest) == {"Churn"}


def test_the_org_home_lists_what_the_member_may_see(client_for, projects, acme, bob):
    page = client_for(bob).get(reverse("org_home", args=[acme.slug])).content.decode()
    for name in ["Open to all", "Credit", "Shared"]:
        assert name in page
    assert "Churn" not in page


def test_joining_a_team_reveals_its_projects(api_for, projects, acme, alice, vera):
    team = projects["growth"].teams.get()
    response = api_for(alice).post(
        f"/api/v1/orgs/{acme.pk}/teams/{team.pk}/members", {"user_id": str(vera.pk)}, format="json"
    )
    assert response.status_code == 200
    assert str(vera.pk) in response.json()["members"]
    assert "Churn" in _visible(vera, acme)
    assert (
        api_for(alice)
        .delete(f"/api/v1/orgs/{acme.pk}/teams/{team.pk}/members/{vera.pk}")
        .status_code
        == 204
    )
    assert "Churn" not in _visible(vera, acme)


def test_only_members_of_the_organisation_join_its_teams(api_for, projects, acme, alice, charlie):
    team = projects["growth"].teams.get()
    response = api_for(alice).post(
        f"/api/v1/orgs/{acme.pk}/teams/{team.pk}/members",
        {"user_id": str(charlie.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"user_id": ["No such member in this organisation."]}


def test_teams_crud_over_the_api(api_for, acme, alice):
    api = api_for(alice)
    created = api.post(f"/api/v1/orgs/{acme.pk}/teams", {"name": "Data Platform"}, format="json")
    assert created.status_code == 201
    assert created.json()["slug"] == "data-platform"
    duplicate = api.post(f"/api/v1/orgs/{acme.pk}/teams", {"name": "Data Platform"}, format="json")
    assert duplicate.status_code == 400
    team_id = created.json()["id"]
    renamed = api.patch(
        f"/api/v1/orgs/{acme.pk}/teams/{team_id}", {"name": "Platform"}, format="json"
    )
    assert renamed.json()["name"] == "Platform"
    assert api.delete(f"/api/v1/orgs/{acme.pk}/teams/{team_id}").status_code == 204
    assert api.get(f"/api/v1/orgs/{acme.pk}/teams").json() == []


def test_teams_in_the_browser(client_for, acme, alice, bob):
    client = client_for(alice)
    response = client.post(reverse("org_teams", args=[acme.slug]), {"name": "Risk"})
    assert response.status_code == 302
    team_url = reverse("org_team", args=[acme.slug, "risk"])
    assert response.url == team_url
    client.post(team_url, {"user": str(bob.pk)})
    page = client.get(team_url).content.decode()
    assert "bob@example.com" in page
    removed = client.post(
        reverse("org_team_member_remove", args=[acme.slug, "risk", bob.pk]), follow=True
    )
    assert "Removed bob@example.com from Risk." in removed.content.decode()
    assert not Team.objects.get(organization=acme, slug="risk").members.exists()
    client.post(reverse("org_team_delete", args=[acme.slug, "risk"]))
    assert client.get(team_url).status_code == 404


def test_the_teams_page_counts_only_the_projects_the_member_may_see(
    client_for, projects, acme, bob
):
    outsider = make_user("otto@example.com")
    add_member(acme, outsider, Role.MEMBER)
    page = client_for(outsider).get(reverse("org_teams", args=[acme.slug])).content.decode()
    assert "0 projects" in page
    assert "2 projects" not in page  # Risk's Credit and Shared, Growth's Churn and Shared
    bob_page = client_for(bob).get(reverse("org_teams", args=[acme.slug])).content.decode()
    assert "2 projects" in bob_page  # Risk's two, both his to see
