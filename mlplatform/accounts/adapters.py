"""django-allauth adapter: who may sign up, and whose failed logins lock an account."""

import ipaddress
from typing import Any

from allauth import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

# Set while someone follows an invitation link, so they may sign up even when sign-ups are closed.
INVITATION_SESSION_KEY = "invitation_key"


class AccountAdapter(DefaultAccountAdapter):
    # allauth's emails (confirmation, password reset) render from its own `account/email/` path.
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.ALLOW_SIGNUPS or bool(request.session.get(INVITATION_SESSION_KEY))

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # The "key" of ACCOUNT_RATE_LIMITS["login_failed"]: allauth's is the address alone, so
        # anyone who knows it could lock its owner out. Keyed by address and client, failed
        # guesses lock out only the client that made them; the limit per client (any accounts)
        # still stops one client trying many. allauth calls this for both the count and its
        # reset; tests/accounts/test_signup_and_login.py fails if a new version stops calling it.
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.client_network(request)}"

    def client_network(self, request: HttpRequest) -> str:
        """The client's address as allauth's per-address limits count it: an IPv6 address by its
        network (/64 unless `ALLAUTH_RATE_LIMIT_IPV6_PREFIX` says otherwise), which one host can
        rotate through."""
        ip = self.get_client_ip(request)
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ip
        if isinstance(address, ipaddress.IPv6Address):
            prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
            return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False).network_address)
        return str(address)
