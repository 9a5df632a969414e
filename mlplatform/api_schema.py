"""What the API says about itself: the OpenAPI schema (drf-spectacular), where every operation also
documents the error answers the platform gives it in the one error format of mlplatform.api_errors,
and the answer to OPTIONS."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_parameter_type
from drf_spectacular.utils import OpenApiParameter
from rest_framework.metadata import BaseMetadata
from rest_framework.request import Request
from rest_framework.views import APIView

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A stable code: validation_error, not_found, …"},
        "detail": {"type": "string", "description": "A sentence for people."},
        "fields": {
            "type": "object",
            "description": "Validation errors only: each offending field's path and its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

ERRORS = {
    "400": "Invalid input (body or query parameters): `fields` names each offending field.",
    "401": "No credentials, or an unknown, revoked or expired token, or a token in the URL.",
    "403": "The role or the token's scope does not allow this.",
    "404": "No such object, or it belongs to an organisation the caller is not in.",
    "409": "Conflict with the stored state.",
    "411": "A body without Content-Length.",
    "413": "The body is over the size limit.",
    "415": "The body is not JSON.",
    "429": "Rate limit reached: retry after the `Retry-After` header's seconds.",
}


# An item of the answer of a `list` action documented in docs/ rather than by a serializer:
# drf-spectacular makes the action's answer an array of it.
LIST_ITEM = {"type": "object", "additionalProperties": True}

# Every id in our URLs is a UUID (the lookup of teams, tokens and invitations is "pk").
UUID_PARAMETERS = {
    "org_id": "The organisation's id.",
    "project_id": "The project's id.",
    "user_id": "The user's id.",
    "snapshot_id": "The snapshot's id (the one in its document).",
    "pk": "The object's id.",
}


class AutoSchema(SpectacularAutoSchema):
    def _resolve_path_parameters(self, variables: list[str]) -> list[Any]:
        known = [v for v in variables if v in UUID_PARAMETERS]
        parameters = super()._resolve_path_parameters([v for v in variables if v not in known])
        for variable in known:
            parameters.append(
                build_parameter_type(
                    name=variable,
                    schema={"type": "string", "format": "uuid"},
                    location=OpenApiParameter.PATH,
                    description=UUID_PARAMETERS[variable],
                )
            )
        return parameters

    def _error_codes(self) -> list[str]:
        # Any operation can refuse bad input (query parameters included).
        codes = ["400", "401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["411", "413", "415"]
        # A view's own: a tuple for all its operations, or a dict of them by action.
        extra = getattr(self.view, "openapi_extra_errors", ())
        if isinstance(extra, dict):
            extra = extra.get(getattr(self.view, "action", None), ())
        codes += list(extra)
        return codes

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        for code in self._error_codes():
            responses.setdefault(
                code,
                {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
        return responses


class ApiMetadata(BaseMetadata):
    """OPTIONS: the endpoint's name, description and formats; the methods are in the Allow header
    and the request and response shapes in the OpenAPI schema (/api/schema/).

    DRF's SimpleMetadata would describe `serializer_class`'s fields for POST and PUT, calling
    get_object() on the way: that is a 500 on a viewset without a serializer or without a `pk` in
    its URL, and a wrong answer on ours, whose input is checked by each app's validation module
    rather than by the serializer that renders the output."""

    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/schema/",
        }
