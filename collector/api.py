"""REST API of the collector.

/api/v1/projects/{project_id}/collectors        GET list, POST create
/api/v1/collectors/{id}                         GET, PATCH, DELETE
/api/v1/collectors/{id}/reference               GET its summary, PUT a CSV or Parquet file
/api/v1/collectors/{id}/data                    POST rows (JSON records, CSV or Parquet)
/api/v1/collectors/{id}/labels                  POST targets by prediction id
/api/v1/collectors/{id}/run                     POST compute now
/api/v1/collectors/{id}/runs                    GET the runs, newest first
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response

from collector import intake, services
from collector.models import Collector
from collector.serializers import collector_json, reference_json, run_json
from collector.validation import clean_collector
from mlplatform.accounts.access import Perm, get_or_404
from mlplatform.accounts.scoped_api import ProjectScopedViewSet
from mlplatform.api_errors import error_body
from mlplatform.api_schema import LIST_ITEM
from projects.models import Project


def _rejected(exc: intake.Rejected) -> Response:
    fields = {key: [value] for key, value in exc.fields.items()} or None
    code = "request_too_large" if exc.status == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE else None
    return Response(error_body(code or "invalid_rows", exc.message, fields), status=exc.status)


class ProjectCollectorViewSet(ProjectScopedViewSet[Collector]):
    """A project's collectors: listed by readers, created by members."""

    queryset = Collector.objects.all()
    action_permissions = {"create": Perm.WRITE}

    @extend_schema(responses={200: LIST_ITEM})
    def list(self, request: Request, **kwargs: Any) -> Response:
        return Response([collector_json(c) for c in self.get_queryset().order_by("name")])

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = clean_collector(request.data)
        collector = services.create_collector(self.project, data)
        return Response(collector_json(collector), status=status.HTTP_201_CREATED)


class CollectorViewSet(ProjectScopedViewSet[Collector]):
    """One collector, under /api/v1/collectors/{id}: the organisation and project come from it; a
    caller who cannot see its project gets 404. An ingest token of its project may send rows and
    labels."""

    queryset = Collector.objects.all()
    missing = "collector"
    max_body_setting = "COLLECTOR_MAX_BODY_BYTES"
    openapi_extra_errors = {"data": ("409",), "run": ("409",)}  # disabled; nothing to run
    action_permissions = {
        "partial_update": Perm.WRITE,
        "destroy": Perm.WRITE,
        "reference": Perm.READ,
        "upload_reference": Perm.WRITE,
        "data": Perm.INGEST,
        "labels": Perm.INGEST,
        "run": Perm.WRITE,
        "runs": Perm.READ,
    }
    collector: Collector

    def resolve_project(self) -> Project:
        collectors = Collector.objects.select_related("project")
        self.collector = get_or_404(collectors, self.kwargs["collector_id"], "collector")
        return self.collector.project

    def scope_queryset(self, queryset: Any) -> Any:
        return super().scope_queryset(queryset).filter(pk=self.collector.pk)

    def _raw(self, request: Request) -> bytes:
        # The raw stream: Django's request.body would refuse anything over its form limit.
        return request._request.read()

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        return Response(collector_json(self.collector))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = clean_collector(request.data, collector=self.collector)
        return Response(collector_json(services.update_collector(self.collector, data)))

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.delete_collector(self.collector)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def reference(self, request: Request, **kwargs: Any) -> Response:
        found = intake.current_reference(self.collector)
        if found is None:
            raise Http404("This collector has no reference yet.")
        return Response(reference_json(found))

    @extend_schema(request={"text/csv": OpenApiTypes.BINARY}, responses={201: OpenApiTypes.OBJECT})
    @reference.mapping.put
    def upload_reference(self, request: Request, **kwargs: Any) -> Response:
        """Replace the reference with a CSV or Parquet body (Content-Type text/csv or
        application/vnd.apache.parquet)."""
        try:
            found = intake.accept_reference(
                self.collector,
                self._raw(request),
                request.content_type or "",
                request.headers.get("X-Filename", ""),
                content_encoding=request.headers.get("Content-Encoding"),
            )
        except intake.Rejected as exc:
            return _rejected(exc)
        return Response(reference_json(found), status=status.HTTP_201_CREATED)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def data(self, request: Request, **kwargs: Any) -> Response:
        """Rows: a JSON list of objects, a CSV or a Parquet body. Each row may carry
        `prediction_id` and `timestamp`. Stored before the answer (202); nothing is stored from a
        refused request. With an `Idempotency-Key` header, a retry of a stored request is
        answered 200 with the batch it stored, and stores nothing."""
        if not self.collector.enabled:
            return Response(
                error_body("collector_disabled", "This collector is disabled; enable it first."),
                status=status.HTTP_409_CONFLICT,
            )
        try:
            batch, created = services.send_rows(
                self.collector,
                self._raw(request),
                request.content_type or "",
                key=request.headers.get("Idempotency-Key", "").strip(),
                content_encoding=request.headers.get("Content-Encoding"),
            )
        except intake.Rejected as exc:
            if exc.fields.get("Content-Type"):
                raise UnsupportedMediaType(exc.fields["Content-Type"]) from None
            return _rejected(exc)
        if not created:  # a retry of a request stored before: its batch, not a second one
            return Response({"accepted": batch.rows, "batch": batch.pk, "repeated": True})
        return Response(
            {"accepted": batch.rows, "batch": batch.pk}, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(request=OpenApiTypes.OBJECT, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def labels(self, request: Request, **kwargs: Any) -> Response:
        """Targets that arrived later: `[{"prediction_id": ..., "target": ...}]`. Quality snapshots
        follow for the runs whose rows they complete."""
        try:
            found = services.send_labels(
                self.collector,
                self._raw(request),
                content_encoding=request.headers.get("Content-Encoding"),
            )
        except intake.Rejected as exc:
            return _rejected(exc)
        return Response({"accepted": found.count}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, **kwargs: Any) -> Response:
        """Compute a snapshot of the pending rows now (in a worker)."""
        try:
            pending = services.request_run(self.collector)
        except services.RunRefused as exc:
            return Response(error_body("cannot_run", str(exc)), status=status.HTTP_409_CONFLICT)
        return Response({"queued": True, "pending_rows": pending}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, **kwargs: Any) -> Response:
        found = self.collector.runs.select_related("snapshot", "quality_snapshot")[:200]
        return Response({"results": [run_json(r) for r in found]})
