"""Roles: owners and admins manage members; only owners touch owners; the last owner stays."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mlplatform.accounts.models import Membership, Role
from tests.factories import add_member, make_team, make_user

pytestmark = pytest.mark.django_db


def _role(org, user) -> str | None:
    membership = Membership.objects.filter(organization=org, user=user).first()
    return membership.role if membership else None


def test_an_admin_changes_a_members_role_in_the_browser(client_for, acme, alice, bob):
    carol = make_user("carol@example.com")
    add_member(acme, carol, Role.ADMIN)
    response = client_for(carol).post(
        reverse("org_member_role", args=[acme.slug, bob.pk]), {"role": "viewer"}
    )
    assert response.status_code == 302
    assert _role(acme, bob) == "viewer"


def test_an_admin_cannot_make_owners_or_touch_them(api_for, acme, alice, bob):
    carol = make_user("carol@example.com")
    add_member(acme, carol, Role.ADMIN)
    api = api_for(carol)
    promote = api.patch(
        f"/api/v1/orgs/{acme.pk}/members/{bob.pk}", {"role": "owner"}, format="json"
    )
    assert promote.status_code == 403
    demote = api.patch(
        f"/api/v1/orgs/{acme.pk}/members/{alice.pk}", {"role": "member"}, format="json"
    )
    assert demote.status_code == 403
    assert api.delete(f"/api/v1/orgs/{acme.pk}/members/{alice.pk}").status_code == 403
    assert (_role(acme, bob), _role(acme, alice)) == ("member", "owner")


def test_an_owner_makes_another_owner_then_steps_down(api_for, acme, alice, bob):
    api = api_for(alice)
    assert (
        api.patch(
            f"/api/v1/orgs/{acme.pk}/members/{bob.pk}", {"role": "owner"}, format="json"
        ).status_code
        == 200
    )
    response = api.patch(
        f"/api/v1/orgs/{acme.pk}/members/{alice.pk}", {"role": "admin"}, format="json"
    )
    assert response.status_code == 200
    assert (_role(acme, bob), _role(acme, alice)) == ("owner", "admin")


def test_the_last_owner_cannot_be_demoted_or_removed_or_leave(api_for, client_for, acme, alice):
    api = api_for(alice)
    demote = api.patch(
        f"/api/v1/orgs/{acme.pk}/members/{alice.pk}", {"role": "admin"}, format="json"
    )
    assert demote.status_code == 400
    assert demote.json()["fields"] == {
        "role": ["This is the last owner: make someone else an owner first."]
    }
    leave = api.delete(f"/api/v1/orgs/{acme.pk}/members/{alice.pk}")
    assert leave.status_code == 400
    assert "last owner" in leave.json()["detail"]
    page = client_for(alice).post(
        reverse("org_member_remove", args=[acme.slug, alice.pk]), follow=True
    )
    assert "The last owner cannot be removed" in page.content.decode()
    assert _role(acme, alice) == "owner"


def test_removing_a_member_takes_them_off_the_organisations_teams(api_for, acme, alice, bob):
    team = make_team(acme, "Risk", [bob])
    assert api_for(alice).delete(f"/api/v1/orgs/{acme.pk}/members/{bob.pk}").status_code == 204
    assert _role(acme, bob) is None
    assert not team.members.filter(pk=bob.pk).exists()


def test_a_member_cannot_manage_members(api_for, acme, bob, vera):
    api = api_for(bob)
    assert (
        api.patch(
            f"/api/v1/orgs/{acme.pk}/members/{vera.pk}", {"role": "admin"}, format="json"
        ).status_code
        == 403
    )
    assert api.delete(f"/api/v1/orgs/{acme.pk}/members/{vera.pk}").status_code == 403
    assert (
        api.post(
            f"/api/v1/orgs/{acme.pk}/invitations", {"email": "x@example.com"}, format="json"
        ).status_code
        == 403
    )


def test_a_bad_role_is_named(api_for, acme, alice, bob):
    response = api_for(alice).patch(
        f"/api/v1/orgs/{acme.pk}/members/{bob.pk}", {"role": "emperor"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["role"]


def test_members_list_over_the_api(api_for, acme, bob):
    members = api_for(bob).get(f"/api/v1/orgs/{acme.pk}/members").json()
    assert [(m["user"]["email"], m["role"]) for m in members] == [
        ("alice@example.com", "owner"),
        ("bob@example.com", "member"),
        ("vera@example.com", "viewer"),
    ]


def test_the_members_page_offers_management_to_admins_only(client_for, acme, alice, bob):
    as_owner = client_for(alice).get(reverse("org_members", args=[acme.slug])).content.decode()
    assert "Invite someone" in as_owner
    assert f'aria-label="Role of {bob.email}"' in as_owner
    as_member = client_for(bob).get(reverse("org_members", args=[acme.slug])).content.decode()
    assert "Invite someone" not in as_member
    assert "Role of" not in as_member
