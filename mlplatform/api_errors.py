"""One error format for the API, and JSON instead of HTML error pages under /api/.

Every API error is a JSON object::

    {"error": "validation_error", "detail": "email: Enter a valid email address.",
     "fields": {"email": ["Enter a valid email address."]}}

`error` is a stable machine-readable code, `detail` a sentence for people, and `fields` (validation
errors only) maps each offending field's path (`teams.0`, `metrics.3.id`) to its messages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from mlplatform.querystring import QueryError


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested DRF error details as {"a.b.0": ["message", ...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:  # DRF puts empty dicts for valid list items
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(
    code: str, detail: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if fields is not None:
        body["fields"] = fields
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    if isinstance(exc, QueryError):
        exc = exceptions.ValidationError(exc.fields)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django answers with handler500, JSON under /api/
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        first_path, first_messages = next(iter(fields.items()), ("", ["Invalid input."]))
        where = "" if first_path == "non_field_errors" else f"{first_path}: "
        response.data = error_body("validation_error", where + first_messages[0], fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = error_body(
            codes if isinstance(codes, str) else exc.default_code, str(exc.detail)
        )
    return response


# The Evidently-compatible API is served under /evidently/ too (evidently_compat/urls.py).
API_PREFIXES = ("/api/", "/evidently/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


_BODY_METHODS = {"POST", "PUT", "PATCH"}
_MAX_LENGTH_DIGITS = 18


class ApiGuardMiddleware:
    """Under /api/: refuse bodies over the view's limit (413) or of unknown length (411) before
    anything reads them, and answer suspicious requests with the JSON error format.

    The limit is `settings.API_MAX_BODY_BYTES`, or the setting a view class names in
    `max_body_setting` when it needs more (snapshot ingestion: SNAPSHOT_MAX_BYTES).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not _is_api(request) or request.method not in _BODY_METHODS:
            return None
        view_class = getattr(view_func, "cls", None)
        limit = getattr(settings, getattr(view_class, "max_body_setting", "API_MAX_BODY_BYTES"))
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if raw_length == "":
            if request.META.get("HTTP_TRANSFER_ENCODING", "").lower() != "chunked":
                return None  # no body at all
            return JsonResponse(
                error_body(
                    "length_required",
                    "Send a Content-Length header with the body (chunked uploads are not accepted).",
                ),
                status=411,
            )
        # ASCII digits only: str.isdigit() accepts "²" and other digits that int() refuses.
        if not (raw_length.isascii() and raw_length.isdecimal()):
            return JsonResponse(
                error_body(
                    "bad_request",
                    f"Content-Length: {raw_length[:20]!r} is not a number of bytes.",
                ),
                status=400,
            )
        # No real body has a length of 20 digits, and int() refuses numbers over 4,300 digits.
        length = int(raw_length) if len(raw_length) <= _MAX_LENGTH_DIGITS else None
        if length is None or length > limit:
            size = f"{length:,} bytes" if length is not None else f"{len(raw_length)} digits long"
            return JsonResponse(
                error_body(
                    "request_too_large",
                    f"The body is {size}; this endpoint accepts at most {limit:,} bytes.",
                ),
                status=413,
            )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(error_body("request_too_large", str(exception)), status=413)
        if isinstance(exception, SuspiciousOperation):
            return JsonResponse(error_body("bad_request", str(exception)), status=400)
        return None


def api_not_found(request: HttpRequest) -> JsonResponse:
    """The last API route: JSON for unknown API URLs, with or without DEBUG."""
    return JsonResponse(
        error_body("not_found", f"No API endpoint at {request.path}; check the path and the docs."),
        status=404,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("not_found", "No such resource: check the URL and the object's id."),
            status=404,
        )
    return defaults.page_not_found(request, exception)


# Seconds a client is asked to wait before retrying when the database cannot serve it.
DATABASE_RETRY_AFTER = 1
# What Django raises when it cannot get or keep a database connection: the pool timed out (full,
# or PostgreSQL unreachable), the server went away mid-query, a connection was found closed.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

_UNAVAILABLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Unavailable for a moment</title></head>
<body><h1>Unavailable for a moment</h1>
<p>The service cannot reach its database right now. Try again in a few seconds.</p></body></html>
"""


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the client should retry. Built without the database, templates or
    static files, which may be what is failing."""
    if _is_api(request):
        response: HttpResponse = JsonResponse(
            error_body(
                "database_unavailable",
                "The service cannot reach its database right now; retry after "
                f"{DATABASE_RETRY_AFTER} second(s) (a snapshot pushed again with its id is "
                "stored once).",
            ),
            status=503,
        )
    else:
        response = HttpResponse(_UNAVAILABLE_PAGE, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls the 500 handler inside the `except` of whatever escaped: a view, a middleware,
    # DRF's handler (which leaves database errors to Django).
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=500,
        )
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("bad_request", str(exception) or "Bad request."), status=400)
    return defaults.bad_request(request, exception)
