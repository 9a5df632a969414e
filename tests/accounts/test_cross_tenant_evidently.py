"""Charlie's organisation's tokens get 404 for every Acme project on the Evidently-compatible API,
at the site root and under /evidently/, whatever the method; Acme's projects are in none of his
lists or searches. The routes are enumerated from evidently_compat's URL patterns, so a new one
is covered the day it is added."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from evidently_compat import urls as evidently_urls
from evidently_compat.models import EvidentlyDashboard
from mlplatform.accounts.models import TokenScope
from projects.models import Project, Snapshot
from tests.evidently_compat.conftest import dump_bytes
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db

NAMESPACES = ("evidently-root", "evidently")


def project_routes(project: Project) -> list[tuple[str, str, str]]:
    """(route name, method, url) of every route naming a project, under both prefixes."""
    routes = []
    for pattern in evidently_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if "project_id" not in pattern.pattern.converters:
            continue
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        methods = [m for m in ("get", "post", "patch", "delete") if hasattr(view, m)]
        for namespace in NAMESPACES:
            url = reverse(f"{namespace}:{pattern.name}", kwargs={"project_id": project.pk})
            routes += [(str(pattern.name), method, url) for method in methods]
    return routes


def test_every_project_route_is_enumerated(furnished):
    names = {name for name, _, _ in project_routes(furnished.project)}
    assert names == {
        "evidently-project",
        "evidently-project-info",
        "evidently-snapshots",
        "evidently-dashboard",
    }


def test_an_outsiders_tokens_get_404_for_every_acme_project(furnished, globex):
    project = furnished.project
    snapshots = Snapshot.objects.filter(project=project).count()
    _, write_secret = make_token(globex, TokenScope.WRITE)
    _, ingest_secret = make_token(globex, TokenScope.INGEST, project=make_project(globex, "G"))
    checked = 0
    for secret in (write_secret, ingest_secret):
        client = APIClient()
        client.credentials(HTTP_EVIDENTLY_SECRET=secret)
        for name, method, url in project_routes(project):
            if name == "evidently-snapshots":
                response = client.generic(
                    "POST", url, dump_bytes("tests").decode(), content_type="application/json"
                )
            elif method in ("post", "patch"):
                response = getattr(client, method)(
                    url, {"name": "pwned", "tabs": []}, format="json"
                )
            else:
                response = getattr(client, method)(url)
            assert response.status_code == 404, f"{method.upper()} {url} ({name})"
            assert response.json() == {"error": "not_found", "detail": "project not found"}
            checked += 1
    assert checked >= 2 * 2 * 7
    # Nothing changed in Acme.
    project.refresh_from_db()
    assert project.name != "pwned"
    assert Snapshot.objects.filter(project=project).count() == snapshots
    assert not EvidentlyDashboard.objects.exists()


def test_lists_and_searches_show_only_the_callers_projects(furnished, globex):
    make_project(globex, furnished.project.name)  # the same name, in Globex
    _, secret = make_token(globex, TokenScope.READ)
    client = APIClient()
    client.credentials(HTTP_EVIDENTLY_SECRET=secret)
    for prefix in ("", "/evidently"):
        listed = client.get(f"{prefix}/api/v2/projects").json()
        assert [p["org_id"] for p in listed] == [str(globex.pk)]
        found = client.get(f"{prefix}/api/projects/search/{furnished.project.name}").json()
        assert [p["org_id"] for p in found] == [str(globex.pk)]


def test_a_session_is_not_an_evidently_client(client_for, furnished, charlie, alice):
    # Browsers' sessions are not accepted here at all: an Evidently client sends a token.
    for user in (charlie, alice):
        response = client_for(user).get(f"/api/projects/{furnished.project.pk}/info")
        assert response.status_code == 401
