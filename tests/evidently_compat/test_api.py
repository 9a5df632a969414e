"""The Evidently-compatible API with Django's test client: what Evidently's clients send, answered
as they expect; snapshots stored through our ingestion (points, test outcomes, idempotency); bad
input refused with a 4xx JSON error naming the field."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from evidently_compat import protocol
from evidently_compat.translation import translate
from mlplatform.accounts.models import ApiToken, TokenScope
from projects import services
from projects.models import MetricPoint, MetricSeries, Project, Snapshot, TestOutcome
from tests.evidently_compat.conftest import dump, dump_bytes
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db

PREFIXES = ("", "/evidently")


def evidently(secret: str | None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_EVIDENTLY_SECRET=secret)
    return client


def push(client: APIClient, project: Project, body: bytes, prefix: str = "", **extra: Any):
    return client.generic(
        "POST",
        f"{prefix}/api/v2/snapshots/{project.pk}",
        body,  # type: ignore[arg-type]  # bytes are sent as they are
        content_type="application/json",
        **extra,
    )


@pytest.fixture
def write_secret(acme) -> str:
    return make_token(acme, TokenScope.WRITE)[1]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_it_says_it_is_evidently_to_anyone(prefix):
    body = APIClient().get(f"{prefix}/api/version").json()
    assert body["application"] == protocol.APPLICATION_NAME == "Evidently UI"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_projects_are_created_listed_found_and_searched(acme, globex, write_secret, prefix):
    make_project(globex, "Theirs")
    client = evidently(write_secret)
    body = {"id": "00000000-0000-0000-0000-000000000000", "name": "Churn", "description": None,
            "org_id": None, "version": "2"}  # fmt: skip
    response = client.post(f"{prefix}/api/v2/projects", body, format="json")
    assert response.status_code == 201
    project = Project.objects.get(pk=response.json())
    assert (project.organization, project.name, project.description) == (acme, "Churn", "")
    listed = client.get(f"{prefix}/api/v2/projects").json()
    assert [p["name"] for p in listed] == ["Churn"]
    info = client.get(f"{prefix}/api/projects/{project.pk}/info").json()
    assert info == listed[0]
    assert info["id"] == str(project.pk)
    assert info["org_id"] == str(acme.pk)
    assert [p["id"] for p in client.get(f"{prefix}/api/projects/search/Churn").json()] == [
        str(project.pk)
    ]
    assert client.get(f"{prefix}/api/projects/search/Theirs").json() == []
    response = client.patch(
        f"{prefix}/api/v2/projects/{project.pk}", {"name": "Churn v2"}, format="json"
    )
    assert response.status_code == 200
    assert Project.objects.get(pk=project.pk).name == "Churn v2"


def test_a_missing_project_is_evidentlys_project_not_found(acme, write_secret):
    for url in [
        "/api/projects/6d2c1f9e-0000-4000-8000-000000000000/info",
        "/api/projects/not-a-uuid/info",
        "/api/v2/dashboards/not-a-uuid",
    ]:
        response = evidently(write_secret).get(url)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "project not found"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_pushed_snapshot_becomes_points_and_test_outcomes(acme, write_secret, prefix):
    project = make_project(acme, "P")
    response = push(evidently(write_secret), project, dump_bytes("summary"), prefix)
    assert response.status_code == 201, response.json()
    expected = translate(dump("summary"))
    assert response.json() == {"snapshot_id": expected["id"], "created": True}
    snapshot = Snapshot.objects.get(project=project)
    assert str(snapshot.uuid) == expected["id"]
    points = {
        (p.series.metric_id, p.series.field): p.value
        for p in MetricPoint.objects.filter(snapshot_id=snapshot.pk).select_related("series")
    }
    rows = dump("summary")["metric_results"]
    row_count = next(
        r["value"]
        for r in rows.values()
        if r["metric_value_location"]["metric"]["params"]["type"].endswith(":RowCount")
    )
    assert points[("DatasetSummary()", "current.row_count")] == row_count == 150
    means = {
        r["metric_value_location"]["metric"]["params"]["column"]: r["value"]
        for r in rows.values()
        if r["metric_value_location"]["metric"]["params"]["type"].endswith(":MeanValue")
    }
    assert len(means) == 5
    for column, mean in means.items():
        assert points[(f'ColumnSummary(column="{column}")', "current.mean")] == mean
    outcomes = TestOutcome.objects.filter(snapshot=snapshot)
    statuses = [t["status"] for r in rows.values() for t in r.get("tests") or []]
    assert sorted(o.status for o in outcomes) == sorted(statuses)
    assert snapshot.test_counts["FAIL"] == statuses.count("FAIL") > 0
    assert MetricSeries.objects.filter(project=project, metric_type="DatasetSummary").exists()


def test_the_same_snapshot_pushed_again_is_stored_once(acme, write_secret):
    project = make_project(acme, "P")
    client = evidently(write_secret)
    first = push(client, project, dump_bytes("drift"))
    again = push(client, project, dump_bytes("drift"))
    zipped = push(client, project, gzip.compress(dump_bytes("drift")), HTTP_CONTENT_ENCODING="gzip")
    assert (first.status_code, again.status_code, zipped.status_code) == (201, 200, 200)
    assert (
        first.json()["snapshot_id"] == again.json()["snapshot_id"] == zipped.json()["snapshot_id"]
    )
    assert again.json()["created"] is False
    assert Snapshot.objects.filter(project=project).count() == 1


def test_an_ingest_token_pushes_to_its_project_only(acme):
    project, other = make_project(acme, "P"), make_project(acme, "Q")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    client = evidently(secret)
    assert push(client, project, dump_bytes("tests")).status_code == 201
    assert push(client, other, dump_bytes("tests")).status_code == 404
    response = client.post("/api/v2/projects", {"name": "new"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"


def test_a_read_token_cannot_push(acme):
    project = make_project(acme, "P")
    _, secret = make_token(acme, TokenScope.READ)
    response = push(evidently(secret), project, dump_bytes("tests"))
    assert response.status_code == 403
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_EVIDENTLY_SECRET": "mlp_org_not-a-token"},
        {"HTTP_AUTHORIZATION": "Bearer nope"},
        {"HTTP_COOKIE": f"{protocol.ACCESS_COOKIE}=forged"},
    ],
)
def test_without_a_valid_token_it_is_a_401(acme, headers):
    project = make_project(acme, "P")
    client = APIClient()
    for response in [
        client.get("/api/v2/projects", **headers),
        push(client, project, dump_bytes("tests"), **headers),
    ]:
        assert response.status_code == 401
        assert response.json()["error"] in ("not_authenticated", "authentication_failed")
    assert not Snapshot.objects.exists()


def test_cloud_login_gives_a_session_that_acts_for_the_token(acme, write_secret):
    client = APIClient()
    response = client.get("/api/users/login", HTTP_X_EVIDENTLY_TOKEN=write_secret)
    assert response.status_code == 200
    session = response.content.decode()
    assert write_secret not in session
    client.cookies[protocol.ACCESS_COOKIE] = session
    assert client.get("/api/v2/projects").status_code == 200
    # Revoking the token ends its sessions too (a session is looked up again on every request).
    ApiToken.objects.filter(organization=acme).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v2/projects").status_code == 401
    assert APIClient().get("/api/users/login").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"metric_results": []}', "metric_results"),
        (b"not json", "body"),
        (b"[]", "body"),
        (b'{"metric_results": {}, "timestamp": "soon"}', "timestamp"),
        (b'{"metric_results": {}, "timestamp": "2026-11-02T06:00:00", "tags": ["x", 1]}', "tags.1"),
        (
            b'{"metric_results": {}, "timestamp": "2026-11-02T06:00:00", "tags": ["'
            + b"t" * 101
            + b'"]}',
            "tags.0",
        ),
    ],
)
def test_a_bad_snapshot_is_a_400_naming_the_field(acme, write_secret, body, field):
    project = make_project(acme, "P")
    response = push(evidently(write_secret), project, body)
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert not Snapshot.objects.exists()


def test_a_bad_project_or_dashboard_is_a_400_naming_the_field(acme, write_secret):
    project = make_project(acme, "P")
    client = evidently(write_secret)
    for body, field in [({}, "name"), ({"name": "x" * 500}, "name"), ({"name": 3j}, "body")]:
        if field == "body":
            response = client.generic(
                "POST", "/api/v2/projects", "{", content_type="application/json"
            )
        else:
            response = client.post("/api/v2/projects", body, format="json")
        assert response.status_code == 400
        if field != "body":
            assert field in response.json()["fields"]
    response = client.post(f"/api/v2/dashboards/{project.pk}", {"tabs": 3}, format="json")
    assert response.status_code == 400
    assert "tabs" in response.json()["fields"]
    response = client.post(f"/api/v2/dashboards/{project.pk}", [1], format="json")
    assert response.status_code == 400


def test_the_dashboard_document_is_kept_as_written(acme, write_secret):
    project = make_project(acme, "P")
    client = evidently(write_secret)
    assert client.get(f"/api/v2/dashboards/{project.pk}").json() == {"tabs": [], "panels": []}
    document = {
        "tabs": [{"id": "01", "title": "Drift", "panels": ["p1"]}],
        "panels": [{"id": "p1", "title": "Share", "subtitle": None, "size": "full",
                    "values": [], "plot_params": {"plot_type": "line"}}],
    }  # fmt: skip
    assert (
        client.post(f"/api/v2/dashboards/{project.pk}", document, format="json").status_code == 200
    )
    assert client.get(f"/evidently/api/v2/dashboards/{project.pk}").json() == document


def test_an_archived_project_takes_no_snapshot(acme, write_secret):
    project = make_project(acme, "P")
    services.archive_project(project)
    response = push(evidently(write_secret), project, dump_bytes("tests"))
    assert response.status_code == 409
    assert response.json()["error"] == "project_archived"


def test_an_unknown_evidently_route_is_a_json_404(write_secret):
    for url in ["/evidently/api/v2/nothing", "/evidently/elsewhere", "/api/v2/nothing"]:
        response = evidently(write_secret).get(url)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_a_body_over_the_limit_is_refused_before_it_is_read(acme, write_secret, settings):
    settings.SNAPSHOT_MAX_BYTES = 1024 * 1024
    project = make_project(acme, "P")
    body = json.dumps({"metric_results": {}, "pad": "x" * (1024 * 1024)}).encode()
    for prefix in PREFIXES:
        response = push(evidently(write_secret), project, body, prefix)
        assert response.status_code == 413
        assert response.json()["error"] == "request_too_large"
