"""The Evidently 0.7 remote workspace API, as its `RemoteWorkspace` and `CloudWorkspace` call it.

GET  api/version                          which application answers (no token needed)
GET  api/users/login                      CloudWorkspace's login: X-Evidently-Token in, a session out
GET  api/v2/projects                      the projects the token sees
POST api/v2/projects                      create one (ProjectModel in, its id out)
GET, PATCH, DELETE api/v2/projects/{id}   one project
GET  api/projects/{id}/info               one project (ProjectModel)
GET  api/projects/search/{name}           the projects of exactly that name
POST api/v2/snapshots/{project_id}        push a snapshot (`Snapshot.dump_dict()`)
GET, POST api/v2/dashboards/{project_id}  the project's Evidently dashboard document

Every route is scoped to the token's organisation: another organisation's project is a 404
whose detail is Evidently's own "project not found".
"""

from __future__ import annotations

from itertools import islice
from typing import Any, ClassVar

from django.conf import settings
from django.http import Http404, HttpResponse
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidently_compat import protocol, services, translation
from evidently_compat.authentication import EvidentlyAuthentication, session_for, token_for_secret
from mlplatform import request_bodies
from mlplatform.accounts.access import Access, Perm
from mlplatform.accounts.models import ApiToken
from mlplatform.api_errors import error_body
from mlplatform.parsers import MAX_JSON_DEPTH, nesting_depth
from mlplatform.request_bodies import NUL, NUL_MESSAGE, nul_paths
from projects import services as project_services
from projects.ingestion import SnapshotConflict, SnapshotRejected
from projects.models import Project, Snapshot
from projects.validation import PROJECT_DESCRIPTION_MAX_LENGTH, PROJECT_NAME_MAX_LENGTH


class ProjectModelSerializer(serializers.Serializer):
    """Evidently's `ProjectModel` as its client sends it; `id`, `org_id` and `version` are the
    client's own defaults and are ignored (the project gets our id, in the token's organisation)."""

    name = serializers.CharField(max_length=PROJECT_NAME_MAX_LENGTH)
    description = serializers.CharField(
        max_length=PROJECT_DESCRIPTION_MAX_LENGTH,
        required=False,
        allow_blank=True,
        allow_null=True,
    )


def project_model(project: Project) -> dict[str, Any]:
    """A project as Evidently's `ProjectModel`."""
    return {
        "id": str(project.pk),
        "name": project.name,
        "description": project.description or None,
        "org_id": str(project.organization_id),
        "version": "2",
        "created_at": project.created_at.isoformat(),
    }


class EvidentlyView(APIView):
    """A route of the protocol: a token is required, and `self.access` is its organisation."""

    authentication_classes = [EvidentlyAuthentication]
    schema = None  # Evidently's protocol, not our OpenAPI schema: docs/evidently-clients.md
    permission: ClassVar[dict[str, Perm]] = {}
    access: Access
    project: Project  # the project the URL names, on the routes that name one

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        token = request.auth
        if not isinstance(token, ApiToken):
            raise NotAuthenticated(
                "Send our API token as Evidently's secret (the evidently-secret header)."
            )
        self.access = Access(organization=token.organization, token=token)
        if "project_id" in kwargs:  # a project the caller does not see is a 404, before a 403
            self.project = self.access.project(kwargs["project_id"])
            if self.project is None:
                raise Http404(protocol.PROJECT_NOT_FOUND)
        self.access.require(self.permission.get(request.method or "GET", Perm.READ))

    def json_body(self, request: Request) -> Any:
        """The JSON body: required (Evidently's client always sends one), at most
        MAX_JSON_DEPTH deep, and without NUL characters, which PostgreSQL cannot store."""
        if int(request.META.get("CONTENT_LENGTH") or 0) == 0:  # digits: ApiGuardMiddleware
            raise serializers.ValidationError({"body": ["Send a JSON body."]})
        data = request.data
        if nesting_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise serializers.ValidationError({"body": ["Nested too deeply."]})
        paths = [".".join(map(str, p)) or "body" for p in islice(nul_paths(data), 50)]
        if paths:
            raise serializers.ValidationError({path: [NUL_MESSAGE] for path in paths})
        return data


class VersionView(APIView):
    """What `RemoteWorkspace` checks first: the application's name, which must be Evidently's."""

    authentication_classes = ()
    permission_classes = [AllowAny]
    schema = None

    def get(self, request: Request) -> Response:
        return Response(
            {
                "application": protocol.APPLICATION_NAME,
                "version": protocol.PROTOCOL_VERSION,
                "commit": "",
                "served_by": "ML Monitor (Evidently-compatible API)",
            }
        )


class LoginView(APIView):
    """`CloudWorkspace`'s login: our token in `X-Evidently-Token`, a session for the cookie out."""

    authentication_classes = ()
    permission_classes = [AllowAny]
    schema = None

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="evidently"'  # a refusal is a 401, as for the other routes

    def get(self, request: Request) -> HttpResponse:
        secret = request.headers.get(protocol.TOKEN_HEADER, "").strip()
        if not secret:
            raise AuthenticationFailed(f"Send our API token in the {protocol.TOKEN_HEADER} header.")
        return HttpResponse(session_for(token_for_secret(secret)), content_type="text/plain")


class ProjectListView(EvidentlyView):
    permission = {"POST": Perm.WRITE}

    def get(self, request: Request) -> Response:
        return Response([project_model(p) for p in self.access.projects().order_by("name")])

    def post(self, request: Request) -> Response:
        serializer = ProjectModelSerializer(data=self.json_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = project_services.create_project(
            self.access.organization, name=data["name"], description=data.get("description") or ""
        )
        return Response(str(project.pk), status=status.HTTP_201_CREATED)


class ProjectView(EvidentlyView):
    permission = {"PATCH": Perm.WRITE, "DELETE": Perm.MANAGE_PROJECTS}

    def get(self, request: Request, project_id: str) -> Response:
        return Response(project_model(self.project))

    def patch(self, request: Request, project_id: str) -> Response:
        project = self.project
        serializer = ProjectModelSerializer(data=self.json_body(request), partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        description = data.get("description")
        project_services.update_project(
            project,
            name=data.get("name"),
            description=None if "description" not in data else (description or ""),
        )
        return Response(project_model(project))

    def delete(self, request: Request, project_id: str) -> Response:
        project_services.delete_project(self.project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectInfoView(EvidentlyView):
    def get(self, request: Request, project_id: str) -> Response:
        return Response(project_model(self.project))


class ProjectSearchView(EvidentlyView):
    def get(self, request: Request, name: str) -> Response:
        if NUL in name:  # no project has one: PostgreSQL's text cannot hold it
            raise serializers.ValidationError({"name": [NUL_MESSAGE]})
        found = self.access.projects().filter(name=name).order_by("created_at")
        return Response([project_model(p) for p in found])


class SnapshotView(EvidentlyView):
    """Push one Evidently snapshot: `{"snapshot_id": ...}`, 201 when stored, 200 when the same
    snapshot was stored before."""

    permission = {"POST": Perm.INGEST}
    # Evidently's snapshots carry its widgets (plotly figures): as large as ours may be.
    max_body_setting = "SNAPSHOT_MAX_BYTES"
    parser_classes = ()  # the body is read here, NaN and all

    def post(self, request: Request, project_id: str) -> Response:
        project = self.project
        if project.is_archived:
            return Response(
                error_body(
                    "project_archived", "This project is archived; unarchive it to push snapshots."
                ),
                status=status.HTTP_409_CONFLICT,
            )
        try:
            raw = services.read_body(request._request, settings.SNAPSHOT_MAX_BYTES)
            pushed = services.push_snapshot(project, raw)
        except request_bodies.BodyRejected as exc:
            code = "request_too_large" if exc.status == 413 else "parse_error"
            return Response(error_body(code, exc.message, {"body": [exc.message]}), exc.status)
        except translation.EvidentlyRejected as exc:
            return Response(error_body("validation_error", exc.message, exc.fields), 400)
        except SnapshotRejected as exc:
            code = "request_too_large" if exc.status == 413 else "validation_error"
            return Response(error_body(code, exc.message, exc.fields or None), exc.status)
        except SnapshotConflict:
            # The id is derived from the Evidently document: this document is stored already
            # (translated by an earlier version of this code).
            snapshot_id = translation.snapshot_id(translation.parse(raw))
            if not Snapshot.objects.filter(project=project, uuid=snapshot_id).exists():
                raise
            return Response({"snapshot_id": str(snapshot_id), "created": False})
        code = status.HTTP_201_CREATED if pushed.ingested.created else status.HTTP_200_OK
        return Response(
            {"snapshot_id": str(pushed.ingested.snapshot.uuid), "created": pushed.ingested.created},
            status=code,
        )


class DashboardView(EvidentlyView):
    permission = {"POST": Perm.WRITE}

    def get(self, request: Request, project_id: str) -> Response:
        return Response(services.dashboard_of(self.project))

    def post(self, request: Request, project_id: str) -> Response:
        project = self.project
        document = self.json_body(request)
        if not isinstance(document, dict):
            raise serializers.ValidationError({"body": ["Expected a DashboardModel object."]})
        fields = {}
        for key in ("tabs", "panels"):
            if not isinstance(document.get(key, []), list):
                fields[key] = ["Expected a list."]
        if fields:
            raise serializers.ValidationError(fields)
        services.save_dashboard(project, {"tabs": [], "panels": [], **document})
        return Response(services.dashboard_of(project))
