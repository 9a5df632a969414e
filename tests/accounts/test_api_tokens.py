"""API tokens: shown once, stored as hashes, scoped, expiring, revocable, and only in the header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mlplatform.accounts.models import ApiToken, TokenScope
from tests.factories import make_project, make_token

pytestmark = pytest.mark.django_db


def test_it_shows_the_secret_once_and_lists_tokens_without_it(api_for, acme, alice):
    project = make_project(acme, "Churn")
    api = api_for(alice)
    created = api.post(
        f"/api/v1/orgs/{acme.pk}/tokens",
        {"name": "nightly job", "scope": "ingest", "project": str(project.pk)},
        format="json",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["token"]
    assert secret.startswith("mlp_ing_")
    assert len(secret) > 40
    assert created.json()["display"] == f"mlp_ing_…{secret[-4:]}"

    listed = api.get(f"/api/v1/orgs/{acme.pk}/tokens").json()
    assert [t["name"] for t in listed] == ["nightly job"]
    assert secret not in str(listed)
    assert "token" not in listed[0]
    detail = api.get(f"/api/v1/orgs/{acme.pk}/tokens/{listed[0]['id']}").json()
    assert secret not in str(detail)


def test_it_keeps_no_secret_in_clear_in_the_database(acme):
    project = make_project(acme, "Churn")
    secrets = [
        make_token(acme, TokenScope.INGEST, project=project)[1],
        make_token(acme, TokenScope.READ)[1],
        make_token(acme, TokenScope.WRITE)[1],
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    dump = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 3
    for secret in secrets:
        assert secret not in dump
        # Not even the random part without its prefix.
        assert secret.split("_", 2)[2] not in dump
        assert secret[-4:] in dump  # what is kept for display


def test_it_authenticates_with_a_bearer_header_and_records_last_use(api_for, acme):
    token, secret = make_token(acme, TokenScope.READ)
    assert token.last_used_at is None
    response = api_for(token=secret).get(f"/api/v1/orgs/{acme.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_writes_last_use_at_most_once_a_minute(api_for, acme, settings):
    # The test moves last use back in the row: no process may hold the token meanwhile.
    settings.API_TOKEN_CACHE_SECONDS = 0
    token, secret = make_token(acme, TokenScope.READ)
    api = api_for(token=secret)
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    api.get(f"/api/v1/orgs/{acme.pk}")
    token.refresh_from_db()
    assert token.last_used_at == recent

    stale = timezone.now() - timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    api.get(f"/api/v1/orgs/{acme.pk}")
    token.refresh_from_db()
    assert token.last_used_at > stale + timedelta(seconds=60)


def test_it_refuses_a_revoked_token_with_401(api_for, acme, alice):
    token, secret = make_token(acme, TokenScope.READ)
    assert api_for(token=secret).get(f"/api/v1/orgs/{acme.pk}").status_code == 200
    revoked = api_for(alice).delete(f"/api/v1/orgs/{acme.pk}/tokens/{token.pk}")
    assert revoked.status_code == 204
    response = api_for(token=secret).get(f"/api/v1/orgs/{acme.pk}")
    assert response.status_code == 401
    assert response.json() == {
        "error": "authentication_failed",
        "detail": "This token was revoked; create a new one.",
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_it_refuses_an_expired_token_with_401(api_for, acme):
    token, secret = make_token(acme, TokenScope.READ, expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_for(token=secret).get(f"/api/v1/orgs/{acme.pk}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer mlp_org_not-a-real-token", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"],
)
def test_it_refuses_unknown_or_malformed_tokens_with_401(api_for, acme, header):
    client = api_for()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"/api/v1/orgs/{acme.pk}")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_it_answers_401_without_credentials(api_for, acme):
    response = api_for().get(f"/api/v1/orgs/{acme.pk}")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("param", ["token", "access_token", "api_key", "q"])
def test_it_refuses_tokens_in_the_query_string(api_for, acme, param):
    _, secret = make_token(acme, TokenScope.READ)
    # Even alongside a valid header: a token in a URL is a leak to refuse loudly.
    response = api_for(token=secret).get(f"/api/v1/orgs/{acme.pk}?{param}={secret}")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert api_for().get(f"/api/v1/orgs/{acme.pk}?{param}={secret}").status_code == 401


def test_an_ingest_token_cannot_read(api_for, acme):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    api = api_for(token=secret)
    for path in ["", "/members", "/teams", "/tokens"]:
        response = api.get(f"/api/v1/orgs/{acme.pk}{path}")
        assert response.status_code == 403, path
        assert response.json()["detail"] == "An ingest token can only push data to its project."
    assert api.get("/api/v1/orgs").status_code == 403


def test_a_read_token_reads_but_cannot_write(api_for, acme, bob):
    _, secret = make_token(acme, TokenScope.READ)
    api = api_for(token=secret)
    assert api.get(f"/api/v1/orgs/{acme.pk}/members").status_code == 200
    assert api.patch(f"/api/v1/orgs/{acme.pk}", {"name": "X"}, format="json").status_code == 403
    assert (
        api.post(f"/api/v1/orgs/{acme.pk}/teams", {"name": "Ops"}, format="json").status_code == 403
    )
    response = api.post(
        f"/api/v1/orgs/{acme.pk}/tokens", {"name": "x", "scope": "read"}, format="json"
    )
    assert response.status_code == 403


def test_a_write_token_issues_ingest_tokens_but_not_org_tokens(api_for, acme):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.WRITE)
    api = api_for(token=secret)
    ingest = api.post(
        f"/api/v1/orgs/{acme.pk}/tokens",
        {"name": "pipeline", "scope": "ingest", "project": str(project.pk)},
        format="json",
    )
    assert ingest.status_code == 201
    assert ingest.json()["created_by"] is None
    for scope in ["read", "write"]:
        response = api.post(
            f"/api/v1/orgs/{acme.pk}/tokens", {"name": "x", "scope": scope}, format="json"
        )
        assert response.status_code == 403, scope
    # Nor manage people.
    assert api.get(f"/api/v1/orgs/{acme.pk}/invitations").status_code == 403


def test_members_issue_ingest_tokens_for_projects_they_see_only(api_for, acme, alice, bob):
    from tests.factories import make_team

    open_project = make_project(acme, "Open")
    secret_project = make_project(acme, "Secret", teams=[make_team(acme, "Risk", [alice])])
    api = api_for(bob)
    ok = api.post(
        f"/api/v1/orgs/{acme.pk}/tokens",
        {"name": "mine", "scope": "ingest", "project": str(open_project.pk)},
        format="json",
    )
    assert ok.status_code == 201
    hidden = api.post(
        f"/api/v1/orgs/{acme.pk}/tokens",
        {"name": "theirs", "scope": "ingest", "project": str(secret_project.pk)},
        format="json",
    )
    assert hidden.status_code == 400
    assert hidden.json()["fields"] == {"project": ["No such project in this organisation."]}
    org_token = api.post(
        f"/api/v1/orgs/{acme.pk}/tokens", {"name": "x", "scope": "read"}, format="json"
    )
    assert org_token.status_code == 403


def test_members_revoke_their_own_ingest_tokens_only(api_for, acme, alice, bob):
    project = make_project(acme, "Churn")
    alices, _ = make_token(acme, TokenScope.INGEST, project=project)
    bobs = api_for(bob).post(
        f"/api/v1/orgs/{acme.pk}/tokens",
        {"name": "mine", "scope": "ingest", "project": str(project.pk)},
        format="json",
    )
    api = api_for(bob)
    assert api.delete(f"/api/v1/orgs/{acme.pk}/tokens/{alices.pk}").status_code == 403
    assert api.delete(f"/api/v1/orgs/{acme.pk}/tokens/{bobs.json()['id']}").status_code == 204
    alices.refresh_from_db()
    assert alices.revoked_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scope": "ingest"}, "project"),
        ({"name": "x", "scope": "admin"}, "scope"),
        ({"name": "", "scope": "read"}, "name"),
        ({"name": "x", "scope": "read", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scope": "read", "expires_at": "soon"}, "expires_at"),
        ({"name": "x", "scope": "ingest", "project": "not-a-uuid"}, "project"),
        ({"name": "x", "scope": "read", "colour": "red"}, "colour"),
    ],
)
def test_it_explains_bad_token_requests_by_field(api_for, acme, alice, body, field):
    response = api_for(alice).post(f"/api/v1/orgs/{acme.pk}/tokens", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert field in response.json()["fields"]
    assert ApiToken.objects.count() == 0


def test_an_org_token_may_not_be_bound_to_a_project(api_for, acme, alice):
    project = make_project(acme, "Churn")
    response = api_for(alice).post(
        f"/api/v1/orgs/{acme.pk}/tokens",
        {"name": "x", "scope": "read", "project": str(project.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert "project" in response.json()["fields"]


def test_me_describes_the_token_or_the_user(api_for, acme, alice):
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    as_token = api_for(token=secret).get("/api/v1/me").json()
    assert as_token["type"] == "token"
    assert as_token["token"]["project"] == str(project.pk)
    assert as_token["organization"]["id"] == str(acme.pk)
    as_user = api_for(alice).get("/api/v1/me").json()
    assert as_user["type"] == "user"
    assert as_user["organizations"][0]["role"] == "owner"
