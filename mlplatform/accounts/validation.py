"""The limits of the tenancy's fields, stated once: the account forms and serializers read them."""

from __future__ import annotations

from django.db import models

from mlplatform.accounts.models import ApiToken, Organization, Team, User


def column_max_length(model: type[models.Model], field: str) -> int:
    """The `max_length` of a model's text column: the database's limit is the field's limit."""
    column = model._meta.get_field(field)
    if not isinstance(column, models.Field) or column.max_length is None:
        raise TypeError(f"{model.__name__}.{field} is not a text column with a max_length.")
    return int(column.max_length)


USER_NAME_MAX_LENGTH = column_max_length(User, "name")
ORGANIZATION_NAME_MAX_LENGTH = column_max_length(Organization, "name")
ORGANIZATION_SLUG_MAX_LENGTH = column_max_length(Organization, "slug")
TEAM_NAME_MAX_LENGTH = column_max_length(Team, "name")
TOKEN_NAME_MAX_LENGTH = column_max_length(ApiToken, "name")
# Team ids one request may name (an invitation's teams, a project's teams).
MAX_TEAM_IDS = 100
