"""REST API for tenancy: who am I, organisations, members, invitations, teams and API tokens."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from mlplatform.accounts import services
from mlplatform.accounts.access import Perm, access_for_request, find
from mlplatform.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Team,
    User,
)
from mlplatform.accounts.scoped_api import OrgScopedViewSet
from mlplatform.accounts.serializers import (
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberSerializer,
    OrganizationSerializer,
    OrganizationWriteSerializer,
    RoleSerializer,
    TeamMemberSerializer,
    TeamSerializer,
    TeamWriteSerializer,
    TokenCreateSerializer,
    TokenSerializer,
    UserSerializer,
)


def _validated(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _token_of(request: Request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class MeView(APIView):
    """Who the caller is: a user and their organisations, or a token and what it may reach."""

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="The caller: a user and their organisations, or a token and its organisation.",
    )
    def get(self, request: Request) -> Response:
        token = _token_of(request)
        if token is not None:
            return Response(
                {
                    "type": "token",
                    "token": TokenSerializer(token).data,
                    "organization": OrganizationSerializer(token.organization).data,
                }
            )
        memberships = cast(User, request.user).memberships.select_related("organization")
        return Response(
            {
                "type": "user",
                "user": UserSerializer(request.user).data,
                "organizations": [
                    {**OrganizationSerializer(m.organization).data, "role": m.role}
                    for m in memberships
                ],
            }
        )


class OrganizationViewSet(ViewSet):
    """Organisations: the caller's own (a token sees only its organisation)."""

    lookup_url_kwarg = "org_id"

    @extend_schema(responses=OrganizationSerializer(many=True))
    def list(self, request: Request) -> Response:
        token = _token_of(request)
        if token is not None:
            access = access_for_request(request, org_id=token.organization_id)
            access.require(Perm.READ)
            return Response([OrganizationSerializer(token.organization).data])
        memberships = cast(User, request.user).memberships.select_related("organization")
        return Response(
            [
                {**OrganizationSerializer(m.organization).data, "role": m.role}
                for m in memberships.order_by("organization__name")
            ]
        )

    @extend_schema(request=OrganizationWriteSerializer, responses={201: OrganizationSerializer})
    def create(self, request: Request) -> Response:
        if _token_of(request) is not None:
            raise PermissionDenied("Organisations are created by people signed in, not by tokens.")
        data = _validated(OrganizationWriteSerializer, request.data)
        org = services.create_organization(name=data["name"], owner=cast(User, request.user))
        if "slug" in data:
            services.update_organization(
                access_for_request(request, org_id=org.pk), slug=data["slug"]
            )
            org.refresh_from_db()
        return Response(OrganizationSerializer(org).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=OrganizationSerializer)
    def retrieve(self, request: Request, org_id: str) -> Response:
        access = access_for_request(request, org_id=org_id)
        access.require(Perm.READ)
        return Response(OrganizationSerializer(access.organization).data)

    @extend_schema(request=OrganizationWriteSerializer, responses=OrganizationSerializer)
    def partial_update(self, request: Request, org_id: str) -> Response:
        access = access_for_request(request, org_id=org_id)
        access.require(Perm.MANAGE_ORG)
        serializer = OrganizationWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_organization(access, **serializer.validated_data)
        return Response(OrganizationSerializer(access.organization).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, org_id: str) -> Response:
        access = access_for_request(request, org_id=org_id)
        services.delete_organization(access)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet[Membership]):
    """Members and their roles. Owners and admins change roles and remove members; anyone may
    remove themselves (leave)."""

    queryset = Membership.objects.select_related("user").order_by("user__email")
    serializer_class = MemberSerializer
    lookup_field = "user_id"
    action_permissions = {
        "partial_update": Perm.MANAGE_MEMBERS,
        "destroy": Perm.READ,  # leaving needs no more; removing others is checked by the service
    }

    @extend_schema(request=RoleSerializer, responses=MemberSerializer)
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        membership = self.get_object()
        data = _validated(RoleSerializer, request.data)
        services.change_role(self.access, membership=membership, role=data["role"])
        return Response(MemberSerializer(membership).data)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.remove_member(self.access, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet[Invitation]
):
    """Pending and past invitations; creating one emails the link, deleting one revokes it."""

    queryset = Invitation.objects.select_related("invited_by").prefetch_related("teams")
    serializer_class = InvitationSerializer
    action_permissions = {
        "list": Perm.MANAGE_MEMBERS,
        "retrieve": Perm.MANAGE_MEMBERS,
        "create": Perm.MANAGE_MEMBERS,
        "destroy": Perm.MANAGE_MEMBERS,
    }

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = _validated(InvitationCreateSerializer, request.data)
        teams = list(
            Team.objects.filter(organization=self.access.organization, pk__in=data["teams"])
        )
        if len(teams) != len(set(data["teams"])):
            raise ValidationError({"teams": "No such team in this organisation."})
        invitation = services.invite(
            self.access, email=data["email"], role=data["role"], teams=teams, request=request
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.revoke_invitation(self.access, invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet[Team]):
    """Teams and their members; projects may be restricted to teams."""

    queryset = Team.objects.prefetch_related(Prefetch("members", queryset=User.objects.only("id")))
    serializer_class = TeamSerializer
    default_permission = Perm.MANAGE_MEMBERS

    @extend_schema(request=TeamWriteSerializer, responses={201: TeamSerializer})
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = _validated(TeamWriteSerializer, request.data)
        team = services.create_team(self.access, name=data["name"])
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TeamWriteSerializer, responses=TeamSerializer)
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        team = self.get_object()
        data = _validated(TeamWriteSerializer, request.data)
        services.rename_team(self.access, team=team, name=data["name"])
        return Response(TeamSerializer(team).data)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.delete_team(self.access, team=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TeamMemberSerializer, responses=TeamSerializer)
    @action(detail=True, methods=["post"], url_path="members")
    def add_member(self, request: Request, **kwargs: Any) -> Response:
        team = self.get_object()
        data = _validated(TeamMemberSerializer, request.data)
        user = User.objects.filter(
            pk=data["user_id"], memberships__organization=self.access.organization
        ).first()
        if user is None:
            raise ValidationError({"user_id": "No such member in this organisation."})
        services.add_team_member(self.access, team=team, user=user)
        return Response(TeamSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>[^/.]+)")
    def remove_member(self, request: Request, user_id: str, **kwargs: Any) -> Response:
        team = self.get_object()
        member = find(team.members.all(), user_id)
        if member is None:
            raise ValidationError({"user_id": "This user is not in the team."})
        services.remove_team_member(self.access, team=team, user=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet[ApiToken]):
    """API tokens. The secret is in the creation response only; DELETE revokes."""

    queryset = ApiToken.objects.select_related("created_by")
    serializer_class = TokenSerializer
    action_permissions = {
        "create": Perm.ISSUE_INGEST_TOKENS,  # org tokens need more; the service checks
        "destroy": Perm.ISSUE_INGEST_TOKENS,
    }

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # An ingest token names its project: a project hidden by teams hides its tokens too.
        return self.access.visible(queryset)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: TokenSerializer},
        description="The response also holds the secret as `token`, shown this once.",
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = _validated(TokenCreateSerializer, request.data)
        token, secret = services.create_token(
            self.access,
            name=data["name"],
            scope=data["scope"],
            project_id=data.get("project"),
            expires_at=data.get("expires_at"),
        )
        body = {**TokenSerializer(token).data, "token": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.revoke_token(self.access, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
