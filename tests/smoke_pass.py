"""A smoke pass over a seeded site: every page, every API GET route and every HTML form, once.

Run it as a program in a fresh process whose settings name an empty database (it migrates it):
`DJANGO_SETTINGS_MODULE=mlplatform.settings.local DATABASE_URL=sqlite:///... python -m
tests.smoke_pass`. It seeds the demo (`seed_demo`, as `scripts/demo` does through `serve_demo`),
adds a second organisation with a channel and an empty project, then with `django.test.Client`:

- GETs every page of the URL configuration, its path parameters filled with the seeded objects'
  ids, once per organisation and project where they apply;
- GETs every API route that answers GET, with a session and with the organisation's read token;
- POSTs each HTML form found on those pages once, filled from the page (the values it shows, the
  first choice of each list) and, where a field is empty, with hand-written valid data; the forms
  that remove or end something go last, the most specific first.

The last line of its output is a JSON summary: the figures, the answers >= 500 and the URL
patterns that no context could fill (a new parameter the pass does not know yet).
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

# URL patterns the pass does not request, with the reason.
SKIPPED_PREFIXES = {
    "admin/": "Django's own admin; no platform model is registered there",
    "^api/": "the catch-all that answers unknown API URLs with a JSON 404",
    "^evidently/": "the same, for the Evidently-compatible API's prefix",
}
HOST = "127.0.0.1"  # one of the embedded default's ALLOWED_HOSTS
# A name of a form's action that removes, ends or switches something off: posted last.
DESTRUCTIVE = re.compile(r"delete|remove|revoke|archive|end|enable|rotate|logout|leave")
# Valid values for form fields a page leaves empty (a create form), by field name.
FIELD_VALUES = {
    "name": "Smoke test",
    "email": "smoke-invitee@example.com",
    "addresses": "smoke@example.com",
    "url": "https://hooks.slack.com/services/T000/B000/smoke",
    "description": "Made by the smoke pass.",
    "reason": "Smoke pass",
    "threshold": "0.5",
    "minutes": "60",
    "every_minutes": "60",
    "every_rows": "1000",
    "days": "7",
    "window_size": "3",
    "hours": "1",
    "field": "current.mean",
    "metric": 'ColumnSummary(column="age")',
    # A new password where a form changes it (the demo user's own is filled in by form_data).
    "password1": "smoke-New-password-2026",
    "password2": "smoke-New-password-2026",
}


def query_variants(route_name: str | None, context: Context) -> list[str]:
    """Query strings worth requesting besides the bare URL: filters that reach the database."""
    filters = "tag=prod&meta.model_version=3.2&meta.batch=30"
    series = context.values.get("series_id")
    return {
        "snapshot_list": [f"?{filters}", "?page=2", "?status=FAIL"],
        "project-snapshot-list": [f"?{filters}&limit=5", "?status=FAIL"],
        "project-series": [f"?id={series}&points=10"] if series else [],
        "project-dashboard-data": ["?range=7d", "?tag=prod"],
    }.get(route_name or "", [])


# ---- the URL configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern: its full route text, its (namespaced) name and its parameters."""

    route: str
    name: str | None
    params: tuple[str, ...]
    callback: Any


def routes() -> list[Route]:
    """Every URL pattern of the resolver, depth first, in the order the resolver tries them."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern):
                regex_groups = list(p.pattern.regex.groupindex)
                converters = list(getattr(p.pattern, "converters", {}))
                params = tuple(dict.fromkeys([*regex_groups, *converters]))
                name = f"{namespace}{p.name}" if p.name else None
                yield Route(prefix + str(p.pattern), name, params, p.callback)

    return list(walk(get_resolver().url_patterns, "", ""))


def get_allowed(route: Route) -> bool:
    """Whether the route answers GET (a DRF viewset route lists the methods it maps)."""
    actions = getattr(route.callback, "actions", None)
    return actions is None or "get" in actions


# ---- the seeded world ---------------------------------------------------------------------------


@dataclass
class Context:
    """Values for the path parameters, for one organisation and one project of it."""

    label: str
    values: dict[str, str]
    # The API's detail lookup ("pk", or project_id on the project routes) per router basename.
    lookups: dict[str, str]
    token: str  # an org read token of this organisation


def seed() -> list[Context]:
    """Migrate, seed the demo, and add what the demo lacks for every page to show something."""
    from django.core.management import call_command
    from django.utils import timezone

    from alerts import services as alert_services
    from alerts.models import Alert, AlertRule, Channel, Silence
    from alerts.validation import clean_channel
    from collector.models import Collector
    from mlplatform.accounts import services
    from mlplatform.accounts.access import Access
    from mlplatform.accounts.models import Invitation, Organization, Role, User
    from mlplatform.management.commands.seed_demo import DEMO_EMAIL
    from projects.models import Dashboard, MetricSeries, Project
    from projects.services import create_project

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    demo = User.objects.get(email=DEMO_EMAIL)
    acme = Organization.objects.get(slug="acme-ml")
    fresh = services.create_organization(name="Smoke Ltd", owner=demo)
    create_project(fresh, name="Empty")
    alert_services.create_channel(
        fresh,
        clean_channel(fresh, {"kind": "email", "name": "Smoke", "config": {"roles": ["owner"]}}),
    )
    contexts = []
    for org in (acme, fresh):
        access = Access(organization=org, user=demo, role=Role.OWNER)
        services.invite(access, email=f"invitee@{org.slug}.example.com")
        _, secret = services.create_token(access, name="smoke read", scope="read")
        others = org.memberships.exclude(user=demo).values_list("user_id", flat=True)
        for project in Project.objects.filter(organization=org).order_by("name"):
            alert_services.mute(project, None, timezone.now() + timedelta(hours=1), "smoke", demo)
            dashboard = Dashboard.objects.filter(project=project).first()
            panels = [
                p for tab in (dashboard.spec["tabs"] if dashboard else []) for p in tab["panels"]
            ]
            snapshot = project.snapshots.order_by("timestamp").first()
            values = {
                "org_slug": org.slug,
                "org_id": str(org.pk),
                "user_id": str(next(iter(others), demo.pk)),
                "invitation_id": _first_pk(Invitation.objects.filter(organization=org)),
                "team_slug": org.teams.order_by("slug").values_list("slug", flat=True).first(),
                "token_id": _first_pk(org.tokens.all()),
                "channel_id": _first_pk(Channel.objects.filter(organization=org)),
                "project_id": str(project.pk),
                "name": project.name,  # the Evidently-compatible project search
                "snapshot_id": str(snapshot.uuid) if snapshot else None,
                "rule_id": _first_pk(AlertRule.objects.filter(project=project)),
                "silence_id": _first_pk(Silence.objects.filter(project=project)),
                "collector_id": _first_pk(Collector.objects.filter(project=project)),
                "panel_id": panels[0]["id"] if panels else None,
                "series_id": _first_pk(MetricSeries.objects.filter(project=project)),
                # Links whose key is only ever emailed: an unknown key shows their error page.
                "key": "smoke-unknown-key",
                "uidb36": "1",
            }
            values = {k: v for k, v in values.items() if v is not None}
            team = org.teams.order_by("slug").first()
            lookups = {
                "org": str(org.pk),
                "org-member": values["user_id"],
                "org-invitation": values.get("invitation_id"),
                "org-team": str(team.pk) if team else None,
                "org-token": values.get("token_id"),
                "org-alert-channel": values.get("channel_id"),
                "project": str(project.pk),
                "project-alert-rule": values.get("rule_id"),
                "project-alert": _first_pk(Alert.objects.filter(project=project)),
                "project-silence": values.get("silence_id"),
            }
            contexts.append(
                Context(
                    f"{org.slug}/{project.name}",
                    values,
                    {k: v for k, v in lookups.items() if v is not None},
                    secret,
                )
            )
    return contexts


def _first_pk(queryset: Any) -> str | None:
    pk = queryset.order_by("pk").values_list("pk", flat=True).first()
    return None if pk is None else str(pk)


def fill(route: Route, context: Context) -> str | None:
    """The route's URL with the context's values, or None when the context lacks one."""
    from django.urls import reverse

    if route.name is None:
        return None
    # The router's basename: the longest lookup key that the route's name starts with
    # ("org-team" for org-team-detail and org-team-remove-member).
    basename = max(
        (k for k in context.lookups if route.name == k or route.name.startswith(f"{k}-")),
        key=len,
        default=None,
    )
    kwargs = {}
    for param in route.params:
        if param == "pk" and basename is not None:
            kwargs[param] = context.lookups[basename]
        elif param in context.values:
            kwargs[param] = context.values[param]
        else:
            return None
    return reverse(route.name, kwargs=kwargs)


# ---- forms --------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    _radios: dict[str, str] = field(default_factory=dict)


class FormParser(HTMLParser):
    """The POST forms of a page, each with the values a browser would submit unchanged."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # (name, multiple)
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""
        self._submitted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(urljoin(self.page_url, a.get("action") or self.page_url))
                self._submitted = False
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name", "")
        kind = a.get("type", "text").lower()
        if tag == "input" and name:
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
                elif kind == "radio":
                    form._radios.setdefault(name, a.get("value", "on"))
            elif kind == "file":
                form.files.append(name)
            elif kind in ("submit", "image", "button"):
                if not self._submitted and kind != "button":
                    form.fields.append((name, a.get("value", "")))
                    self._submitted = True
            else:
                form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name and kind == "submit" and not self._submitted:
            form.fields.append((name, a.get("value", "")))
            self._submitted = True
        elif tag == "select" and name:
            self._select = (name, "multiple" in a)
            self._options = []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        if tag == "select" and self._select:
            name, multiple = self._select
            chosen = [v for v, selected in self._options if selected]
            if not any(chosen) and not multiple:  # none, or the "---------" placeholder
                chosen = [v for v, _ in self._options if v][:1] or chosen
            form.fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form.fields.append((self._textarea, self._text.strip("\n")))
            self._textarea = None
        elif tag == "form":
            present = {n for n, _ in form.fields}
            form.fields.extend((n, v) for n, v in form._radios.items() if n not in present)
            self.forms.append(form)
            self._form = None


def form_data(form: Form) -> dict[str, Any]:
    """The form's values, its empty fields filled with valid data where the name is known."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mlplatform.management.commands.seed_demo import DEMO_PASSWORD

    known = {**FIELD_VALUES, "password": DEMO_PASSWORD, "oldpassword": DEMO_PASSWORD}
    data: dict[str, list[Any]] = {}
    for name, value in form.fields:
        if name == "csrfmiddlewaretoken":
            continue
        if not value:
            value = known.get(name.rsplit("-", 1)[-1], value)
        data.setdefault(name, []).append(value)
    for name in form.files:
        csv = (
            b"tenure_months,monthly_charges,plan,prediction\n12,60.5,monthly,0\n30,80.0,yearly,1\n"
        )
        data[name] = [SimpleUploadedFile("reference.csv", csv, content_type="text/csv")]
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}


# ---- the pass -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    pages: int = 0
    api_routes: int = 0
    forms: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    unfilled: list[str] = field(default_factory=list)
    form_answers: list[tuple[str, str, int]] = field(default_factory=list)  # name, url, status
    statuses: dict[str, int] = field(default_factory=dict)  # "page 200": count, ...
    seconds: dict[str, float] = field(default_factory=dict)  # seeding, requests


def _record(outcome: Outcome, method: str, url: str, response: Any, what: str) -> None:
    tally = f"{what.split()[0]} {response.status_code}"
    outcome.statuses[tally] = outcome.statuses.get(tally, 0) + 1
    if response.status_code >= 500:
        outcome.errors.append(
            {"method": method, "url": url, "status": response.status_code, "what": what}
        )


def run() -> Outcome:
    from django.test import Client
    from django.urls import resolve

    from mlplatform.accounts.models import User
    from mlplatform.management.commands.seed_demo import DEMO_EMAIL

    started = time.monotonic()
    contexts = seed()
    seeded = time.monotonic()
    demo = User.objects.get(email=DEMO_EMAIL)
    # raise_request_exception=False: a view's exception is a 500 answer, counted, not a crash.
    session = Client(raise_request_exception=False, HTTP_HOST=HOST)
    session.force_login(demo)
    outcome = Outcome()
    all_routes = [r for r in routes() if not any(r.route.startswith(p) for p in SKIPPED_PREFIXES)]
    pages = [r for r in all_routes if not r.route.startswith("api/v1/")]
    api = [r for r in all_routes if r.route.startswith("api/v1/") and get_allowed(r)]
    html: dict[str, str] = {}  # page url -> its HTML, for the forms
    seen: set[str] = set()
    for route in [*pages, *api]:
        urls: dict[str, Context] = {}
        for context in contexts:
            url = fill(route, context)
            for query in ["", *query_variants(route.name, context)] if url else []:
                urls.setdefault(f"{url}{query}", context)
        if not urls:
            outcome.unfilled.append(route.route)
            continue
        for url, context in urls.items():
            if url in seen:
                continue
            seen.add(url)
            if route in pages:
                response = session.get(url)
                outcome.pages += 1
                _record(outcome, "GET", url, response, f"page {route.name}")
                if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                    html[url] = response.content.decode()
            else:
                token = Client(
                    raise_request_exception=False,
                    HTTP_HOST=HOST,
                    HTTP_AUTHORIZATION=f"Bearer {context.token}",
                )
                for who, client in (("session", session), ("read token", token)):
                    response = client.get(url, HTTP_ACCEPT="application/json")
                    _record(outcome, "GET", url, response, f"api {route.name} ({who})")
                outcome.api_routes += 1
    # Each distinct form (its action's URL pattern and field names) once; destructive ones last,
    # the deepest (most specific) first, signing out at the very end.
    forms: dict[tuple[str, tuple[str, ...]], Form] = {}
    for url, page in html.items():
        parser = FormParser(f"http://{HOST}{url}")
        parser.feed(page)
        for form in parser.forms:
            name = resolve(urlsplit(form.action).path).view_name
            forms.setdefault((name, tuple(sorted({n for n, _ in form.fields}))), form)

    def order(item: tuple[tuple[str, tuple[str, ...]], Form]) -> tuple[int, int]:
        (name, _), form = item
        if "logout" in name:
            return (2, 0)
        if DESTRUCTIVE.search(name):
            return (1, -urlsplit(form.action).path.count("/"))
        return (0, 0)

    for (name, _), form in sorted(forms.items(), key=order):
        path = urlsplit(form.action)
        target = path.path + (f"?{path.query}" if path.query else "")
        response = session.post(target, form_data(form))
        outcome.forms += 1
        outcome.form_answers.append((name, target, response.status_code))
        _record(outcome, "POST", target, response, f"form {name}")
    outcome.seconds = {
        "seeding": round(seeded - started, 1),
        "requests": round(time.monotonic() - seeded, 1),
    }
    return outcome


def main() -> int:
    import django

    django.setup()
    try:
        outcome = run()
    except Exception:
        traceback.print_exc()
        return 1
    for error in outcome.errors:
        print(f"{error['status']} {error['method']} {error['url']} ({error['what']})")
    print(
        f"pages {outcome.pages}, api routes {outcome.api_routes}, forms {outcome.forms}, "
        f"errors {len(outcome.errors)}"
    )
    print(json.dumps(outcome.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
