"""The small things a new user notices (issue 15, item 7): page titles, plurals, labels, errors
under their own field, a GET on a POST-only address, the project list's address, the favicon, the token form's project, one
name for the token variable, and a unit on a no-data rule's value."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from alerts.templatetags.alert_tags import quiet_for
from tests.alerts.alerting import make_rule
from tests.factories import make_project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def _title(response) -> str:
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert found, response.content[:300]
    return " ".join(found.group(1).split())


def test_page_titles_have_their_separator(client, alice, acme):
    project = make_project(acme, "Credit scoring")
    assert _title(client.get("/accounts/login/")).endswith(f" · {settings.SITE_NAME}")
    client.force_login(alice)
    slug = acme.slug
    pages = {
        reverse("project_detail", args=[slug, project.pk]): "Credit scoring",
        reverse("org_tokens", args=[slug]): None,
        reverse("project_alerts", args=[slug, project.pk]): None,
    }
    for path, own in pages.items():
        title = _title(client.get(path))
        mine, _, site = title.rpartition(" · ")
        assert site == settings.SITE_NAME, title
        assert mine, title
        assert not mine.endswith(settings.SITE_NAME), title
        if own:
            assert mine.startswith(own), title


def test_a_get_on_the_new_project_address_leads_to_its_form(client, alice, acme):
    client.force_login(alice)
    response = client.get(reverse("project_create", args=[acme.slug]))
    assert response.status_code == 302
    assert response["Location"].endswith("?new=1#new-project")
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert 'id="new-project" open' in page


def test_the_project_list_address_leads_to_the_organisations_projects(client, alice, acme):
    make_project(acme, "Credit scoring")
    client.force_login(alice)
    response = client.get(f"/o/{acme.slug}/projects/")
    assert response.status_code == 302
    assert response["Location"] == reverse("org_home", args=[acme.slug])
    assert "Credit scoring" in client.get(response["Location"]).content.decode()


def test_the_favicon_answers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/logo.svg")


def test_the_token_form_preselects_the_project_it_was_opened_from(client, alice, acme):
    make_project(acme, "Alpha")
    chosen = make_project(acme, "Zulu")
    client.force_login(alice)
    page = client.get(reverse("org_tokens", args=[acme.slug]), {"project": chosen.pk})
    html = page.content.decode()
    assert re.search(rf'<option value="{chosen.pk}" selected>', html), html[:2000]
    # From the project's own page, the link carries the project.
    dashboard = client.get(reverse("project_detail", args=[acme.slug, chosen.pk])).content.decode()
    assert f"tokens/?project={chosen.pk}" in dashboard
    # Nonsense or another organisation's project preselects nothing, and is no error.
    assert client.get(reverse("org_tokens", args=[acme.slug]), {"project": "x"}).status_code == 200


def test_sign_up_errors_sit_under_their_own_field(client):
    response = client.post(
        "/accounts/signup/",
        {"name": "Ann", "email": "ann@example.com", "password1": "short", "password2": "short"},
    )
    html = response.content.decode()
    error = html.index("This password is too short")
    assert html.rindex('id="id_password1"', 0, error) > html.rindex('id="id_name"', 0, error)
    # Inside the password's field, before the next field begins.
    assert error < html.index('id="id_password2"')


def test_one_name_for_the_token_variable():
    """`MLP_TOKEN` everywhere users read or copy a token's variable (templates, docs, examples,
    code): no other *_TOKEN variable holds an API token."""
    listed = subprocess.run(
        ["git", "ls-files", "*.py", "*.html", "*.md", "*.js", "*.sh", "*.yml", "*.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    others = []
    for name in listed:
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for found in re.findall(
            r"\$\{?([A-Z][A-Z_]*_TOKEN)\b|environ(?:\.get\(|\[)[\"']([A-Z_]*TOKEN)[\"']", text
        ):
            variable = found[0] or found[1]
            if variable != "MLP_TOKEN":
                others.append((name, variable))
    assert not others


def test_a_no_data_rules_value_says_its_unit(client, alice, acme):
    project = make_project(acme, "Quiet")
    rule = make_rule(project, "Nothing for an hour", kind="no_data", config={"minutes": 60})
    rule.last_value = 185.0  # minutes since the last snapshot
    rule.save(update_fields=["last_value"])
    client.force_login(alice)
    page = client.get(reverse("project_alerts", args=[acme.slug, project.pk])).content.decode()
    assert "3 h 5 min" in page
    assert [quiet_for(m) for m in (0.5, 12, 60, 185, 60 * 24 * 2 + 240)] == [
        "30 s",
        "12 min",
        "1 h",
        "3 h 5 min",
        "2 d 4 h",
    ]


def test_the_tab_buttons_read_apart():
    html = (ROOT / "templates/projects/dashboard.html").read_text()
    assert "+ Tab" not in html
    assert ">New tab</button>" in html
    assert ">Add pre-built tabs…</button>" in html
