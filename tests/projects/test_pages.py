"""Project pages: create from the organisation's home, list snapshots, rename, restrict to teams,
archive and delete. The snapshot viewer and the list's filters are in test_snapshot_pages.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from projects.ingestion import ingest_snapshot
from projects.models import MetricPoint, Project
from tests.factories import make_project, make_team, snapshot_document

pytestmark = pytest.mark.django_db


def test_a_member_creates_a_project_and_sees_how_to_push_to_it(client_for, acme, bob):
    client = client_for(bob)
    response = client.post(
        reverse("project_create", args=[acme.slug]), {"name": "Fraud", "description": "card fraud"}
    )
    project = Project.objects.get(name="Fraud")
    assert response.url == reverse("project_detail", args=[acme.slug, project.pk])
    page = client.get(reverse("snapshot_list", args=[acme.slug, project.pk])).content.decode()
    assert "Push the first snapshot" in page
    assert f"--project {project.pk}" in page
    home = client.get(reverse("org_home", args=[acme.slug])).content.decode()
    assert "Fraud" in home
    assert "0 snapshots" in home


def test_viewers_cannot_create_projects(client_for, acme, vera):
    assert (
        client_for(vera)
        .post(reverse("project_create", args=[acme.slug]), {"name": "X"})
        .status_code
        == 403
    )
    assert not Project.objects.exists()


def test_the_snapshot_list_lists_and_filters_snapshots(client_for, acme, alice):
    project = make_project(acme, "Churn")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for day in range(3):
        document = snapshot_document(
            seed=day, timestamp=start + timedelta(days=day), tags=[f"day{day}"], name=f"run {day}"
        )
        ingest_snapshot(project, json.dumps(document).encode())
    client = client_for(alice)
    url = reverse("snapshot_list", args=[acme.slug, project.pk])
    page = client.get(url).content.decode()
    assert all(f"run {day}" in page for day in range(3))
    assert "3 snapshots" in page
    filtered = client.get(url, {"tag": "day1"}).content.decode()
    assert "run 1" in filtered
    assert "run 0" not in filtered
    assert "No snapshot matches" in client.get(url, {"status": "SUCCESS"}).content.decode()


def test_settings_rename_restrict_archive_and_delete(client_for, acme, alice, bob):
    project = make_project(acme, "Churn")
    ingest_snapshot(project, json.dumps(snapshot_document()).encode())
    team = make_team(acme, "Risk", [alice])
    client = client_for(alice)
    client.post(
        reverse("project_settings", args=[acme.slug, project.pk]),
        {"name": "Churn v2", "description": "new"},
    )
    client.post(reverse("project_teams", args=[acme.slug, project.pk]), {"teams": [str(team.pk)]})
    project.refresh_from_db()
    assert project.name == "Churn v2"
    assert list(project.teams.all()) == [team]
    # Bob is not in the team: the project is gone for him.
    assert (
        client_for(bob).get(reverse("project_detail", args=[acme.slug, project.pk])).status_code
        == 404
    )
    client.post(reverse("project_archive", args=[acme.slug, project.pk]), {"archive": "1"})
    project.refresh_from_db()
    assert project.is_archived
    client.post(reverse("project_delete", args=[acme.slug, project.pk]), {"confirm": "wrong"})
    assert Project.objects.filter(pk=project.pk).exists()
    client.post(reverse("project_delete", args=[acme.slug, project.pk]), {"confirm": "Churn v2"})
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not MetricPoint.objects.exists()


def test_members_cannot_archive_delete_or_restrict(client_for, acme, bob):
    project = make_project(acme, "Churn")
    client = client_for(bob)
    for name in ("project_archive", "project_delete", "project_teams"):
        assert (
            client.post(
                reverse(name, args=[acme.slug, project.pk]), {"confirm": "Churn"}
            ).status_code
            == 403
        )
    assert Project.objects.filter(pk=project.pk, archived_at__isnull=True).exists()


def test_projects_over_the_api(api_for, acme, alice, bob, vera):
    created = api_for(bob).post(
        f"/api/v1/orgs/{acme.pk}/projects", {"name": "Fraud"}, format="json"
    )
    assert created.status_code == 201
    project_id = created.json()["id"]
    assert (
        api_for(vera)
        .post(f"/api/v1/orgs/{acme.pk}/projects", {"name": "X"}, format="json")
        .status_code
        == 403
    )
    renamed = api_for(bob).patch(
        f"/api/v1/projects/{project_id}", {"description": "card fraud"}, format="json"
    )
    assert renamed.json()["description"] == "card fraud"
    assert api_for(bob).post(f"/api/v1/projects/{project_id}/archive").status_code == 403
    assert api_for(alice).post(f"/api/v1/projects/{project_id}/archive").json()["archived_at"]
    assert (
        api_for(alice).post(f"/api/v1/projects/{project_id}/unarchive").json()["archived_at"]
        is None
    )
    listed = api_for(vera).get(f"/api/v1/orgs/{acme.pk}/projects").json()
    assert [p["name"] for p in listed] == ["Fraud"]
    assert api_for(bob).delete(f"/api/v1/projects/{project_id}").status_code == 403
    assert api_for(alice).delete(f"/api/v1/projects/{project_id}").status_code == 204
    assert not Project.objects.exists()


def test_restricting_a_project_to_teams_over_the_api(api_for, acme, alice, bob):
    team = make_team(acme, "Risk", [alice])
    created = api_for(alice).post(
        f"/api/v1/orgs/{acme.pk}/projects",
        {"name": "Credit", "teams": [str(team.pk)]},
        format="json",
    )
    assert created.json()["teams"] == [str(team.pk)]
    assert api_for(bob).get(f"/api/v1/orgs/{acme.pk}/projects").json() == []
    assert api_for(bob).get(f"/api/v1/projects/{created.json()['id']}").status_code == 404
    refused = api_for(bob).post(
        f"/api/v1/orgs/{acme.pk}/projects", {"name": "X", "teams": [str(team.pk)]}, format="json"
    )
    assert refused.status_code == 403
