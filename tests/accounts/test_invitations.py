"""Invitations: an emailed, expiring, single-use link that works for new and existing users."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mlplatform.accounts import services
from mlplatform.accounts.models import Invitation, Membership, Role, User
from tests.factories import PASSWORD, make_team, make_user

pytestmark = pytest.mark.django_db


def _invite(client, org, email: str, role: str = "member", teams=()) -> str:
    """Invite through the members page; return the link from the email."""
    data: dict[str, Any] = {"email": email, "role": role}
    if teams:
        data["teams"] = [str(t.pk) for t in teams]
    response = client.post(reverse("org_members", args=[org.slug]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    message = mail.outbox[-1]
    assert message.to == [email]
    assert isinstance(message, EmailMultiAlternatives)
    html = message.alternatives[0][0]
    found = re.search(r"http://testserver(/invitations/[^/\s]+/)", str(message.body))
    assert found is not None
    link = found.group(1)
    assert link in str(html)
    return link


def test_an_existing_user_accepts_and_joins_with_the_role_and_teams(
    client_for, acme, alice, charlie
):
    team = make_team(acme, "Risk")
    link = _invite(client_for(alice), acme, charlie.email, "admin", teams=[team])
    assert "Alice invited you to Acme" in mail.outbox[-1].subject

    client = client_for(charlie)
    page = client.get(link)
    assert page.status_code == 200
    assert "Join Acme" in page.content.decode()
    response = client.post(link)
    assert response.status_code == 302
    assert response.url == reverse("org_home", args=[acme.slug])
    assert Membership.objects.get(organization=acme, user=charlie).role == "admin"
    assert team.members.filter(pk=charlie.pk).exists()
    # Single use.
    assert client_for(charlie).get(link).status_code == 410


def test_a_new_user_signs_up_from_the_link_without_a_second_verification(client_for, acme, alice):
    link = _invite(client_for(alice), acme, "newbie@example.com")
    client = Client()
    landing = client.get(link)
    assert landing.status_code == 200
    assert "Create an account" in landing.content.decode()
    signup = client.post(
        f"{reverse('account_signup')}?next={link}",
        {
            "email": "newbie@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "name": "New",
        },
    )
    # The address came from the emailed link, so it counts as verified: signed in straight away.
    assert signup.status_code == 302
    assert signup.url == link  # type: ignore[attr-defined]  # a redirect: its url is not in the stub
    assert client.post(link).status_code == 302
    newbie = User.objects.get(email="newbie@example.com")
    assert Membership.objects.get(organization=acme, user=newbie).role == "member"
    assert newbie.emailaddress_set.get().verified  # type: ignore[attr-defined]  # allauth: no stubs


def test_an_expired_link_is_refused(client_for, acme, alice, charlie):
    link = _invite(client_for(alice), acme, charlie.email)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    page = client_for(charlie).get(link)
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    client_for(charlie).post(link)
    assert not Membership.objects.filter(organization=acme, user=charlie).exists()


def test_an_unknown_link_is_a_404(client_for, charlie):
    assert client_for(charlie).get("/invitations/not-a-key/").status_code == 404


def test_a_revoked_link_is_refused(client_for, acme, alice, charlie):
    link = _invite(client_for(alice), acme, charlie.email)
    invitation = Invitation.objects.get()
    client_for(alice).post(reverse("org_invitation_revoke", args=[acme.slug, invitation.pk]))
    assert client_for(charlie).get(link).status_code == 410


def test_resending_replaces_the_old_link(client_for, acme, alice, charlie):
    first = _invite(client_for(alice), acme, charlie.email)
    invitation = Invitation.objects.get()
    client_for(alice).post(reverse("org_invitation_resend", args=[acme.slug, invitation.pk]))
    found = re.search(r"(/invitations/[^/\s]+/)", str(mail.outbox[-1].body))
    assert found is not None
    second = found.group(1)
    assert first != second
    assert client_for(charlie).get(first).status_code == 410
    assert client_for(charlie).get(second).status_code == 200
    assert Invitation.objects.pending().count() == 1


def test_it_refuses_to_invite_a_member_or_let_admins_invite_owners(api_for, acme, alice, bob):
    response = api_for(alice).post(
        f"/api/v1/orgs/{acme.pk}/invitations", {"email": "BOB@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["email"] == ["bob@example.com is already a member of Acme."]
    carol = make_user("carol@example.com")
    Membership.objects.create(organization=acme, user=carol, role=Role.ADMIN)
    response = api_for(carol).post(
        f"/api/v1/orgs/{acme.pk}/invitations",
        {"email": "boss@example.com", "role": "owner"},
        format="json",
    )
    assert response.status_code == 403
    assert not mail.outbox


def test_invitations_over_the_api(api_for, acme, alice):
    team = make_team(acme, "Risk")
    api = api_for(alice)
    created = api.post(
        f"/api/v1/orgs/{acme.pk}/invitations",
        {"email": "dev@example.com", "role": "viewer", "teams": [str(team.pk)]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["teams"] == [str(team.pk)]
    assert created.json()["status"] == "pending"
    assert len(mail.outbox) == 1
    listed = api.get(f"/api/v1/orgs/{acme.pk}/invitations").json()
    assert [i["email"] for i in listed] == ["dev@example.com"]
    assert api.delete(f"/api/v1/orgs/{acme.pk}/invitations/{listed[0]['id']}").status_code == 204
    assert Invitation.objects.get().status == "revoked"


def test_a_team_of_another_organisation_is_refused(api_for, acme, alice, globex):
    foreign = make_team(globex, "Theirs")
    response = api_for(alice).post(
        f"/api/v1/orgs/{acme.pk}/invitations",
        {"email": "dev@example.com", "teams": [str(foreign.pk)]},
        format="json",
    )
    assert response.status_code == 400
    assert "teams" in response.json()["fields"]


def test_the_link_key_is_stored_only_as_a_hash(client_for, acme, alice):
    link = _invite(client_for(alice), acme, "dev@example.com")
    key = link.strip("/").split("/")[-1]
    invitation = Invitation.objects.get()
    assert key not in str(Invitation.objects.values().get())
    assert Invitation.find(key) == invitation


def test_stale_invitations_are_purged(acme):
    from tests.factories import owner_access

    services.invite(owner_access(acme), email="old@example.com")
    services.invite(owner_access(acme), email="fresh@example.com")
    Invitation.objects.filter(email="old@example.com").update(
        expires_at=timezone.now() - timedelta(days=31)
    )
    assert services.purge_stale_invitations() == 1
    assert list(Invitation.objects.values_list("email", flat=True)) == ["fresh@example.com"]
