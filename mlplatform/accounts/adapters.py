"""django-allauth adapter: who may sign up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

# Set while someone follows an invitation link, so they may sign up even when sign-ups are closed.
INVITATION_SESSION_KEY = "invitation_key"


class AccountAdapter(DefaultAccountAdapter):
    # allauth's emails (confirmation, password reset) render from its own `account/email/` path.
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.ALLOW_SIGNUPS or bool(request.session.get(INVITATION_SESSION_KEY))
