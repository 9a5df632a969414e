"""REST API for a project's dashboard: the dashboard as code, its pre-built tabs and its data.

/api/v1/projects/{project_id}/dashboard                     GET, PUT (whole document)
/api/v1/projects/{project_id}/dashboard/panels              POST add a panel to a tab
/api/v1/projects/{project_id}/dashboard/panels/{panel_id}   DELETE
/api/v1/projects/{project_id}/dashboard/presets             GET which exist, POST add them as tabs
/api/v1/projects/{project_id}/dashboard/data                GET what a tab's (or a panel's) charts draw
/api/v1/projects/{project_id}/dashboard/choices             GET metrics, fields and tests to pick from
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mlplatform import querystring
from mlplatform.accounts.access import Perm
from mlplatform.accounts.scoped_api import ProjectScopedViewSet
from mlplatform.api_errors import error_body
from projects import panel_data, series_choices
from projects.dashboards import document, prebuilt_tabs, store
from projects.models import Dashboard, MetricSeries, Snapshot, TestOutcome


def _state_json(state: store.DashboardState) -> dict[str, Any]:
    return {
        "version": state.version,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
        **state.spec,
    }


def _expected_version(data: Any) -> int | None:
    raw = data.get("version") if isinstance(data, dict) else None
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ValidationError({"version": "Expected the whole number read with the dashboard."})
    return raw


def _conflict(exc: store.VersionConflict) -> Response:
    body = error_body("conflict", str(exc))
    body["version"] = exc.current
    return Response(body, status=status.HTTP_409_CONFLICT)


_WINDOW_PARAMETERS = [
    OpenApiParameter(
        "range",
        str,
        enum=querystring.RANGE_KEYS,
        description="Time range (default 30d); custom takes since and until.",
    ),
    OpenApiParameter("since", str, description="Start: a date or ISO 8601 time (custom range)."),
    OpenApiParameter("until", str, description="End (a date means to the end of that day)."),
    OpenApiParameter("tag", str, many=True, description="Only snapshots with every given tag."),
    OpenApiParameter("meta.<key>", str, description="Only snapshots whose metadata matches."),
]


class DashboardViewSet(ProjectScopedViewSet[Dashboard]):
    """A project's dashboard: read by anyone who sees the project, changed by members."""

    queryset = Dashboard.objects.all()
    # Saved by someone else since the version read.
    openapi_extra_errors = dict.fromkeys(
        ("update", "add_panel", "delete_panel", "add_presets"), ("409",)
    )
    action_permissions = {
        "update": Perm.WRITE,
        "add_panel": Perm.WRITE,
        "delete_panel": Perm.WRITE,
        "presets": Perm.READ,
        "add_presets": Perm.WRITE,
        "data": Perm.READ,
        "choices": Perm.READ,
    }

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        """The dashboard document (docs/dashboards.md). Version 0: none saved yet, this is the
        default made from what the project received."""
        return Response(_state_json(store.dashboard_of(self.project)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def update(self, request: Request, **kwargs: Any) -> Response:
        """Replace the whole dashboard. Send the `version` you read to be refused (409) rather
        than overwrite a change made meanwhile; leave it out to overwrite."""
        try:
            store.save_dashboard(
                self.project,
                request.data,
                user=self.access.user,
                expected_version=_expected_version(request.data),
            )
        except store.VersionConflict as exc:
            return _conflict(exc)
        return Response(_state_json(store.dashboard_of(self.project)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="panels", url_name="panels")
    def add_panel(self, request: Request, **kwargs: Any) -> Response:
        """Append a panel to a tab, named by id or title (a new tab when none has that title):
        `{"tab": "Data drift", "panel": {...}}`."""
        data = request.data if isinstance(request.data, dict) else {}
        tab_key = data.get("tab") or "Overview"
        if not isinstance(tab_key, str) or len(tab_key) > 60:
            raise ValidationError({"tab": "Expected a tab id or title (at most 60 characters)."})
        state = store.dashboard_of(self.project)
        spec = state.spec
        panel = document.clean_panel(data.get("panel"), spec)
        tab: dict[str, Any] | None = document.find_tab(spec, tab_key)
        if tab is None:
            tab = {"id": document.new_id("t"), "title": tab_key.strip(), "panels": []}
            spec["tabs"].append(tab)
        tab["panels"].append(panel)
        expected = _expected_version(data)
        try:
            store.save_dashboard(
                self.project,
                spec,
                user=self.access.user,
                expected_version=state.version if expected is None else expected,
            )
        except store.VersionConflict as exc:
            return _conflict(exc)
        return Response(
            {
                "tab": tab["id"],
                "panel": panel,
                "version": store.dashboard_of(self.project).version,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={204: None})
    @action(detail=True, methods=["delete"], url_path="panels/<str:panel_id>", url_name="panel")
    def delete_panel(self, request: Request, panel_id: str, **kwargs: Any) -> Response:
        state = store.dashboard_of(self.project)
        found = document.find_panel(state.spec, panel_id)
        if found is None:
            raise Http404(f"No panel {panel_id} on this dashboard.")
        tab, panel = found
        tab["panels"].remove(panel)
        try:
            store.save_dashboard(
                self.project, state.spec, user=self.access.user, expected_version=state.version
            )
        except store.VersionConflict as exc:
            return _conflict(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def presets(self, request: Request, **kwargs: Any) -> Response:
        """The pre-built tabs, and how many panels each would have from the project's data."""
        return Response({"presets": prebuilt_tabs.available_presets(self.project)})

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    @presets.mapping.post
    def add_presets(self, request: Request, **kwargs: Any) -> Response:
        """Add pre-built tabs: `{"presets": ["data_drift", "model_quality"]}`."""
        data = request.data if isinstance(request.data, dict) else {}
        keys = data.get("presets")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise ValidationError(
                {"presets": f"Expected a list of presets: {', '.join(prebuilt_tabs.PRESETS)}."}
            )
        state = store.dashboard_of(self.project)
        present = {tab["title"].lower() for tab in state.spec["tabs"]}
        tabs = [
            tab
            for tab in prebuilt_tabs.preset_tabs(
                self.project,
                keys[:10],
                taken=[t["id"] for t in state.spec["tabs"]]
                + [p["id"] for t in state.spec["tabs"] for p in t["panels"]],
            )
            if tab["title"].lower() not in present
        ]
        if not tabs and all(
            prebuilt_tabs.PRESETS[key][0].lower() in present
            for key in keys
            if key in prebuilt_tabs.PRESETS
        ):
            raise ValidationError({"presets": "These tabs are on the dashboard already."})
        if not tabs:
            raise ValidationError(
                {
                    "presets": "This project has no data for these tabs yet: push a snapshot with "
                    "the matching metrics first."
                }
            )
        spec = {"tabs": state.spec["tabs"] + tabs}
        try:
            store.save_dashboard(
                self.project, spec, user=self.access.user, expected_version=state.version
            )
        except store.VersionConflict as exc:
            return _conflict(exc)
        return Response(
            _state_json(store.dashboard_of(self.project)) | {"added": [t["id"] for t in tabs]},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("tab", str, description="A tab id (default: the first tab)."),
            OpenApiParameter("panel", str, many=True, description="Or panel ids (repeat)."),
            *_WINDOW_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def data(self, request: Request, **kwargs: Any) -> Response:
        """What each panel of a tab (or one panel) draws over a time range, with the filters. The
        Server-Timing header gives the time spent reading."""
        started = time.perf_counter()
        window = panel_data.parse_window(request.query_params)
        spec = store.dashboard_of(self.project).spec
        panel_ids, tab_id = (
            request.query_params.getlist("panel")[:50],
            request.query_params.get("tab"),
        )
        if panel_ids:
            panels = []
            for panel_id in dict.fromkeys(panel_ids):
                found = document.find_panel(spec, panel_id)
                if found is None:
                    raise Http404(f"No panel {panel_id} on this dashboard.")
                panels.append(found[1])
        else:
            tab = document.find_tab(spec, tab_id) if tab_id else (spec["tabs"] or [None])[0]
            if tab is None and tab_id:
                raise Http404(f"No tab {tab_id} on this dashboard.")
            panels = tab["panels"] if tab else []
        found_data = panel_data.panel_data(self.project, panels, window)
        elapsed = (time.perf_counter() - started) * 1000
        response = Response({"window": window.as_dict(), "panels": found_data})
        response["Server-Timing"] = f"data;dur={elapsed:.1f}"
        return response

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def choices(self, request: Request, **kwargs: Any) -> Response:
        """What the editor offers: the project's metrics (type, parameters, a label, fields) grouped
        and ordered as `series_choices` picks them, the metrics with distributions, and the tests
        of its recent snapshots."""
        groups = series_choices.grouped(
            MetricSeries.objects.filter(project=self.project).values_list(
                "pk", "metric_id", "metric_type", "params", "field"
            )
        )
        metrics = {group.metric: group.as_dict() for group in groups}
        recent = Snapshot.objects.filter(project=self.project).order_by("-timestamp")[:20]
        tests = (
            TestOutcome.objects.filter(snapshot_id__in=list(recent.values_list("pk", flat=True)))
            .values("test_id", "name")
            .distinct()
            .order_by("name")
        )
        return Response(
            {
                "metrics": list(metrics.values()),
                "distributions": [
                    m["metric"] for m in metrics.values() if m["type"] == "ColumnDistribution"
                ],
                "tests": [{"id": t["test_id"], "name": t["name"]} for t in tests],
                "panel_types": list(document.PANEL_TYPES),
            }
        )
