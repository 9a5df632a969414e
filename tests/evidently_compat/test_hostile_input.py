"""Hostile and malformed input to the Evidently-compatible API: every answer is a 4xx JSON error,
never a 500; a validation error names the offending field in `fields`. Malformed JSON, wrong
types, numbers and dates out of range, NUL characters, oversized and badly encoded bodies, bad
ids in paths, missing or invalid credentials, and another organisation's project (a 404)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from evidently_compat import protocol
from mlplatform.accounts.models import TokenScope
from projects.models import Project, Snapshot
from tests.evidently_compat.conftest import dump
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(acme) -> str:
    return make_token(acme, TokenScope.WRITE)[1]


@pytest.fixture
def project(acme) -> Project:
    return make_project(acme, "Mine")


def client(secret: str | None = None) -> APIClient:
    # A view's exception is a 500 response here, not an exception in the test: the answer is
    # what is checked.
    api = APIClient(raise_request_exception=False)
    if secret is not None:
        api.credentials(HTTP_EVIDENTLY_SECRET=secret)
    return api


def send(api: APIClient, method: str, url: str, body: bytes | None = None, **extra: Any):
    if body is None:
        return api.generic(method, url, **extra)
    extra.setdefault("content_type", "application/json")
    return api.generic(method, url, body, **extra)  # type: ignore[arg-type]


def refused(response: Any, status: int | tuple[int, ...], field: str | None = None) -> dict:
    """The response is a JSON error of `status`; with `field`, one naming that field: in `fields`
    (a validation error), or first in `detail` (the API's parse errors: "body: not valid JSON")."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.content[:2000])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str), body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    if field is not None:
        assert field in body.get("fields", {}) or body["detail"].startswith(f"{field}: "), body
    return body


def snapshot(**changes: Any) -> dict[str, Any]:
    """A real Evidently dump (the summary fixture) with `changes` applied at the top level."""
    document = dump("summary")
    document.update(changes)
    return document


def result(**params: Any) -> dict[str, Any]:
    """One Evidently metric result of a single value."""
    value = params.pop("value", 1.0)
    return {
        "type": "evidently.core.metric_types:SingleValue",
        "value": value,
        "metric_value_location": {"metric": {"params": params}},
    }


def with_results(*results: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document = {"timestamp": "2026-11-02T06:00:00", "metric_results": {}, **changes}
    document["metric_results"] = {f"m{i}": r for i, r in enumerate(results)}
    return document


ROWS = "evidently.metrics:RowCount"
PROJECT_ROUTES = [  # (method, url with {id}) of every route that names a project
    ("GET", "/api/v2/projects/{id}"),
    ("PATCH", "/api/v2/projects/{id}"),
    ("DELETE", "/api/v2/projects/{id}"),
    ("GET", "/api/projects/{id}/info"),
    ("POST", "/api/v2/snapshots/{id}"),
    ("GET", "/api/v2/dashboards/{id}"),
    ("POST", "/api/v2/dashboards/{id}"),
]
BODIES = {"PATCH": b'{"name": "x"}', "POST": b'{"tabs": [], "panels": []}'}


def _body(method: str, url: str) -> bytes | None:
    if "/snapshots/" in url:
        return json.dumps(dump("tests")).encode()
    return BODIES.get(method)


# ---- malformed JSON ---------------------------------------------------------------------------

MALFORMED = [b"{", b"not json", b'{"name": "x"} trailing', b'{"name": NaN}', b"\xff\xfe{}", b""]


@pytest.mark.parametrize("body", MALFORMED)
@pytest.mark.parametrize("prefix", ["", "/evidently"])
def test_malformed_json_is_a_400_naming_the_body(secret, project, body, prefix):
    api = client(secret)
    for method, url in [
        ("POST", "/api/v2/projects"),
        ("PATCH", f"/api/v2/projects/{project.pk}"),
        ("POST", f"/api/v2/dashboards/{project.pk}"),
    ]:
        refused(send(api, method, prefix + url, body), 400, "body")
    if body == b'{"name": NaN}':  # Evidently's own json.dumps writes NaN: read as null
        return
    refused(send(api, "POST", f"{prefix}/api/v2/snapshots/{project.pk}", body), 400, "body")
    assert Snapshot.objects.count() == 0


def test_a_body_not_sent_as_json_is_a_415(secret, project):
    api = client(secret)
    response = send(api, "POST", "/api/v2/projects", b"name=x", content_type="text/plain")
    refused(response, 415)
    response = send(api, "POST", f"/api/v2/dashboards/{project.pk}", b"a=b",
                    content_type="application/x-www-form-urlencoded")  # fmt: skip
    refused(response, 415)


def test_a_charset_other_than_utf8_is_a_400(secret):
    response = send(
        client(secret), "POST", "/api/v2/projects", b'{"name": "x"}',
        content_type="application/json; charset=latin-1",
    )  # fmt: skip
    refused(response, 400)


def test_json_nested_too_deeply_is_a_400(secret, project):
    deep = b"[" * 5000 + b"]" * 5000
    api = client(secret)
    refused(send(api, "POST", "/api/v2/projects", deep), 400, "body")
    refused(send(api, "POST", f"/api/v2/dashboards/{project.pk}", deep), 400, "body")
    nested: Any = {}
    for _ in range(40):
        nested = {"a": nested}
    doc = json.dumps({"tabs": [], "panels": [], "extra": nested}).encode()
    refused(send(api, "POST", f"/api/v2/dashboards/{project.pk}", doc), 400, "body")
    refused(send(api, "POST", f"/api/v2/snapshots/{project.pk}", deep), 400, "body")


# ---- wrong types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": 3}, None),  # DRF's CharField takes a number as its text
        ({"name": ["x"]}, "name"),
        ({"name": {"a": 1}}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\u0000b"}, "name"),
        ({"name": "ok", "description": ["x"]}, "description"),
        ({"name": "ok", "description": "d" * 2001}, "description"),
        ({"name": "ok", "description": "a\u0000b"}, "description"),
        ([{"name": "x"}], "non_field_errors"),
        ("x", "non_field_errors"),
        (None, "non_field_errors"),
    ],
)
def test_a_bad_project_is_a_400_naming_the_field(secret, project, body, field):
    api = client(secret)
    raw = json.dumps(body).encode()
    response = send(api, "POST", "/api/v2/projects", raw)
    if field is None:
        assert response.status_code == 201, response.content
        return
    refused(response, 400, field)
    if body == {}:  # a partial update may leave the name out
        return
    refused(send(api, "PATCH", f"/api/v2/projects/{project.pk}", raw), 400, field)
    assert Project.objects.get(pk=project.pk).name == "Mine"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1], "body"),
        ("tabs", "body"),
        (None, "body"),
        ({"tabs": 3}, "tabs"),
        ({"panels": {"a": 1}}, "panels"),
        ({"tabs": [], "panels": [], "title": "a\u0000b"}, "title"),
        ({"tabs": [{"id": "a\u0000"}]}, "tabs.0.id"),
        ({"tabs": [], "a\u0000": 1}, "a\\u0000"),
    ],
)
def test_a_bad_dashboard_is_a_400_naming_the_field(secret, project, body, field):
    api = client(secret)
    response = send(api, "POST", f"/api/v2/dashboards/{project.pk}", json.dumps(body).encode())
    refused(response, 400, field)
    assert api.get(f"/api/v2/dashboards/{project.pk}").json() == {"tabs": [], "panels": []}


BIG = 2**70  # Python's json reads it; no 64-bit integer holds it
SNAPSHOTS = [
    (b'{"metric_results": []}', "metric_results"),
    (b'{"metric_results": {"m": 3}}', "metric_results.m"),
    (b'{"metric_results": {"m": {"metric_value_location": "x"}}}',
     "metric_results.m.metric_value_location"),
    (with_results(result(type=5)), "metric_results.m0.metric_value_location.metric.params.type"),
    (with_results(result(type="a b")), "metric_results.m0.metric_value_location.metric.params.type"),
    (with_results(result(type=ROWS, value="many")), "metric_results.m0.value"),
    (with_results(result(type=ROWS, value=[1])), "metric_results.m0.value"),
    (with_results(result(type=ROWS, value=BIG)), "metric_results.m0.value"),
    (with_results(result(type=ROWS, value=10**400)), "body"),  # no float holds it either
    (with_results(result(type=ROWS, value=-(2**63) - 1)), "metric_results.m0.value"),
    (with_results(result(type="evidently.metrics:QuantileValue", column="a", quantile=[0.5])),
     None),
    (with_results(result(type="evidently.metrics:QuantileValue", column="a", quantile={})), None),
    (with_results(result(type="evidently.metrics:ColumnCount", column_type=["x"])), None),
    (with_results(result(type="evidently.metrics:ColumnCount", column_type={"a": 1})), None),
    (with_results(result(type="evidently.metrics:ValueDrift", column="a", method="PSI",
                         threshold=BIG)),
     "metric_results.m0.metric_value_location.metric.params.threshold"),
    (with_results({"type": "evidently.core.metric_types:CountValue", "count": 1, "share": 1e-320,
                   "metric_value_location": {"metric": {"params": {
                       "type": "evidently.metrics:DriftedColumnsCount", "drift_share": 0.5}}}}),
     None),
    (with_results({"type": "evidently.core.metric_types:ByLabelValue", "values": [1, 2],
                   "metric_value_location": {"metric": {"params": {
                       "type": "evidently.metrics:PrecisionByLabel"}}}}),
     "metric_results.m0.values"),
    (with_results({**result(type=ROWS), "tests": "all"}), "metric_results.m0.tests"),
    (with_results({**result(type=ROWS), "tests": [3]}), "metric_results.m0.tests.0"),
    (with_results({**result(type=ROWS), "tests": [{"status": "MAYBE"}]}),
     "metric_results.m0.tests.0.status"),
    (with_results(timestamp=5), "timestamp"),
    (with_results(timestamp="soon"), "timestamp"),
    (with_results(timestamp="0001-01-01T00:00:00+05:00"), "timestamp"),
    (with_results(timestamp="9999-12-31T23:59:59-05:00"), "timestamp"),
    (with_results(name=5), "name"),
    (with_results(name="a\u0000b"), "name"),
    (with_results(tags="x"), "tags"),
    (with_results(tags=["a\u0000"]), "tags.0"),
    (with_results(metadata=[1]), "metadata"),
    (with_results(metadata={"k": BIG}), "metadata.k"),
    (with_results(metadata={"k": "a\ud800"}), "metadata.k"),
    (with_results(metadata={"a\ud800": 1}), "metadata"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), SNAPSHOTS)
def test_a_bad_snapshot_is_a_4xx_naming_the_field(secret, project, body, field):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = send(client(secret), "POST", f"/api/v2/snapshots/{project.pk}", raw)
    if field is None:  # readable after all (the odd parameter is kept, not mapped): stored
        assert response.status_code == 201, response.content[:2000]
        assert Snapshot.objects.count() == 1
        return
    refused(response, 400, field)
    assert Snapshot.objects.count() == 0


def test_a_number_over_pythons_digit_limit_is_a_400(secret, project):
    raw = b'{"metric_results": {}, "timestamp": "2026-11-02T06:00:00", "n": ' + b"9" * 5000 + b"}"
    refused(send(client(secret), "POST", f"/api/v2/snapshots/{project.pk}", raw), 400, "body")


def test_a_lone_surrogate_is_a_400_naming_the_body(secret, project):
    raw = b'{"metric_results": {}, "timestamp": "2026-11-02T06:00:00", "name": "\\ud800"}'
    refused(send(client(secret), "POST", f"/api/v2/snapshots/{project.pk}", raw), 400, "name")


# ---- oversized and badly encoded bodies --------------------------------------------------------


def test_oversized_bodies_are_a_413(secret, project, settings):
    settings.API_MAX_BODY_BYTES = 4096
    settings.SNAPSHOT_MAX_BYTES = 1024 * 1024
    api = client(secret)
    big = json.dumps({"name": "x", "pad": "y" * 5000}).encode()
    refused(send(api, "POST", "/api/v2/projects", big), 413)
    refused(send(api, "PATCH", f"/api/v2/projects/{project.pk}", big), 413)
    refused(send(api, "POST", f"/api/v2/dashboards/{project.pk}", big), 413)
    huge = json.dumps(snapshot(pad="z" * (1024 * 1024))).encode()
    refused(send(api, "POST", f"/api/v2/snapshots/{project.pk}", huge), 413)
    # Within the limit compressed, past it once decompressed: stopped while decompressing.
    bomb = gzip.compress(huge)
    assert len(bomb) < 1024 * 1024
    response = send(
        api, "POST", f"/api/v2/snapshots/{project.pk}", bomb, HTTP_CONTENT_ENCODING="gzip"
    )
    refused(response, 413, "body")
    response = send(api, "POST", f"/api/v2/snapshots/{project.pk}", b"x", CONTENT_LENGTH="9" * 30)
    refused(response, 413)
    assert Snapshot.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (b"not gzip", "gzip"),
        (gzip.compress(b'{"metric_results": {}}')[:-6], "gzip"),  # truncated
        (gzip.compress(b"{}") + b"tail", "gzip"),
        (b"{}", "br"),
        (b"{}", "gzip, deflate"),
    ],
)
def test_a_badly_encoded_snapshot_is_a_400_naming_the_body(secret, project, body, encoding):
    response = send(
        client(secret), "POST", f"/api/v2/snapshots/{project.pk}", body,
        HTTP_CONTENT_ENCODING=encoding,
    )  # fmt: skip
    refused(response, 400, "body")


def test_a_bad_content_length_is_a_4xx(secret, project):
    api = client(secret)
    for length in ["abc", "-1", "1.5", "²"]:
        response = send(
            api, "POST", f"/api/v2/snapshots/{project.pk}", b"{}", CONTENT_LENGTH=length
        )
        refused(response, 400)


# ---- bad ids in paths -----------------------------------------------------------------------------

BAD_IDS = [
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "6d2c1f9e-0000-4000-8000-00000000000",  # one digit short
    "%7B6d2c1f9e-0000-4000-8000-000000000000%7D",
    "a%00b",
    "%FF%FE",
    "x" * 5000,
    "1",
    "-1",
    "%20",
    "..%2F..%2Fetc",
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(("method", "url"), PROJECT_ROUTES)
def test_a_bad_project_id_is_a_json_404(secret, project, bad, method, url):
    response = send(client(secret), method, url.format(id=bad), _body(method, url))
    body = refused(response, 404)
    assert body["detail"] in (protocol.PROJECT_NOT_FOUND, body["detail"])
    assert Project.objects.filter(pk=project.pk).exists()


@pytest.mark.parametrize("name", ["a%00b", "%FF", "x" * 5000, "%20", "%25", "'; DROP TABLE x;--"])
def test_searching_a_hostile_name_is_an_answer_or_a_400(secret, project, name):
    response = client(secret).get(f"/api/projects/search/{name}")
    if response.status_code == 200:
        assert response.json() == []
    else:
        refused(response, 400, "name")


# ---- credentials ---------------------------------------------------------------------------------

CREDENTIALS = [
    {},
    {"HTTP_EVIDENTLY_SECRET": "mlp_org_not-a-token"},
    {"HTTP_EVIDENTLY_SECRET": "x" * 10000},
    {"HTTP_EVIDENTLY_SECRET": "é"},
    {"HTTP_EVIDENTLY_SECRET": " "},
    {"HTTP_AUTHORIZATION": "Bearer"},
    {"HTTP_AUTHORIZATION": "Bearer a b c"},
    {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    {"HTTP_COOKIE": f"{protocol.ACCESS_COOKIE}=forged"},
    {"HTTP_COOKIE": f"{protocol.ACCESS_COOKIE}=" + "a" * 4000},
]


@pytest.mark.parametrize("headers", CREDENTIALS)
def test_without_a_valid_token_every_route_is_a_401(project, headers):
    api = client()
    routes = [("GET", "/api/v2/projects"), ("POST", "/api/v2/projects")]
    routes += [(m, u.format(id=project.pk)) for m, u in PROJECT_ROUTES]
    routes += [("GET", "/api/projects/search/Mine")]
    for method, url in routes:
        body = _body(method, url) if "{id}" not in url else None
        if method == "POST" and url == "/api/v2/projects":
            body = b'{"name": "new"}'
        elif body is None and method in BODIES:
            body = _body(method, url.replace(str(project.pk), "{id}"))
        response = send(api, method, url, body, **headers)
        refused(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Project.objects.filter(name="Mine").count() == 1
    assert Snapshot.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_EVIDENTLY_TOKEN": "nope"}, {"HTTP_X_EVIDENTLY_TOKEN": "x" * 10000}],
)
def test_a_refused_login_is_a_401(headers):
    refused(client().get("/api/users/login", **headers), 401)


def test_a_revoked_or_expired_token_is_a_401(acme, project):
    token, secret = make_token(acme, TokenScope.WRITE)
    token.revoked_at = "2026-01-01T00:00:00Z"
    token.save()
    refused(client(secret).get("/api/v2/projects"), 401)
    refused(client().get("/api/users/login", HTTP_X_EVIDENTLY_TOKEN=secret), 401)


def test_a_token_in_the_url_is_refused(secret):
    refused(client().get(f"/api/v2/projects?token={secret}"), 401)
    refused(client(secret).get(f"/api/v2/projects?secret={secret}"), 401)


# ---- another organisation -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), PROJECT_ROUTES)
def test_another_organisations_project_is_a_404(secret, globex, method, url):
    theirs = make_project(globex, "Theirs")
    for prefix in ["", "/evidently"]:
        response = send(client(secret), method, prefix + url.format(id=theirs.pk),
                        _body(method, url))  # fmt: skip
        body = refused(response, 404)
        assert body["detail"] == protocol.PROJECT_NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert not Snapshot.objects.filter(project=theirs).exists()
    assert client(secret).get("/api/projects/search/Theirs").json() == []
    assert [p["name"] for p in client(secret).get("/api/v2/projects").json()] == []
