"""API representations of organisations, members, invitations, teams and tokens."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from mlplatform.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organization,
    Role,
    Team,
    TokenScope,
    User,
)
from mlplatform.accounts.validation import (
    MAX_TEAM_IDS,
    ORGANIZATION_NAME_MAX_LENGTH,
    ORGANIZATION_SLUG_MAX_LENGTH,
    TEAM_NAME_MAX_LENGTH,
    TOKEN_NAME_MAX_LENGTH,
)


def linked[F: serializers.Field](relation: str, attribute: str, field: type[F]) -> F:
    """A read-only field showing `attribute` of the row that `relation` links to, or null when it
    links to none (a `created_by` user's email, a `snapshot`'s public id)."""
    return field(source=f"{relation}.{attribute}", read_only=True, default=None, allow_null=True)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, instead of silently ignoring a typo."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                expected = ", ".join(sorted(writable)) or "no fields"
                raise serializers.ValidationError(
                    {name: [f"Unknown field; expected {expected}."] for name in unknown}
                )
        return super().to_internal_value(data)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name"]


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "created_at"]


class OrganizationWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=ORGANIZATION_NAME_MAX_LENGTH)
    slug = serializers.SlugField(max_length=ORGANIZATION_SLUG_MAX_LENGTH, required=False)


class MemberSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role", "joined_at"]


class RoleSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    teams: serializers.PrimaryKeyRelatedField[Team] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    invited_by = linked("invited_by", "email", serializers.EmailField)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "teams",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
        ]


class InvitationCreateSerializer(StrictSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)
    teams = serializers.ListField(
        child=serializers.UUIDField(), default=list, max_length=MAX_TEAM_IDS
    )


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "members", "created_at"]
        read_only_fields = ["slug"]

    def get_members(self, team: Team) -> list[str]:
        return [str(user.pk) for user in team.members.all()]


class TeamWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=TEAM_NAME_MAX_LENGTH)


class TeamMemberSerializer(StrictSerializer):
    user_id = serializers.UUIDField()


class TokenSerializer(serializers.ModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True, allow_null=True)
    created_by = linked("created_by", "email", serializers.EmailField)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "scope",
            "project",
            "display",
            "status",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]


class TokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=TOKEN_NAME_MAX_LENGTH)
    scope = serializers.ChoiceField(choices=TokenScope.choices)
    project = serializers.UUIDField(required=False, allow_null=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
