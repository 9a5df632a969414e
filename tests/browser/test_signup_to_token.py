"""The newcomer's path in a real browser: sign up, verify the email, create an organisation,
invite a colleague who accepts, create an API token, and use it."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from django.core import mail

from mlplatform.accounts.models import ApiToken, Membership
from tests.browser.conftest import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-and-unusual-passphrase"


def _link(pattern: str) -> str:
    match = re.search(pattern, str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(0)


def test_sign_up_verify_create_org_invite_accept_and_create_a_token(live_server, new_page):
    alice = new_page()
    alice.goto(f"{live_server.url}/accounts/signup/")
    alice.fill("input[name=name]", "Alice Example")
    alice.fill("input[name=email]", "alice@example.com")
    alice.fill("input[name=password1]", PASSWORD)
    alice.fill("input[name=password2]", PASSWORD)
    shoot(alice, "01-sign-up")
    alice.get_by_role("button", name="Sign Up").click()
    alice.get_by_text("Verify Your Email Address").first.wait_for()

    alice.goto(_link(r"http://[^\s]+/accounts/confirm-email/[^\s]+/"))
    alice.get_by_role("button", name="Confirm").click()
    alice.get_by_role("heading", name="Alice Example's organisation").wait_for()
    shoot(alice, "02-personal-organisation")

    alice.get_by_test_id("org-switcher").click()
    alice.get_by_role("link", name="+ New organisation").click()
    alice.fill("input[name=name]", "Acme Analytics")
    alice.get_by_role("button", name="Create organisation").click()
    alice.get_by_role("heading", name="Acme Analytics").wait_for()

    alice.get_by_role("link", name="Members").click()
    alice.fill("input[name=email]", "bob@example.com")
    alice.select_option("select[name=role]", "member")
    alice.get_by_role("button", name="Send invitation").click()
    alice.get_by_text("Invitation sent to bob@example.com.").wait_for()
    shoot(alice, "03-invitation-sent")

    invitation = _link(r"http://[^\s]+/invitations/[^\s]+/")
    bob = new_page()
    bob.goto(invitation)
    bob.get_by_role("heading", name="Join Acme Analytics").wait_for()
    bob.get_by_role("link", name="Create an account").click()
    assert bob.input_value("input[name=email]") == "bob@example.com"
    bob.fill("input[name=name]", "Bob Example")
    bob.fill("input[name=password1]", PASSWORD)
    bob.fill("input[name=password2]", PASSWORD)
    bob.get_by_role("button", name="Sign Up").click()
    # The invited address needs no second verification: straight back to the invitation.
    bob.get_by_role("button", name="Join Acme Analytics").click()
    bob.get_by_text("Welcome to Acme Analytics.").wait_for()
    shoot(bob, "04-invitation-accepted")
    assert (
        Membership.objects.get(
            organization__name="Acme Analytics", user__email="bob@example.com"
        ).role
        == "member"
    )

    alice.reload()
    alice.locator("tr[data-member='bob@example.com']").wait_for()
    phone = new_page(width=390, height=844)
    phone.context.add_cookies(alice.context.cookies())
    phone.goto(alice.url)
    shoot(phone, "05-members-on-a-phone")

    alice.get_by_role("link", name="API tokens").click()
    alice.fill("input[name=name]", "CI pipeline")
    alice.select_option("select[name=scope]", "read")
    assert alice.locator("select[name=project]").is_hidden()
    alice.get_by_role("button", name="Create token").click()
    secret = alice.get_by_test_id("token-secret").inner_text().strip()
    shoot(alice, "06-token-created")
    assert secret.startswith("mlp_org_")
    token = ApiToken.objects.get()
    assert token.last4 == secret[-4:]

    request = urllib.request.Request(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        me = json.load(response)
    assert me["organization"]["name"] == "Acme Analytics"
    assert me["token"]["scope"] == "read"

    alice.get_by_role("link", name="Done").click()
    alice.locator("tr[data-token='CI pipeline']").get_by_text("active").wait_for()
    assert secret not in alice.content()
