"""Who calls the Evidently-compatible API: our API token, in whichever place Evidently's clients
put their secret.

- `RemoteWorkspace(url, secret=token)` sends it in the `evidently-secret` header;
- `CloudWorkspace(token=token, url=url)` sends it once in `X-Evidently-Token` to
  `GET /api/users/login`, and then sends back what that answered in the `app.at` cookie: a signed,
  short-lived reference to the token (never the token itself), checked again on every request;
- anything else may use `Authorization: Bearer <token>`, as on the rest of the API.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from evidently_compat import protocol
from mlplatform.accounts.authentication import (
    BearerTokenAuthentication,
    TokenPrincipal,
    refuse_tokens_in_url,
)
from mlplatform.accounts.models import ApiToken

SESSION_SALT = "evidently_compat.session"
SESSION_SECONDS = 3600
"""How long a login's answer is good for; CloudWorkspace logs in again when it is refused."""


def _checked(token: ApiToken | None) -> ApiToken:
    if token is None:
        raise AuthenticationFailed("Invalid token.")
    if token.is_revoked:
        raise AuthenticationFailed("This token was revoked; create a new one.")
    if token.is_expired:
        raise AuthenticationFailed("This token expired; create a new one.")
    token.touch()
    return token


def token_for_secret(secret: str) -> ApiToken:
    """The live token of `secret`, or AuthenticationFailed."""
    from mlplatform.accounts import token_cache

    return _checked(token_cache.find(secret))


def session_for(token: ApiToken) -> str:
    """What the login answers: a signed reference to the token, good for SESSION_SECONDS."""
    return signing.dumps({"token": str(token.pk)}, salt=SESSION_SALT)


def _token_for_session(value: str) -> ApiToken:
    try:
        data = signing.loads(value, salt=SESSION_SALT, max_age=SESSION_SECONDS)
    except signing.BadSignature:  # expired too: CloudWorkspace logs in again on these words
        raise AuthenticationFailed(protocol.NOT_AUTHORIZED) from None
    token = ApiToken.objects.select_related("organization").filter(pk=data.get("token")).first()
    return _checked(token)


class EvidentlyAuthentication(BearerTokenAuthentication):
    """Our token from `evidently-secret`, the `app.at` session cookie, or `Authorization`."""

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        refuse_tokens_in_url(request)
        secret = request.headers.get(protocol.SECRET_HEADER)
        if secret:
            token = token_for_secret(secret.strip())
            return TokenPrincipal(token), token
        session = request.COOKIES.get(protocol.ACCESS_COOKIE)
        if session:
            token = _token_for_session(session)
            return TokenPrincipal(token), token
        return super().authenticate(request)

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="evidently"'
