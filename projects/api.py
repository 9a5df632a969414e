"""REST API for projects, snapshot ingestion and reading, metric series.

/api/v1/orgs/{org_id}/projects                        GET list, POST create
/api/v1/projects/{project_id}                         GET, PATCH, DELETE; POST archive, unarchive
/api/v1/projects/{project_id}/snapshots               GET list (filters, cursor), POST ingest
/api/v1/projects/{project_id}/snapshots/{id}          GET (with the document), DELETE
/api/v1/projects/{project_id}/metrics                 GET the series present
/api/v1/projects/{project_id}/series                  GET points of series over time
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response

from mlplatform import querystring
from mlplatform.accounts.access import Access, Perm
from mlplatform.accounts.models import Team
from mlplatform.accounts.scoped_api import OrgScopedViewSet, ProjectScopedViewSet
from mlplatform.api_errors import error_body
from mlplatform.api_schema import LIST_ITEM
from projects import series as series_reading
from projects import services
from projects.ingestion import SnapshotConflict, SnapshotRejected, ingest_snapshot
from projects.models import (
    META_KEY,
    MetricSeries,
    Project,
    Snapshot,
    SnapshotQuerySet,
    SnapshotStatus,
    SnapshotTag,
)
from projects.serializers import (
    ProjectSerializer,
    ProjectWriteSerializer,
    SnapshotPageSerializer,
    SnapshotSerializer,
    snapshot_with_document,
)

# ---- projects -----------------------------------------------------------------------------------


def _validated(serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _teams(access: Access, team_ids: list[Any]) -> list[Team]:
    access.require(Perm.MANAGE_PROJECTS)
    teams = list(Team.objects.filter(organization=access.organization, pk__in=team_ids))
    if len(teams) != len(set(team_ids)):
        raise ValidationError({"teams": "No such team in this organisation."})
    return teams


class OrgProjectViewSet(mixins.ListModelMixin, OrgScopedViewSet[Project]):
    """The projects of an organisation that the caller sees; members create them."""

    queryset = Project.objects.prefetch_related("teams")
    serializer_class = ProjectSerializer
    action_permissions = {"create": Perm.WRITE}

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(pk__in=self.access.projects().values("pk"))

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = _validated(ProjectWriteSerializer, request.data)
        teams = _teams(self.access, data["teams"]) if data.get("teams") else []
        project = services.create_project(
            self.access.organization,
            name=data["name"],
            description=data.get("description", ""),
            teams=teams,
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectViewSet(mixins.RetrieveModelMixin, ProjectScopedViewSet[Project]):
    """One project: read, rename and describe (members), restrict to teams, archive or delete
    (owners and admins)."""

    queryset = Project.objects.prefetch_related("teams")
    serializer_class = ProjectSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "project_id"
    org_field = "organization"
    action_permissions = {
        "partial_update": Perm.WRITE,
        "destroy": Perm.MANAGE_PROJECTS,
        "archive": Perm.MANAGE_PROJECTS,
        "unarchive": Perm.MANAGE_PROJECTS,
    }

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(pk=self.project.pk)

    @extend_schema(request=ProjectWriteSerializer, responses=ProjectSerializer)
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        project = self.get_object()
        data = _validated(ProjectWriteSerializer, request.data, partial=True)
        if "teams" in data:
            services.restrict_project(project, _teams(self.access, data["teams"]))
        services.update_project(project, name=data.get("name"), description=data.get("description"))
        return Response(ProjectSerializer(project).data)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.delete_project(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, **kwargs: Any) -> Response:
        return Response(ProjectSerializer(services.archive_project(self.get_object())).data)

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def unarchive(self, request: Request, **kwargs: Any) -> Response:
        return Response(ProjectSerializer(services.unarchive_project(self.get_object())).data)


# ---- snapshots ----------------------------------------------------------------------------------

_STATUSES = [s.value for s in SnapshotStatus]


def _since_until(request: Request) -> tuple[datetime | None, datetime | None]:
    params = request.query_params
    return querystring.optional_instant(params, "since"), querystring.optional_instant(
        params, "until"
    )


def _encode_cursor(snapshot: Snapshot) -> str:
    return base64.urlsafe_b64encode(
        f"{snapshot.timestamp.isoformat()}|{snapshot.pk}".encode()
    ).decode()


def _decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        stamp, pk = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
        key = querystring.whole_number(pk)
        if key is None:
            raise ValueError(pk)
        return querystring.instant(stamp, "cursor"), key
    except (ValueError, UnicodeDecodeError):
        raise querystring.QueryError(
            "cursor", "Not a cursor from this API; use the `next` link as given."
        ) from None


class SnapshotViewSet(mixins.DestroyModelMixin, ProjectScopedViewSet[Snapshot]):
    """Snapshots: pushed by ingest tokens, write tokens and members; read by anyone who sees the
    project; deleted by owners and admins."""

    queryset = Snapshot.objects.all()
    serializer_class = SnapshotSerializer
    lookup_field = "uuid"
    lookup_url_kwarg = "snapshot_id"
    # Ingestion accepts documents up to SNAPSHOT_MAX_BYTES (see ApiGuardMiddleware).
    max_body_setting = "SNAPSHOT_MAX_BYTES"
    openapi_extra_errors = {"create": ("409",)}
    action_permissions = {
        "create": Perm.INGEST,
        "destroy": Perm.MANAGE_PROJECTS,
    }

    def scope_queryset(self, queryset: Any) -> Any:
        return (
            super()
            .scope_queryset(queryset)
            .prefetch_related(
                Prefetch("tag_rows", queryset=SnapshotTag.objects.only("snapshot_id", "tag"))
            )
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Snapshots at or after this time."
            ),
            OpenApiParameter(
                "until", OpenApiTypes.DATETIME, description="Snapshots before this time."
            ),
            OpenApiParameter(
                "tag", str, many=True, description="Only snapshots with every given tag."
            ),
            OpenApiParameter(
                "status", str, many=True, enum=_STATUSES, description="Overall status (worst test)."
            ),
            OpenApiParameter(
                "meta.<key>", str, description="Metadata equal to a value, e.g. meta.model=v3."
            ),
            OpenApiParameter("limit", int, description="Page size, 1 to 500 (default 100)."),
            OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
        ],
        responses=SnapshotPageSerializer,
    )
    def list(self, request: Request, **kwargs: Any) -> Response:
        snapshots = cast(SnapshotQuerySet, self.get_queryset())  # Snapshot.objects' own queryset
        since, until = _since_until(request)
        if since:
            snapshots = snapshots.filter(timestamp__gte=since)
        if until:
            snapshots = snapshots.filter(timestamp__lt=until)
        snapshots = snapshots.matching(
            self.project,
            tags=querystring.texts(request.query_params, "tag"),
            metadata=querystring.metadata(request.query_params, key=META_KEY, keep_empty=True),
        )
        statuses = querystring.choices(request.query_params, "status", _STATUSES)
        if statuses:
            snapshots = snapshots.filter(status__in=statuses)
        limit = querystring.integer(request.query_params, "limit", default=100, low=1, high=500)
        cursor = request.query_params.get("cursor")
        if cursor:
            stamp, pk = _decode_cursor(cursor)
            snapshots = snapshots.filter(Q(timestamp__lt=stamp) | Q(timestamp=stamp, pk__lt=pk))
        page = list(snapshots.order_by("-timestamp", "-pk")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        next_cursor = _encode_cursor(page[-1]) if more else None
        return Response(
            {"results": SnapshotSerializer(page, many=True).data, "next": next_cursor},
        )

    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "description": "A snapshot document (metrics/schemas/snapshot.schema.json).",
            }
        },
        responses={201: SnapshotSerializer, 200: SnapshotSerializer},
        description=(
            "Push a snapshot. 201 when stored; 200 when the same snapshot (id and document) was "
            "stored before; 409 when the id exists with another document. Gzip the body with "
            "Content-Encoding: gzip for large snapshots."
        ),
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise UnsupportedMediaType(content_type or "none")
        if self.project.is_archived:
            return Response(
                error_body(
                    "project_archived", "This project is archived; unarchive it to push snapshots."
                ),
                status=status.HTTP_409_CONFLICT,
            )
        try:
            # The request itself, not its bytes: ingestion reads the body (Django's request.body
            # would refuse anything over its form limit), decompresses a gzip body as it reads,
            # and lets go of the text once parsed; no reference to it stays here.
            found = ingest_snapshot(
                self.project,
                request._request,
                content_encoding=request.headers.get("Content-Encoding"),
            )
        except SnapshotRejected as exc:
            # The codes of docs/api.md's table of push errors.
            if exc.status == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
                code = "request_too_large"
            elif exc.fields:
                code = "validation_error"
            elif exc.status == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE:
                code = "unsupported_media_type"
            else:
                code = "parse_error"  # not a JSON document we can read
            body = error_body(code, exc.message, exc.fields or None)
            return Response(body, status=exc.status)
        except SnapshotConflict as exc:
            return Response(error_body("conflict", str(exc)), status=status.HTTP_409_CONFLICT)
        code = status.HTTP_201_CREATED if found.created else status.HTTP_200_OK
        return Response(
            SnapshotSerializer(found.snapshot, context={"tags": found.tags}).data, status=code
        )

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        snapshot = self.get_object()
        document = json.loads(snapshot.document.text())
        return Response(snapshot_with_document(snapshot, document))


# ---- metric series ------------------------------------------------------------------------------


class MetricsViewSet(ProjectScopedViewSet[MetricSeries]):
    """The metrics and value fields present in a project, as plottable series."""

    queryset = MetricSeries.objects.all()

    @extend_schema(responses={200: LIST_ITEM})
    def list(self, request: Request, **kwargs: Any) -> Response:
        grouped: dict[str, dict[str, Any]] = {}
        for one in self.get_queryset().order_by("metric_id", "field"):
            entry = grouped.setdefault(
                one.metric_id,
                {
                    "metric": one.metric_id,
                    "type": one.metric_type,
                    "params": one.params,
                    "fields": [],
                },
            )
            entry["fields"].append({"id": one.pk, "field": one.field})
        return Response(list(grouped.values()))


class SeriesViewSet(ProjectScopedViewSet[MetricSeries]):
    """Points of a project's series over time, for charts."""

    queryset = MetricSeries.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "id", int, many=True, description="Series ids from /metrics (repeat for several)."
            ),
            OpenApiParameter(
                "metric", str, many=True, description="Or a metric id, paired with a field."
            ),
            OpenApiParameter(
                "field",
                str,
                many=True,
                description="The field path for each metric, e.g. current.mean.",
            ),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "points",
                int,
                description="At most this many points per series (default 500, up to 5000).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description=(
            "Points of up to 20 series over a time range. Long series are downsampled to the "
            "lowest and highest point of each time bucket. Times are seconds since the epoch; "
            "each point carries the id of its snapshot."
        ),
    )
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        ids = request.query_params.getlist("id")
        metrics, fields = (
            querystring.texts(request.query_params, "metric"),
            querystring.texts(request.query_params, "field"),
        )
        if len(metrics) != len(fields):
            raise ValidationError(
                {"field": "Give one field for each metric (metric=...&field=...)."}
            )
        if not ids and not metrics:
            raise ValidationError(
                {"id": "Name the series: id=<series id>, or metric=<id>&field=<path>."}
            )
        if len(ids) + len(metrics) > 20:
            raise ValidationError({"id": "At most 20 series per request."})
        since, until = _since_until(request)
        points = querystring.integer(
            request.query_params, "points", default=500, low=2, high=series_reading.MAX_POINTS
        )
        chosen: list[MetricSeries] = []
        wanted = querystring.keys(request.query_params, "id", what="series")
        by_id = {s.pk: s for s in self.get_queryset().filter(pk__in=wanted)}
        for raw, key in zip(ids, wanted, strict=True):
            if key not in by_id:
                raise Http404(f"No series {raw} in this project.")
            chosen.append(by_id[key])
        for metric, field in zip(metrics, fields, strict=True):
            one = self.get_queryset().filter(metric_id=metric, field=field).first()
            if one is None:
                raise Http404(f"No series {metric} {field} in this project.")
            chosen.append(one)
        found = series_reading.read_series(
            self.project, chosen, since=since, until=until, points=points
        )
        return Response({"series": series_reading.as_json(found)})
