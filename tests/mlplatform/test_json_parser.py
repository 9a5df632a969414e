"""Every API write route parses JSON bodies with one strict parser: nesting deeper than 32 levels
(200 KB of `[`), bytes that are not UTF-8 and NaN or Infinity are a JSON 400 naming the body, never
a 500. The write routes are enumerated from the URL resolver, so a new one is covered too."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.request import Request

from mlplatform.accounts.models import TokenScope
from mlplatform.parsers import JSONBodyError, loads
from tests.accounts.conftest import Furnished, furnished  # noqa: F401 - the fixture
from tests.factories import make_token

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")


def _api_patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _api_patterns(entry, route)
        elif route.startswith("api/v1/"):
            found.append((route, entry))
    return found


def write_routes() -> list[tuple[str, str]]:
    """(route name, method) for every POST, PUT and PATCH under /api/v1/."""
    routes = []
    for _, pattern in _api_patterns(get_resolver()):
        actions = getattr(pattern.callback, "actions", None)
        view_class = getattr(pattern.callback, "cls", None)
        if actions is not None:
            methods = [m for m in actions if m in WRITE_METHODS]
        elif view_class is not None:
            methods = [m for m in WRITE_METHODS if hasattr(view_class, m)]
        else:
            methods = []
        routes += [(str(pattern.name), str(method)) for method in methods]
    return sorted(set(routes))


def _url(name: str, f: Furnished) -> str:
    pattern = next(p for _, p in _api_patterns(get_resolver()) if p.name == name)
    keys = list(pattern.pattern.regex.groupindex)
    converters = getattr(pattern.pattern, "converters", {})
    keys += [k for k in converters if k not in keys]
    detail = {
        "org": f.org.pk,
        "org-member": f.org.memberships.exclude(role="owner").first().user_id,  # type: ignore[union-attr]
        "org-invitation": f.invitation.pk,
        "org-team": f.team.pk,
        "org-token": f.token.pk,
        "project": f.project.pk,
        "org-alert-channel": f.channel.pk,
        "project-alert-rule": f.rule.pk,
        "project-alert": f.alert.pk,
        "project-silence": f.silence.pk,
    }
    values = {
        "org_id": f.org.pk,
        "project_id": f.project.pk,
        "collector_id": f.collector.pk,
        "snapshot_id": f.snapshot.uuid,
        "user_id": detail["org-member"],
        "panel_id": "p-1",
    }
    kwargs = {}
    for key in keys:
        if key in values:
            kwargs[key] = values[key]
        else:  # the detail lookup of a router route
            kwargs[key] = detail[max((b for b in detail if name.startswith(b)), key=len)]
    return reverse(name, kwargs=kwargs)


WRITES = write_routes()
HOSTILE = {
    "200 KB of [": b"[" * 200_000,
    "40 levels of objects": b'{"a":' * 40 + b"1" + b"}" * 40,
    "not UTF-8": b'{"name": "\xff\xfe caf\xe9"}',
    "NaN": b'{"name": "x", "threshold": NaN}',
    "Infinity": b'{"name": "x", "threshold": -Infinity}',
}


def test_the_write_routes_are_enumerated():
    names = {name for name, _ in WRITES}
    assert {
        "org-list",
        "org-project-list",
        "org-token-list",
        "org-alert-channel-list",
        "project-alert-rule-list",
        "project-dashboard",
        "project-collectors",
        "project-snapshot-list",
    } <= names
    assert len(WRITES) >= 30


@pytest.mark.parametrize(("name", "method"), WRITES)
def test_hostile_json_is_a_400_on_every_write_route(
    api_for,
    alice,
    furnished,  # noqa: F811
    monkeypatch,
    name,
    method,
):
    # Which requests the view parsed: those must be refused. A route that reads its body raw
    # (ingestion, collector intake) or not at all must still answer a 4xx, never a 500.
    parsed: list[object] = []
    original = Request._parse  # type: ignore[attr-defined]

    def spy(self: Request) -> object:
        parsed.append(self)
        return original(self)

    monkeypatch.setattr(Request, "_parse", spy)
    client = api_for(alice)
    if name == "project-snapshot-list":  # ingestion takes an ingest token
        secret = make_token(furnished.org, TokenScope.INGEST, project=furnished.project)[1]
        client = api_for(token=secret)
    url = _url(name, furnished)
    for label, body in HOSTILE.items():
        parsed.clear()
        response = client.generic(method.upper(), url, body, content_type="application/json")
        assert response.status_code < 500, (label, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), label
        if not parsed:
            continue
        assert response.status_code == 400, (label, response.status_code, response.content[:300])
        payload = response.json()
        assert payload["error"] == "parse_error", payload
        assert payload["detail"].startswith("body: "), payload
        if "levels" in label or "KB" in label:
            assert payload["detail"] == "body: nested deeper than 32 levels.", payload


def test_most_write_routes_go_through_the_parser(api_for, alice, furnished, monkeypatch):  # noqa: F811
    # The spy above is not vacuous: most write routes parse their body with the strict parser.
    parsed: list[object] = []
    original = Request._parse  # type: ignore[attr-defined]

    def spy(self: Request) -> object:
        parsed.append(self)
        return original(self)

    monkeypatch.setattr(Request, "_parse", spy)
    client = api_for(alice)
    parsing = set()
    for name, method in WRITES:
        parsed.clear()
        with transaction.atomic():  # each route sees Acme as furnished (archive, rotate...)
            client.generic(
                method.upper(), _url(name, furnished), b"[" * 40, content_type="application/json"
            )
            transaction.set_rollback(True)
        if parsed:
            parsing.add((name, method))
    assert len(parsing) >= 20, sorted(set(WRITES) - parsing)


def test_a_body_nested_32_deep_is_accepted_and_33_is_not():
    expected: list = []
    for _ in range(31):
        expected = [expected]
    assert loads(b"[" * 32 + b"]" * 32) == expected
    with pytest.raises(JSONBodyError, match="nested deeper than 32 levels"):
        loads(b"[" * 33 + b"]" * 33)
    with pytest.raises(JSONBodyError, match="nested deeper than 32 levels"):
        loads(b'{"a":' * 33 + b"{}" + b"}" * 33)
    assert loads(b'{"a": [1, {"b": [2.5, "x", null]}]}') == {"a": [1, {"b": [2.5, "x", None]}]}


def test_a_charset_other_than_utf8_is_refused(api_for, alice):
    response = api_for(alice).post(
        "/api/v1/orgs",
        '{"name": "x"}'.encode("utf-16"),
        content_type="application/json; charset=utf-16",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "body: send JSON in UTF-8, not utf-16."


def test_a_valid_body_still_creates(api_for, alice):
    response = api_for(alice).post("/api/v1/orgs", {"name": "Fine"}, format="json")
    assert response.status_code == 201, response.content
