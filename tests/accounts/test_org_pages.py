"""The organisation pages: switcher, creation, settings, deletion, tokens and the profile."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mlplatform.accounts.models import ApiToken, Organization
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def test_every_page_renders_for_the_owner(client_for, acme, alice):
    client = client_for(alice)
    for name in ["org_home", "org_members", "org_teams", "org_tokens", "org_settings"]:
        response = client.get(reverse(name, args=[acme.slug]))
        assert response.status_code == 200, name
        assert "Acme" in response.content.decode()
    assert client.get(reverse("org_list")).status_code == 200
    assert client.get(reverse("profile")).status_code == 200


def test_pages_need_a_login(acme):
    from django.test import Client

    response = Client().get(reverse("org_members", args=[acme.slug]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))  # type: ignore[attr-defined]  # a redirect: its url is not in the stub


def test_creating_an_organisation_and_switching_to_it(client_for, acme, alice):
    client = client_for(alice)
    response = client.post(reverse("org_list"), {"name": "Acme Labs"})
    labs = Organization.objects.get(name="Acme Labs")
    assert response.url == reverse("org_home", args=[labs.slug])
    switcher = client.get(reverse("org_home", args=[labs.slug])).content.decode()
    assert reverse("org_home", args=[acme.slug]) in switcher
    # "/" goes to the organisation opened last.
    client.get(reverse("org_home", args=[acme.slug]))
    assert client.get("/").url == reverse("org_home", args=[acme.slug])


def test_renaming_and_readdressing_the_organisation(client_for, acme, alice, globex):
    client = client_for(alice)
    taken = client.post(
        reverse("org_settings", args=[acme.slug]), {"name": "Acme", "slug": globex.slug}
    )
    assert "is taken" in taken.content.decode()
    done = client.post(
        reverse("org_settings", args=[acme.slug]), {"name": "Acme Corp", "slug": "acme-corp"}
    )
    assert done.url == reverse("org_settings", args=["acme-corp"])
    acme.refresh_from_db()
    assert (acme.name, acme.slug) == ("Acme Corp", "acme-corp")


def test_deleting_needs_the_typed_address_and_an_owner(client_for, acme, alice, bob):
    url = reverse("org_delete", args=[acme.slug])
    assert client_for(bob).post(url, {"confirm": acme.slug}).status_code == 403
    client_for(alice).post(url, {"confirm": "nope"})
    assert Organization.objects.filter(pk=acme.pk).exists()
    client_for(alice).post(url, {"confirm": acme.slug})
    assert not Organization.objects.filter(pk=acme.pk).exists()


def test_creating_a_token_in_the_browser_shows_it_once(client_for, acme, alice):
    project = make_project(acme, "Churn")
    client = client_for(alice)
    response = client.post(
        reverse("org_tokens", args=[acme.slug]),
        {"name": "batch", "scope": "ingest", "project": str(project.pk), "expires": "90"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    page = response.content.decode()
    token = ApiToken.objects.get()
    secret = page.split('data-testid="token-secret">')[1].split("<")[0]
    assert secret.startswith("mlp_ing_")
    assert ApiToken.find(secret) == token
    assert token.expires_at is not None
    assert (token.expires_at - token.created_at).days == 89 or (
        token.expires_at - token.created_at
    ).days == 90
    listing = client.get(reverse("org_tokens", args=[acme.slug])).content.decode()
    assert secret not in listing
    assert token.display in listing


def test_a_member_is_offered_ingest_tokens_only(client_for, acme, bob):
    page = client_for(bob).get(reverse("org_tokens", args=[acme.slug])).content.decode()
    assert 'value="ingest"' in page
    assert 'value="read"' not in page
    response = client_for(bob).post(
        reverse("org_tokens", args=[acme.slug]), {"name": "x", "scope": "read", "expires": "30"}
    )
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_revoking_a_token_in_the_browser(client_for, acme, alice):
    from mlplatform.accounts.models import TokenScope
    from tests.factories import make_token

    token, _ = make_token(acme, TokenScope.READ)
    client_for(alice).post(reverse("org_token_revoke", args=[acme.slug, token.pk]))
    token.refresh_from_db()
    assert token.status == "revoked"


def test_the_profile_page_renames_the_user(client_for, alice):
    client_for(alice).post(reverse("profile"), {"name": "Alice Liddell"})
    alice.refresh_from_db()
    assert alice.name == "Alice Liddell"


def test_an_unknown_page_is_a_404_page(client_for, alice):
    response = client_for(alice).get("/o/no-such-org/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
