"""REST API for alerts: an organisation's channels, a project's rules, alerts and silences.

/api/v1/orgs/{org_id}/alert-channels                       GET list, POST create
/api/v1/orgs/{org_id}/alert-channels/{id}                  GET, PATCH, DELETE
/api/v1/orgs/{org_id}/alert-channels/{id}/test             POST send a test message (202)
/api/v1/orgs/{org_id}/alert-channels/{id}/enable           POST enable a disabled channel
/api/v1/orgs/{org_id}/alert-channels/{id}/rotate-secret    POST a new webhook signing secret
/api/v1/projects/{project_id}/alert-rules                  GET list, POST create
/api/v1/projects/{project_id}/alert-rules/{id}             GET, PATCH, DELETE
/api/v1/projects/{project_id}/alert-rules/{id}/history     GET changes of state, newest first
/api/v1/projects/{project_id}/alerts                       GET list (filter by state)
/api/v1/projects/{project_id}/alerts/{id}                  GET with its history and messages
/api/v1/projects/{project_id}/silences                     GET list, POST create
/api/v1/projects/{project_id}/silences/{id}                DELETE (ends it now)

Input is checked by alerts.validation, as the pages' is; a webhook's signing secret appears in
the answers to its creation and to rotate-secret only.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import services
from alerts.models import Alert, AlertRule, Channel, ChannelKind, Silence, SilenceQuerySet, State
from alerts.serializers import (
    AlertDetailSerializer,
    AlertSerializer,
    ChannelInput,
    ChannelSerializer,
    EventSerializer,
    RuleInput,
    RuleSerializer,
    SilenceInput,
    SilenceSerializer,
)
from alerts.validation import clean_channel, clean_rule, clean_silence
from mlplatform import querystring
from mlplatform.accounts.access import Perm
from mlplatform.accounts.scoped_api import OrgScopedViewSet, ProjectScopedViewSet

MAX_LIMIT = 500


def _limit(request: Request) -> int:
    return querystring.integer(request.query_params, "limit", default=100, low=1, high=MAX_LIMIT)


# ---- channels -----------------------------------------------------------------------------------


class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet[Channel]):
    """The organisation's notification channels: read by members and viewers, changed by members."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    action_permissions = {
        "create": Perm.WRITE,
        "partial_update": Perm.WRITE,
        "destroy": Perm.WRITE,
        "test": Perm.WRITE,
        "enable": Perm.WRITE,
        "rotate_secret": Perm.WRITE,
    }

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "reveal": self.access.can(Perm.WRITE)}

    def list(self, request: Request, **kwargs: Any) -> Response:
        channels = list(self.get_queryset())
        context = {**self.get_serializer_context(), "latest": services.latest_messages(channels)}
        return Response(ChannelSerializer(channels, many=True, context=context).data)

    def _body(self, channel: Channel, **extra: Any) -> dict[str, Any]:
        return {**ChannelSerializer(channel, context=self.get_serializer_context()).data, **extra}

    @extend_schema(
        request=ChannelInput,
        responses={201: ChannelSerializer},
        description="A webhook's answer also holds its signing `secret`, shown this once.",
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = clean_channel(self.access.organization, request.data)
        channel = services.create_channel(self.access.organization, data)
        extra = {"secret": channel.secret} if channel.kind == ChannelKind.WEBHOOK else {}
        return Response(self._body(channel, **extra), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ChannelInput,
        responses=ChannelSerializer,
        description="Change the name, config or send_resolved; a disabled channel stays "
        "disabled until POST .../enable.",
    )
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        channel = self.get_object()
        data = clean_channel(self.access.organization, request.data, channel=channel)
        return Response(self._body(services.update_channel(channel, data)))

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.delete_channel(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, **kwargs: Any) -> Response:
        """Queue a test message; its outcome shows in the channel's `last_message`."""
        message = services.send_test(self.get_object())
        return Response(
            {"message": str(message.pk), "status": message.status},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=None, responses=ChannelSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, **kwargs: Any) -> Response:
        return Response(self._body(services.enable_channel(self.get_object())))

    @extend_schema(
        request=None,
        responses=ChannelSerializer,
        description="A new signing secret for a webhook, in `secret`, shown this once.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", url_name="rotate")
    def rotate_secret(self, request: Request, **kwargs: Any) -> Response:
        channel = self.get_object()
        secret = services.rotate_secret(channel)
        return Response(self._body(channel, secret=secret))


# ---- rules --------------------------------------------------------------------------------------


class RuleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet[AlertRule]
):
    """A project's alert rules: read by anyone who sees the project, changed by members."""

    queryset = AlertRule.objects.prefetch_related("channels").select_related("last_snapshot")
    serializer_class = RuleSerializer
    action_permissions = {
        "history": Perm.READ,
        "create": Perm.WRITE,
        "partial_update": Perm.WRITE,
        "destroy": Perm.WRITE,
    }

    @extend_schema(request=RuleInput, responses={201: RuleSerializer})
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = clean_rule(self.project, request.data)
        rule = services.create_rule(self.project, data, self.access.user)
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RuleInput,
        responses=RuleSerializer,
        description="Fields left out keep their values; a config given replaces the whole config.",
    )
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        rule = self.get_object()
        data = clean_rule(self.project, request.data, rule=rule)
        return Response(RuleSerializer(services.update_rule(rule, data)).data)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.delete_rule(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description=f"Page size, 1 to {MAX_LIMIT} (100)."),
            OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, **kwargs: Any) -> Response:
        """The rule's changes of state, newest first: `{"results": [...], "next": cursor}`."""
        rule = self.get_object()
        events = rule.events.select_related("snapshot").order_by("-created_at", "-id")
        limit = _limit(request)
        cursor = request.query_params.get("cursor")
        if cursor:
            key = querystring.whole_number(cursor)
            last = rule.events.filter(pk=key).first() if key is not None else None
            if last is None:
                raise querystring.QueryError(
                    "cursor", "Not a cursor from this API; use the `next` value as given."
                )
            events = events.filter(
                Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, pk__lt=last.pk)
            )
        page = list(events[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        return Response(
            {
                "results": EventSerializer(page, many=True).data,
                "next": str(page[-1].pk) if more else None,
            }
        )


# ---- alerts -------------------------------------------------------------------------------------

_ALERT_STATES = ["open", State.PENDING, State.FIRING, State.RESOLVED]


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet[Alert]):
    """A project's alerts (episodes of its rules), newest first."""

    queryset = Alert.objects.select_related("rule", "snapshot")
    serializer_class = AlertSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state", str, enum=_ALERT_STATES, description="open: pending or firing."
            ),
            OpenApiParameter("rule", str, description="Only this rule's alerts."),
            OpenApiParameter("limit", int, description=f"At most this many, 1 to {MAX_LIMIT}."),
        ],
        responses=AlertSerializer(many=True),
    )
    def list(self, request: Request, **kwargs: Any) -> Response:
        alerts = self.get_queryset().order_by("-started_at")
        state = querystring.choice(request.query_params, "state", _ALERT_STATES)
        if state:
            alerts = (
                alerts.filter(resolved_at__isnull=True)
                if state == "open"
                else alerts.filter(state=state)
            )
        rule = querystring.identifier(request.query_params, "rule", what="rule")
        if rule:
            alerts = alerts.filter(rule_id=rule)
        page = alerts[: _limit(request)]
        return Response(AlertSerializer(page, many=True).data)

    @extend_schema(responses=AlertDetailSerializer)
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        alert = self.get_object()
        alert = (
            Alert.objects.filter(pk=alert.pk)
            .select_related("rule", "snapshot")
            .prefetch_related("events__snapshot", "messages__notifications")
            .get()
        )
        return Response(AlertDetailSerializer(alert).data)


# ---- silences -----------------------------------------------------------------------------------

_SILENCE_STATES = ["active", "scheduled", "ended"]


class SilenceViewSet(mixins.ListModelMixin, ProjectScopedViewSet[Silence]):
    """A project's silences and maintenance windows; DELETE ends one now (it stays listed)."""

    queryset = Silence.objects.select_related("created_by")
    serializer_class = SilenceSerializer
    action_permissions = {"create": Perm.WRITE, "destroy": Perm.WRITE}

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=_SILENCE_STATES),
            OpenApiParameter("limit", int, description=f"At most this many, 1 to {MAX_LIMIT}."),
        ],
        responses=SilenceSerializer(many=True),
    )
    def list(self, request: Request, **kwargs: Any) -> Response:
        silences = cast(SilenceQuerySet, self.get_queryset()).order_by("-starts_at")
        state = querystring.choice(request.query_params, "state", _SILENCE_STATES)
        now = timezone.now()
        if state == "active":
            silences = silences.active(now)
        elif state == "scheduled":
            silences = silences.filter(starts_at__gt=now)
        elif state == "ended":
            silences = silences.filter(ends_at__lte=now)
        return Response(SilenceSerializer(silences[: _limit(request)], many=True).data)

    @extend_schema(request=SilenceInput, responses={201: SilenceSerializer})
    def create(self, request: Request, **kwargs: Any) -> Response:
        """Mute a rule (or, without one, every rule of the project) until `ends_at`; with a
        `starts_at` to come, a maintenance window."""
        data = clean_silence(self.project, request.data)
        user = self.access.user
        if data["starts_at"] > timezone.now():
            silence = services.schedule_maintenance(
                self.project,
                data["starts_at"],
                data["ends_at"],
                data["reason"],
                user,
                rule=data["rule"],
            )
        else:
            silence = services.mute(
                self.project, data["rule"], data["ends_at"], data["reason"], user
            )
        return Response(SilenceSerializer(silence).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.end_silence(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
