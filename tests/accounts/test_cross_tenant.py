"""Charlie, an outsider to Acme, gets 404 for every Acme page and API object, signed in or with
his own organisation's tokens. The routes are enumerated from the URL configuration, so a new
route is covered the day it is added."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, get_resolver, reverse

from alerts import urls as alert_page_urls
from alerts.models import AlertRule, Channel, Message, Silence
from collector import urls as collector_page_urls
from collector.intake import accept_reference
from collector.models import Collector, LabelBatch, ReferenceDataset, RowBatch, Run
from evidently_compat import urls as evidently_urls
from mlplatform.accounts import urls as page_urls
from mlplatform.accounts.models import Role, TokenScope
from mlplatform.api_router import router
from mlplatform.api_router import urlpatterns as api_urlpatterns
from projects import urls as project_page_urls
from tests.accounts.conftest import page_kwargs
from tests.factories import add_member, make_project, make_token, make_user

pytestmark = pytest.mark.django_db


PAGE_PATTERNS = [
    *page_urls.urlpatterns,
    *project_page_urls.urlpatterns,
    *alert_page_urls.urlpatterns,
    *collector_page_urls.urlpatterns,
]


def org_page_names() -> list[str | None]:
    return [
        p.name
        for p in PAGE_PATTERNS
        if isinstance(p, URLPattern) and "org_slug" in p.pattern.converters
    ]


def test_the_page_list_is_not_empty():
    assert {
        "org_home",
        "org_members",
        "org_tokens",
        "org_settings",
        "org_delete",
        "project_detail",
        "alert_list",
        "alert_channels",
        "project_alerts",
        "alert_rule_detail",
        "project_collectors",
        "collector_detail",
    } <= set(org_page_names())


def page_url(name: str, furnished, member) -> str:
    pattern = next(p for p in PAGE_PATTERNS if p.name == name)
    values = page_kwargs(furnished, member)
    return reverse(name, kwargs={k: values[k] for k in pattern.pattern.converters})


@pytest.mark.parametrize("name", org_page_names())
def test_an_outsider_gets_404_for_every_org_page(client_for, furnished, bob, charlie, globex, name):
    url = page_url(name, furnished, bob)
    client = client_for(charlie)
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"name": "pwned", "role": "owner", "confirm": "acme"}).status_code == 404
    )
    assert furnished.org.memberships.filter(user=charlie).count() == 0


def api_patterns() -> list:
    """The router's routes and the API's own paths that take an organisation or project."""
    extra = [
        p for p in api_urlpatterns if hasattr(p, "callback") and "project_id" in str(p.pattern)
    ]
    return [*router.urls, *extra]


def api_routes(furnished, member) -> list[tuple[str, str, str]]:
    """(route name, method, url) for every API route and method, with Acme's ids."""
    lookups = {
        "org": furnished.org.pk,
        "org-member": member.pk,
        "org-invitation": furnished.invitation.pk,
        "org-team": furnished.team.pk,
        "org-token": furnished.token.pk,
        "project": furnished.project.pk,
        "org-alert-channel": furnished.channel.pk,
        "project-alert-rule": furnished.rule.pk,
        "project-alert": furnished.alert.pk,
        "project-silence": furnished.silence.pk,
    }
    values = {
        "org_id": furnished.org.pk,
        "user_id": member.pk,
        "project_id": furnished.project.pk,
        "snapshot_id": furnished.snapshot.uuid,
        "panel_id": "p-1",
    }
    routes = []
    for pattern in api_patterns():
        basename = pattern.name.rsplit("-", 1)[0]
        kwargs = {}
        keys = list(pattern.pattern.regex.groupindex) or list(pattern.pattern.converters)
        for key in keys:
            if key in values:
                kwargs[key] = values[key]
            else:  # the detail lookup ("pk" or project_id on the project routes)
                kwargs[key] = lookups[basename.replace("-add", "").replace("-remove", "")]
        url = reverse(pattern.name, kwargs=kwargs)
        for method in getattr(pattern.callback, "actions", {"get": None}):
            routes.append((pattern.name, method, url))
    return routes


def test_every_router_route_is_enumerated(furnished, bob):
    names = {name for name, _, _ in api_routes(furnished, bob)}
    assert names == {p.name for p in api_patterns()}
    assert len(names) >= 16


def _call(client, method: str, url: str):
    body = {"name": "pwned", "role": "owner", "email": "x@example.com", "scope": "read"}
    return (
        getattr(client, method)(url, body, format="json")
        if method in ("post", "patch", "put")
        else getattr(client, method)(url)
    )


def test_an_outsider_gets_404_for_every_org_api_object(api_for, furnished, bob, charlie, globex):
    _, write_secret = make_token(globex, TokenScope.WRITE)
    _, ingest_secret = make_token(globex, TokenScope.INGEST, project=make_project(globex, "G"))
    callers = {
        "charlie's session": api_for(charlie),
        "globex write token": api_for(token=write_secret),
        "globex ingest token": api_for(token=ingest_secret),
    }
    checked = 0
    for who, client in callers.items():
        for name, method, url in api_routes(furnished, bob):
            if str(furnished.org.pk) not in url and str(furnished.project.pk) not in url:
                continue  # /orgs (the caller's own list) and /orgs create
            response = _call(client, method, url)
            assert response.status_code == 404, f"{who} {method.upper()} {url} ({name})"
            if method != "head":  # HEAD answers have no body
                assert response.json()["error"] == "not_found"
            checked += 1
    assert checked > 30
    # Nothing changed in Acme.
    furnished.org.refresh_from_db()
    assert furnished.org.name == "Acme"
    assert furnished.org.memberships.count() == 3
    furnished.token.refresh_from_db()
    assert furnished.token.revoked_at is None
    assert Channel.objects.get(pk=furnished.channel.pk).name == "On call"
    assert AlertRule.objects.get(pk=furnished.rule.pk).name == "Tests fail"
    assert Silence.objects.get(pk=furnished.silence.pk).ends_at == furnished.silence.ends_at
    assert not furnished.channel.messages.exists()


def test_lists_show_only_the_callers_own_organisations(api_for, acme, charlie, globex):
    names = [org["name"] for org in api_for(charlie).get("/api/v1/orgs").json()]
    assert names == ["Globex"]
    _, secret = make_token(globex, TokenScope.READ)
    assert [o["name"] for o in api_for(token=secret).get("/api/v1/orgs").json()] == ["Globex"]


def test_the_switcher_shows_only_the_users_organisations(client_for, acme, charlie, globex):
    page = client_for(charlie).get(f"/o/{globex.slug}/").content.decode()
    assert "Globex" in page
    assert "Acme" not in page


def test_a_malformed_id_is_a_404_not_a_500(api_for, acme, alice):
    api = api_for(alice)
    for url in [
        "/api/v1/orgs/not-a-uuid",
        f"/api/v1/orgs/{acme.pk}/members/not-a-uuid",
        f"/api/v1/orgs/{acme.pk}/teams/123",
        f"/api/v1/orgs/{acme.pk}/tokens/zzz",
        "/api/v1/orgs/not-a-uuid/members",
    ]:
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"


def test_the_resolver_has_no_org_route_outside_the_enumerated_modules():
    # Every URL taking an organisation or project is among the enumerated ones above.
    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    covered = {p.name for p in PAGE_PATTERNS} | {p.name for p in api_patterns()}
    # Evidently's routes: tests/accounts/test_cross_tenant_evidently.py.
    covered |= {p.name for p in evidently_urls.urlpatterns}
    for route, pattern in walk(get_resolver().url_patterns):
        if any(key in route for key in ("org_slug", "org_id", "project_id")):
            assert pattern.name in covered, route


def collector_api_routes(furnished) -> list[tuple[str | None, str, str]]:
    """(route name, method, url) for every /api/v1/collectors/{id}/... route and method."""
    return [
        (p.name, method, reverse(p.name, kwargs={"collector_id": furnished.collector.pk}))
        for p in api_urlpatterns
        if isinstance(p, URLPattern) and "collector_id" in p.pattern.converters
        for method in p.callback.actions  # type: ignore[attr-defined]  # set by as_view
    ]


def test_an_outsider_gets_404_for_every_collector_api_route(
    api_for, furnished, alice, charlie, globex
):
    collector = furnished.collector
    accept_reference(collector, b"age,plan\n31,a\n42,b\n", "text/csv", "reference.csv")
    routes = collector_api_routes(furnished)
    assert {name for name, _, _ in routes} >= {
        "collector",
        "collector-reference",
        "collector-data",
        "collector-labels",
        "collector-run",
        "collector-runs",
    }
    # The routes exist: Acme's owner reads each of them.
    for name, method, url in routes:
        if method == "get":
            assert api_for(alice).get(url).status_code == 200, f"GET {url} ({name})"
    _, write_secret = make_token(globex, TokenScope.WRITE)
    _, ingest_secret = make_token(globex, TokenScope.INGEST, project=make_project(globex, "G"))
    callers = {
        "charlie's session": api_for(charlie),
        "globex write token": api_for(token=write_secret),
        "globex ingest token": api_for(token=ingest_secret),
    }
    checked = 0
    for who, client in callers.items():
        for name, method, url in routes:
            response = _call(client, method, url)
            assert response.status_code == 404, f"{who} {method.upper()} {url} ({name})"
            # DRF adds HEAD to a view's actions once it has served a GET; HEAD has no body.
            if method != "head":
                assert response.json()["error"] == "not_found"
            checked += 1
    assert checked >= 3 * 9
    # Nothing changed in Acme's collector.
    stored = Collector.objects.get(pk=collector.pk)
    assert (stored.name, stored.enabled, stored.config) == ("c", True, collector.config)
    assert ReferenceDataset.objects.filter(collector=collector).count() == 1
    assert not RowBatch.objects.filter(collector=collector).exists()
    assert not LabelBatch.objects.filter(collector=collector).exists()
    assert not Run.objects.filter(collector=collector).exists()


# ---- the team outsider: a member of Acme outside the team its project is restricted to ---------


@pytest.fixture
def hidden(furnished, acme):
    """Furnished's project is restricted to the Risk team; make everything that names it easy to
    spot in a response: a distinctive name, and a message of its alert on the organisation's channel
    (the channel pages list their messages)."""
    furnished.project.name = "Zanzibar credit model"
    furnished.project.save(update_fields=["name"])
    Message.objects.create(
        channel=furnished.channel, key="hidden-firing", kind="firing", alert=furnished.alert
    )
    return furnished


def _secrets_of(f) -> dict[str, str]:
    """What a team outsider must find nowhere: the project's name and the ids of it and its objects."""
    return {
        "project name": f.project.name,
        "project id": str(f.project.pk),
        "project id (hex)": f.project.pk.hex,
        "rule id": str(f.rule.pk),
        "alert id": str(f.alert.pk),
        "ingest token id": str(f.token.pk),
        "ingest token name": f.token.name,
        "snapshot id": str(f.snapshot.uuid),
        "collector id": str(f.collector.pk),
        "silence id": str(f.silence.pk),
    }


def _assert_nothing_named(response, f, what: str) -> None:
    body = response.content.decode(errors="replace")
    for name, value in _secrets_of(f).items():
        assert value not in body, f"{what} shows the hidden project's {name}"


@pytest.fixture(params=[Role.MEMBER, Role.VIEWER], ids=["member", "viewer"])
def team_outsider(request, acme):
    """A member (or viewer) of Acme in no team: the Risk team's project is hidden from them."""
    outsider = make_user(f"otto-{request.param}@example.com")
    add_member(acme, outsider, request.param)
    return outsider


def test_a_team_outsider_gets_404_for_every_page_of_the_hidden_project(
    client_for, hidden, bob, team_outsider
):
    client = client_for(team_outsider)
    checked = 0
    for name in org_page_names():
        assert name is not None
        url = page_url(name, hidden, bob)
        pattern = next(p for p in PAGE_PATTERNS if p.name == name)
        converters = pattern.pattern.converters
        if "project_id" in converters:
            # The project's pages: 404, whatever the method and the outsider's role.
            assert client.get(url).status_code == 404, f"GET {url} ({name})"
            posted = client.post(url, {"name": "pwned", "role": "owner", "confirm": "acme"})
            assert posted.status_code == 404, f"POST {url} ({name})"
            checked += 1
        elif "token_id" in converters:
            # The project's ingest token: answered exactly as a token that does not exist.
            missing = url.replace(str(hidden.token.pk), str(uuid.uuid4()))
            for method in ("get", "post"):
                answer = getattr(client, method)(url).status_code
                assert answer == getattr(client, method)(missing).status_code, f"{method} {url}"
                assert answer >= 400, f"{method.upper()} {url} ({name})"
        else:
            # The organisation's pages open, and name nothing of the project.
            response = client.get(url)
            assert response.status_code < 500, f"GET {url} ({name})"
            _assert_nothing_named(response, hidden, f"GET {url} ({name})")
    assert checked >= 15  # the project, snapshot, alert and collector pages
    hidden.token.refresh_from_db()
    assert hidden.token.revoked_at is None
    hidden.project.refresh_from_db()
    assert hidden.project.name == "Zanzibar credit model"


def test_a_team_outsider_gets_404_for_every_api_route_of_the_hidden_project(
    api_for, hidden, bob, team_outsider
):
    client = api_for(team_outsider)
    checked = 0
    for name, method, url in api_routes(hidden, bob):
        if method == "head":
            continue
        if str(hidden.token.pk) in url:
            # The project's ingest token: answered exactly as a token that does not exist (a
            # viewer's DELETE is refused before any lookup).
            missing = url.replace(str(hidden.token.pk), str(uuid.uuid4()))
            response = _call(client, method, url)
            assert response.status_code == _call(client, method, missing).status_code, url
            assert response.status_code in (403, 404), f"{method.upper()} {url} ({name})"
            _assert_nothing_named(response, hidden, f"{method.upper()} {url} ({name})")
        elif str(hidden.project.pk) in url:
            response = _call(client, method, url)
            assert response.status_code == 404, f"{method.upper()} {url} ({name})"
            assert response.json()["error"] == "not_found"
            checked += 1
        elif method == "get":
            response = client.get(url)
            assert response.status_code < 500, f"GET {url} ({name})"
            _assert_nothing_named(response, hidden, f"GET {url} ({name})")
    for name, method, url in collector_api_routes(hidden):
        if method != "head":
            response = _call(client, method, url)
            assert response.status_code == 404, f"{method.upper()} {url} ({name})"
            checked += 1
    assert checked >= 30
    _assert_nothing_named(client.get("/api/v1/me"), hidden, "GET /api/v1/me")
    hidden.token.refresh_from_db()
    assert hidden.token.revoked_at is None
    assert AlertRule.objects.get(pk=hidden.rule.pk).name == "Tests fail"


def test_the_team_sees_what_the_outsider_does_not(client_for, api_for, hidden, bob):
    # bob is in the Risk team: the same pages and answers name the project, so the checks above
    # look in the right places.
    tokens_page = client_for(bob).get(reverse("org_tokens", args=[hidden.org.slug]))
    assert hidden.project.name in tokens_page.content.decode()
    tokens = api_for(bob).get(f"/api/v1/orgs/{hidden.org.pk}/tokens").json()
    assert str(hidden.project.pk) in {token["project"] for token in tokens}
    channel = client_for(bob).get(
        reverse("alert_channel_edit", args=[hidden.org.slug, hidden.channel.pk])
    )
    assert str(hidden.project.pk) in channel.content.decode()
