"""API authentication by `Authorization: Bearer <token>`; tokens anywhere in the URL are refused."""

from __future__ import annotations

from typing import Any

from django.utils.formats import date_format
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from mlplatform.accounts import token_cache
from mlplatform.accounts.models import ApiToken

_QUERY_NAMES = {"token", "access_token", "api_key", "apikey", "api_token", "auth", "authorization"}
_PREFIXES = (ApiToken.INGEST_PREFIX, ApiToken.ORG_PREFIX)


class TokenPrincipal:
    """`request.user` for a token-authenticated request: the token acts for itself, not for the
    person who created it (who may have left the organisation)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"token {self.token.display}"


def refuse_tokens_in_url(request: Request) -> None:
    for name, value in request.query_params.items():
        if name.lower() in _QUERY_NAMES or (isinstance(value, str) and value.startswith(_PREFIXES)):
            raise AuthenticationFailed(
                f"Tokens are not accepted in the URL (query parameter {name!r}): URLs end up in "
                "logs and browser history. Send the header 'Authorization: Bearer <token>' instead."
            )


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        refuse_tokens_in_url(request)
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise AuthenticationFailed(
                "Malformed Authorization header: expected 'Authorization: Bearer <token>'."
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        token = token_cache.find(secret)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if token.is_revoked:
            raise AuthenticationFailed("This token was revoked; create a new one.")
        if token.is_expired:
            assert token.expires_at is not None
            when = date_format(token.expires_at, "Y-m-d H:i e")
            raise AuthenticationFailed(f"This token expired on {when}; create a new one.")
        token.touch()
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'
