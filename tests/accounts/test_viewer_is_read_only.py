"""Vera, a viewer, sees Acme but cannot change anything in it, through pages or the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alerts.models import AlertRule, Channel, Message, Silence
from collector.models import Collector, ReferenceDataset
from mlplatform.accounts.models import ApiToken, Invitation, Membership, Team
from tests.accounts.conftest import page_kwargs
from tests.accounts.test_cross_tenant import _call, api_routes, org_page_names, page_url

pytestmark = pytest.mark.django_db

GET_ONLY_PAGES = {
    "org_home",
    "project_list",
    "project_detail",
    "snapshot_list",
    "snapshot_detail",
    "alert_list",
}
READ_ONLY_PAGES = {
    "org_home",
    "org_members",
    "org_teams",
    "org_team",
    "org_tokens",
    "org_settings",
    "project_detail",
    "project_settings",
    "snapshot_list",
    "snapshot_detail",
    "alert_list",
    "alert_channels",
    "alert_channel_edit",
    "project_alerts",
    "alert_rule_detail",
    "project_collectors",
    "collector_detail",
}


def _snapshot(org) -> tuple:
    return (
        org.name,
        org.slug,
        sorted(Membership.objects.filter(organization=org).values_list("user__email", "role")),
        sorted(Team.objects.filter(organization=org).values_list("name", flat=True)),
        ApiToken.objects.filter(organization=org, revoked_at__isnull=True).count(),
        ApiToken.objects.filter(organization=org).count(),
        Invitation.objects.pending().filter(organization=org).count(),
        sorted(Channel.objects.filter(organization=org).values_list("name", "enabled", "secret")),
        sorted(
            AlertRule.objects.filter(project__organization=org).values_list(
                "name", "enabled", "severity"
            )
        ),
        sorted(Silence.objects.filter(project__organization=org).values_list("pk", "ends_at")),
        Message.objects.filter(channel__organization=org).count(),
        sorted(
            Collector.objects.filter(project__organization=org).values_list(
                "name", "enabled", "every_minutes", "cron"
            )
        ),
        ReferenceDataset.objects.filter(collector__project__organization=org).count(),
    )


def test_a_viewer_can_open_the_pages(client_for, furnished, vera):
    furnished.team.members.add(vera)
    client = client_for(vera)
    for name in READ_ONLY_PAGES:
        # Followed: a page may hand over to another (the project page to its snapshots, for now).
        response = client.get(page_url(name, furnished, vera), follow=True)
        assert response.status_code == 200, name


@pytest.mark.parametrize("name", org_page_names())
def test_a_viewer_cannot_change_anything_through_pages(client_for, furnished, bob, vera, name):
    furnished.team.members.add(vera)  # so she sees the team's project, and may still not change it
    before = _snapshot(furnished.org)
    url = page_url(name, furnished, bob)  # acting on bob, not on herself
    response = client_for(vera).post(
        url,
        {
            "name": "Renamed",
            "slug": "renamed",
            "role": "admin",
            "email": "x@example.com",
            "scope": "ingest",
            "project": str(furnished.project.pk),
            "expires": "30",
            "user": str(bob.pk),
            "confirm": furnished.org.slug,
        },
    )
    assert response.status_code == (405 if name in GET_ONLY_PAGES else 403), name
    furnished.org.refresh_from_db()
    assert _snapshot(furnished.org) == before


def test_a_viewer_cannot_change_anything_through_the_api(api_for, furnished, bob, vera):
    before = _snapshot(furnished.org)
    api = api_for(vera)
    checked = 0
    for name, method, url in api_routes(furnished, bob):
        if method in ("get", "head", "options") or str(furnished.org.pk) not in url:
            continue
        response = _call(api, method, url)
        assert response.status_code == 403, f"{method.upper()} {url} ({name})"
        assert response.json()["error"] == "permission_denied"
        checked += 1
    assert checked >= 8
    furnished.org.refresh_from_db()
    assert _snapshot(furnished.org) == before


def test_a_viewer_may_leave(client_for, acme, vera):
    url = reverse("org_member_remove", args=[acme.slug, vera.pk])
    assert client_for(vera).post(url).status_code == 302
    assert not acme.memberships.filter(user=vera).exists()


def test_viewers_see_no_invitations(client_for, furnished, vera):
    page = client_for(vera).get(reverse("org_members", args=[furnished.org.slug])).content.decode()
    assert "newcomer@example.com" not in page
    assert "Only owners and admins can invite" in page


def test_page_kwargs_cover_every_parameter(furnished, bob):
    values = page_kwargs(furnished, bob)
    for name in org_page_names():
        assert name is not None
        page_url(name, furnished, bob)  # raises if a parameter is missing
    assert set(values) >= {"org_slug"}
