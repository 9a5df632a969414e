"""Signal receivers: sign-up creates a personal organisation."""

from typing import Any

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from mlplatform.accounts.models import User
from mlplatform.accounts.services import create_personal_organization


@receiver(user_signed_up)
def create_personal_organization_on_signup(
    sender: Any, request: Any, user: User, **kwargs: Any
) -> None:
    organization = create_personal_organization(user)
    user.last_organization = organization
    user.save(update_fields=["last_organization"])
