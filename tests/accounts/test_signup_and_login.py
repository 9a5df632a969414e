"""Sign-up with email verification creates a personal organisation; logins are throttled."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.test import Client
from django.urls import reverse

from mlplatform.accounts.models import Membership, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_up(client: Client, email: str = "Dana@Example.com", name: str = "Dana"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "name": name},
    )


def test_sign_up_needs_email_verification_then_lands_in_a_personal_organisation():
    client = Client()
    response = _sign_up(client)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert user.email == "dana@example.com"
    assert user.name == "Dana"
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == "owner"
    assert membership.organization.name == "Dana's organisation"

    # Not signed in until the address is verified.
    assert client.get("/").url == reverse("account_login")  # type: ignore[attr-defined]  # a redirect: its url is not in the stub
    login = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert login.url == reverse("account_email_verification_sent")  # type: ignore[attr-defined]  # a redirect: its url is not in the stub

    link = re.search(
        r"http://testserver(/accounts/confirm-email/[^/\s]+/)", str(mail.outbox[-1].body)
    )
    assert link is not None
    confirm = client.post(link.group(1))
    assert confirm.status_code == 302
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == reverse("org_home", args=[membership.organization.slug])
    assert "Dana&#x27;s organisation" in home.content.decode()


def test_passwords_are_hashed_with_argon2():
    _sign_up(Client())
    assert identify_hasher(User.objects.get().password).algorithm == "argon2"


def test_an_email_is_taken_once_whatever_its_case(alice):
    # The page does not reveal that the address has an account (no enumeration); the owner of
    # the address is told by email instead.
    _sign_up(Client(), email="ALICE@example.com")
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1
    assert mail.outbox[-1].to == ["alice@example.com"]
    assert "already" in mail.outbox[-1].body


def test_the_demo_style_login_works(alice):
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # on to the organisation list (Alice has none)


def test_failed_logins_are_throttled_per_account(alice):
    client = Client()
    for _ in range(5):
        failed = client.post(reverse("account_login"), {"login": alice.email, "password": "wrong"})
        assert failed.status_code == 200
    # Even the right password is refused now: the account is locked for a while.
    locked = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert locked.status_code == 200
    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_throttled_per_address(alice):
    client = Client()
    for i in range(10):  # ten different accounts from one address
        page = client.post(
            reverse("account_login"), {"login": f"u{i}@example.com", "password": "x"}
        )
        assert "Too many failed login attempts" not in page.content.decode()
    locked = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lock_out_holds_only_for_the_address_that_tried(alice):
    # Someone who knows alice's address guesses her password from A: A is locked out of her
    # account, but alice herself, signing in from B, is not.
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        failed = attacker.post(
            reverse("account_login"), {"login": alice.email, "password": "wrong"}
        )
        assert "Too many failed login attempts" not in failed.content.decode()
    locked = attacker.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in attacker.session

    owner = Client(REMOTE_ADDR="198.51.100.20")
    signed_in = owner.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert owner.session["_auth_user_id"] == str(alice.pk)


def test_an_ipv6_client_is_counted_by_its_network(alice):
    # One host holds a whole /64: rotating through it does not reset the count.
    for i in range(5):
        Client(REMOTE_ADDR=f"2001:db8:0:1::{i + 1}").post(
            reverse("account_login"), {"login": alice.email, "password": "wrong"}
        )
    same_network = Client(REMOTE_ADDR="2001:db8:0:1::99")
    locked = same_network.post(
        reverse("account_login"), {"login": alice.email, "password": PASSWORD}
    )
    assert "Too many failed login attempts" in locked.content.decode()
    other_network = Client(REMOTE_ADDR="2001:db8:0:2::1")
    signed_in = other_network.post(
        reverse("account_login"), {"login": alice.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 302


def test_one_address_trying_many_accounts_is_still_throttled(alice):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(10):  # ten accounts, two guesses each would be over any per-account limit
        page = attacker.post(
            reverse("account_login"), {"login": f"u{i}@example.com", "password": "x"}
        )
        assert "Too many failed login attempts" not in page.content.decode()
    for email in ["u10@example.com", alice.email]:
        locked = attacker.post(reverse("account_login"), {"login": email, "password": "x"})
        assert "Too many failed login attempts" in locked.content.decode()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.20")
    signed_in = other.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert signed_in.status_code == 302


def test_login_attempts_of_any_kind_are_capped_with_429(db):
    client = Client()
    statuses = {
        client.post(
            reverse("account_login"), {"login": "x@example.com", "password": "x"}
        ).status_code
        for _ in range(31)
    }
    assert 429 in statuses


def test_closed_sign_ups_still_admit_invited_people(settings):
    settings.ALLOW_SIGNUPS = False
    response = _sign_up(Client())
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode()
    assert not User.objects.exists()


def test_password_reset_sends_a_working_link(alice):
    client = Client()
    client.post(reverse("account_reset_password"), {"email": alice.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/[^\s]+/)", str(mail.outbox[-1].body)
    )
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    action = form.redirect_chain[-1][0] if form.redirect_chain else link.group(1)
    new = "a-brand-new-passphrase-42"
    done = client.post(action, {"password1": new, "password2": new})
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_logout_needs_a_post(client_for, alice):
    client = client_for(alice)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
