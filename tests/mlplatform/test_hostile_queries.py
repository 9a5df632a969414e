"""Hostile query strings (Unicode digits, NUL bytes, dates at the calendar's ends, huge numbers)
get a 4xx, never a 500: the API's answer is a JSON error naming the parameter, a page's is a 400.

The API routes and the parameters each reads come from the OpenAPI schema, the pages from the URL
configuration, so a new route or parameter is covered the day it is added. Every route also gets
every hostile value in every parameter at once, read or not."""

from __future__ import annotations

import base64
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import URLPattern, reverse
from drf_spectacular.generators import SchemaGenerator

from alerts import urls as alert_page_urls
from collector import urls as collector_page_urls
from mlplatform.accounts import urls as account_page_urls
from mlplatform.accounts.models import TokenScope
from projects import urls as project_page_urls
from projects.models import MetricSeries
from tests.accounts.conftest import Furnished, furnished, page_kwargs  # noqa: F401
from tests.factories import make_snapshot, make_token

pytestmark = pytest.mark.django_db

SUPERSCRIPT = "²"  # str.isdigit() says yes, int() says no
HUGE = "9" * 20  # past a bigint, and past any page
NUL = "\x00"  # PostgreSQL refuses it in text
JSON_NUL = '"\\u0000"'  # a metadata filter reads JSON too, and jsonb refuses this one
LAST_DAY = "9999-12-31"  # the day after it is not a date
FIRST_DAY = "0001-01-01"
FIRST_INSTANT_EAST = "0001-01-01T00:00:00+05:00"  # before year 1 in UTC
LAST_INSTANT_WEST = "9999-12-31T23:00:00-05:00"  # after year 9999 in UTC
FAR_OFFSET = "2026-01-26T09:41:48+19:14"  # Python takes it, PostgreSQL refuses offsets past 15:59
HOSTILE = [
    SUPERSCRIPT,
    HUGE,
    NUL,
    JSON_NUL,
    LAST_DAY,
    FIRST_DAY,
    FIRST_INSTANT_EAST,
    LAST_INSTANT_WEST,
    FAR_OFFSET,
]

# What each API parameter does with a hostile value, by what the parameter is: a number, one of a
# few words, a cursor or id, free text, a time, or the id of a tab or panel (unknown: 404).
NUMBERS = {"limit", "points", "id"}
WORDS = {"state", "status", "range", "rule", "cursor"}
TEXT = {"tag", "meta.model", "meta", "metric", "field"}
TIMES = {"since", "until"}
LOOKUPS = {"tab", "panel"}


def api_designed(name: str, value: str) -> set[int]:
    """The statuses the API is designed to answer for `value` in parameter `name`."""
    if name in NUMBERS | WORDS:
        return {400}
    if name in TEXT:
        # metric and field name a series together: a series of any other name is not there.
        return {400} if value == NUL else {200, 404} if name in ("metric", "field") else {200}
    if name in TIMES:
        return {200} if value in (LAST_DAY, FIRST_DAY, FAR_OFFSET) else {400}
    if name in LOOKUPS:
        return {404}
    raise AssertionError(f"No design for the parameter {name!r}: add it above.")


@cache
def schema_gets() -> dict[str, list[str]]:
    """Each GET path of the API with the query parameters the schema says it reads."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = {}
    for path, operations in schema["paths"].items():
        if "get" in operations:
            found[path] = [
                "meta.model" if p["name"] == "meta.<key>" else p["name"]
                for p in operations["get"].get("parameters", [])
                if p["in"] == "query"
            ]
    return found


# {id} after these segments; the other path parameters are named for what they are.
_DETAIL = {
    "invitations": "invitation",
    "teams": "team",
    "tokens": "token",
    "alert-channels": "channel",
    "alert-rules": "rule",
    "alerts": "alert",
    "silences": "silence",
}


def api_url(path: str, f: Furnished, member: Any) -> str:
    values = {
        "{org_id}": f.org.pk,
        "{project_id}": f.project.pk,
        "{snapshot_id}": f.snapshot.uuid,
        "{collector_id}": f.collector.pk,
        "{user_id}": member.pk,
    }
    parts = path.split("/")
    for index, part in enumerate(parts):
        if part == "{id}":
            parts[index] = str(getattr(f, _DETAIL[parts[index - 1]]).pk)
        elif part in values:
            parts[index] = str(values[part])
    return "/".join(parts)


def base_query(path: str, series: MetricSeries, name: str) -> dict[str, str]:
    """What a route needs besides the parameter under test: the series endpoint names a series."""
    if not path.endswith("/series"):
        return {}
    if name == "metric":
        return {"field": series.field}
    if name == "field":
        return {"metric": series.metric_id}
    return {} if name == "id" else {"id": str(series.pk)}


@pytest.fixture
def world(furnished: Furnished, bob, api_for, client_for) -> dict[str, Any]:  # noqa: F811
    make_snapshot(furnished.project)  # a second one: pages and cursors have something to page
    _, secret = make_token(furnished.org, TokenScope.READ)
    return {
        "f": furnished,
        "member": bob,
        "series": MetricSeries.objects.filter(project=furnished.project).first(),
        "apis": {"bob's session": api_for(bob), "a read token": api_for(token=secret)},
        "pages": client_for(bob),
    }


def query_string(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())


def assert_names(response: Any, name: str, where: str) -> None:
    body = response.json()
    assert body["error"] == "validation_error", where
    assert name in body["fields"], f"{where}: {body}"


def test_the_schema_lists_the_routes_that_read_parameters():
    gets = schema_gets()
    assert len(gets) >= 25
    reading = {path.rsplit("/", 1)[-1] for path, names in gets.items() if names}
    assert {"snapshots", "series", "data", "history", "alerts", "silences"} <= reading
    for names in gets.values():
        for name in names:
            api_designed(name, NUL)  # every parameter has a design


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_every_api_parameter_refuses_hostile_values_by_name(world, value):
    f, checked = world["f"], 0
    for path, names in schema_gets().items():
        url = api_url(path, f, world["member"])
        for name in names:
            params = {**base_query(path, world["series"], name), name: value}
            for who, api in world["apis"].items():
                where = f"{who} GET {url}?{name}={value!r}"
                response = api.get(f"{url}?{query_string(params)}")
                assert response.status_code in api_designed(name, value), (
                    f"{where}: {response.status_code} {response.content[:300]!r}"
                )
                if response.status_code == 400:
                    assert_names(response, name, where)
                checked += 1
    assert checked >= 40


ALL_PARAMETERS = sorted(
    NUMBERS | WORDS | TEXT | TIMES | LOOKUPS | {"page", "cursor", "offset", "q", "search"}
)


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_no_api_route_fails_on_hostile_values_in_any_parameter(world, value):
    everything = query_string(dict.fromkeys(ALL_PARAMETERS, value))
    for path in schema_gets():
        url = api_url(path, world["f"], world["member"])
        for who, api in world["apis"].items():
            response = api.get(f"{url}?{everything}")
            where = f"{who} GET {url} with every parameter {value!r}"
            assert response.status_code < 500, where
            if response.status_code == 400:
                assert response.json()["fields"], where


# ---- pages --------------------------------------------------------------------------------------

PAGE_PATTERNS = [
    *account_page_urls.urlpatterns,
    *project_page_urls.urlpatterns,
    *alert_page_urls.urlpatterns,
    *collector_page_urls.urlpatterns,
]
# The parameters each page reads. Pages refuse what they cannot read with the 400 page, which names
# the parameter; the filter forms show their own errors and the dashboard says what it ignored
# (both 200). Every other page gets every parameter at once (below) and must not fail either.
PAGE_READS = {
    "snapshot_list": {"page", "since", "until", "tag", "status", "meta.model"},
    "alert_list": {"page", "project", "state"},
    "project_detail": {"tab", "range", "since", "until", "tag", "meta", "meta.model"},
}
PAGE_REFUSALS = {
    "snapshot_list": {"page": set(HOSTILE), "meta.model": {NUL}},
    "alert_list": {"page": set(HOSTILE)},
}
PAGE_PARAMETERS = sorted({name for names in PAGE_READS.values() for name in names})


def page_urls(f: Furnished, member: Any) -> list[tuple[str, str]]:
    values = page_kwargs(f, member)
    return [
        (p.name, reverse(p.name, kwargs={k: values[k] for k in p.pattern.converters}))
        for p in PAGE_PATTERNS
        if isinstance(p, URLPattern) and p.name and "org_slug" in p.pattern.converters
    ]


def assert_page_answers(response: Any, name: str, parameter: str | None, value: str) -> None:
    where = f"{response.request['PATH_INFO']} {parameter or 'every parameter'}={value!r} ({name})"
    refused = parameter and value in PAGE_REFUSALS.get(name, {}).get(parameter, set())
    if refused:
        assert response.status_code == 400, f"{where}: {response.status_code}"
        assert f"<code>{parameter}</code>" in response.content.decode(), where
    elif parameter:
        assert response.status_code == 200, f"{where}: {response.status_code}"
    else:
        assert response.status_code < 500, f"{where}: {response.status_code}"


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_every_page_answers_hostile_parameters_without_a_server_error(world, value):
    client, urls = world["pages"], page_urls(world["f"], world["member"])
    assert set(PAGE_READS) <= {name for name, _ in urls}
    everything = query_string(dict.fromkeys(PAGE_PARAMETERS, value))
    for name, url in urls:
        assert_page_answers(client.get(f"{url}?{everything}"), name, None, value)
        for parameter in PAGE_READS.get(name, ()):
            response = client.get(f"{url}?{query_string({parameter: value})}")
            assert_page_answers(response, name, parameter, value)


def test_a_page_number_past_the_last_page_shows_the_last_page(world):
    client = world["pages"]
    for name in PAGE_REFUSALS:
        url = dict(page_urls(world["f"], world["member"]))[name]
        response = client.get(url, {"page": "999"})
        assert response.status_code == 200, name
        assert response.context["page"] == 1, name


def test_a_custom_range_at_the_calendars_end_reads_to_the_end(world):
    f = world["f"]
    url = f"/api/v1/projects/{f.project.pk}/dashboard/data"
    for who, api in world["apis"].items():
        body = api.get(url, {"range": "custom", "since": LAST_DAY, "until": LAST_DAY}).json()
        assert body["window"]["since"].startswith("9999-12-31T00:00:00"), who
        assert body["window"]["until"].startswith("9999-12-31T23:59:59"), who
        early = api.get(url, {"range": "custom", "since": FIRST_DAY, "until": FIRST_DAY})
        assert early.status_code == 200, who


@pytest.mark.parametrize(
    "inside",
    [f"2026-11-01T00:00:00+00:00|{HUGE}", f"2026-11-01T00:00:00+00:00|{SUPERSCRIPT}", "{0}|1"],
    ids=["a key past a bigint", "a Unicode digit", "a time before year 1 in UTC"],
)
def test_a_forged_snapshot_cursor_is_refused_by_name(world, inside):
    # A cursor is base64 of "time|key": one made by hand must not reach the database.
    raw = inside.replace("{0}", FIRST_INSTANT_EAST).encode()
    cursor = base64.urlsafe_b64encode(raw).decode()
    url = f"/api/v1/projects/{world['f'].project.pk}/snapshots"
    for who, api in world["apis"].items():
        response = api.get(url, {"cursor": cursor})
        assert response.status_code == 400, f"{who}: {response.content[:200]!r}"
        assert_names(response, "cursor", who)


def test_a_metadata_key_with_a_trailing_newline_is_refused_by_name(world):
    # `$` in a pattern also matches before a final newline; keys are checked to the very end.
    url = f"/api/v1/projects/{world['f'].project.pk}/snapshots"
    for who, api in world["apis"].items():
        response = api.get(f"{url}?meta.model%0A=x")
        assert response.status_code == 400, f"{who}: {response.content[:200]!r}"
        assert_names(response, "meta.model\n", who)
