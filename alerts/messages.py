"""Alert messages (firing, reminder, resolved, digest, test) rendered for email, Slack and webhooks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Max, Value, When
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.timesince import timesince

from alerts.models import (
    Alert,
    AlertRule,
    Channel,
    Message,
    MessageKind,
    RuleKind,
    Severity,
    describe_value,
)
from alerts.outgoing import Outgoing
from mlplatform.accounts.models import Organization
from mlplatform.emails import absolute_url, render_email
from projects.models import Project, Snapshot, SnapshotStatus, TestOutcome

MAX_TESTS = 10  # failing tests listed in one message; the snapshot page has the rest
MAX_DIGEST_SLACK = 20  # alerts shown in a Slack digest (Slack allows 50 blocks per message)

# Status colours of the HTML email's banner, and the matching Slack emoji.
COLOURS = {Severity.CRITICAL: "#dc2626", Severity.WARNING: "#d97706", "resolved": "#16a34a"}
EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    "resolved": ":large_green_circle:",
}
# How a threshold reads: "> 30".
SYMBOLS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "eq": "=", "ne": "≠"}
# Worst first, so the tests that matter most are the ones listed.
TEST_ORDER = [SnapshotStatus.ERROR, SnapshotStatus.FAIL, SnapshotStatus.WARNING]


@dataclass
class Fact:
    """One labelled line of a message ("Value: 40.2")."""

    label: str
    value: str


@dataclass
class FailingTest:
    name: str
    status: str
    description: str


@dataclass
class AlertView:
    """What a message says about one alert, ready for the templates and the payloads."""

    alert: Alert
    rule: AlertRule
    project: Project
    organization: Organization
    severity: str
    condition: str  # the rule in one line
    headline: str  # what happened, in one sentence
    summary: str  # what happened, in a few words (digest rows, Slack's fallback)
    measure: Fact  # what was seen: the value, the failing tests, the last snapshot
    limit: Fact  # what it is held to: the threshold, or the rule's condition
    facts: list[Fact]
    links: dict[str, str | None]  # dashboard, snapshot (None without one), rule
    tests: list[FailingTest] = field(default_factory=list)
    more_tests: int = 0  # failing tests beyond those listed


def render(message: Message) -> Outgoing:
    """`message` rendered for every kind of channel; `to` is left for delivery to fill."""
    channel = message.channel
    context: dict[str, Any] = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "channel": channel,
        "kind": message.kind,
    }
    if message.kind == MessageKind.TEST:
        context.update(_test_context(channel))
        slack, webhook = _test_slack(context), _test_webhook(context)
    elif message.kind == MessageKind.DIGEST:
        views = [_alert_view(alert, message.kind) for alert in _digest_alerts(message)]
        if not views:
            # Every alert it told of is gone with its rule: nothing is left to say.
            raise ValueError(f"Digest message {message.pk} has no alerts left to tell of.")
        context.update(_digest_context(views))
        slack, webhook = _digest_slack(context), _digest_webhook(context)
    else:
        if message.alert_id is None:
            raise ValueError(f"A {message.kind} message needs an alert (message {message.pk}).")
        alert = Alert.objects.select_related("rule", "project__organization", "snapshot").get(
            pk=message.alert_id
        )
        view = _alert_view(alert, message.kind)
        resolved = message.kind == MessageKind.RESOLVED
        context.update(
            view=view,
            colour=COLOURS["resolved" if resolved else view.severity],
            emoji=EMOJI["resolved" if resolved else view.severity],
            since=_since(alert),
        )
        slack, webhook = _alert_slack(context), _alert_webhook(view)
    webhook = {"event": message.kind, "id": str(message.pk), **webhook, "sent_at": _iso(_now())}
    subject, text, html = _email(message.kind, context)
    return Outgoing(subject=subject, text=text, html=html, slack=slack, webhook=webhook)


# ---- what a message says ---------------------------------------------------------------------


def _alert_view(alert: Alert, kind: str) -> AlertView:
    rule, project = alert.rule, alert.project
    organization = project.organization
    condition = rule.describe()
    dashboard = _url("project_detail", organization.slug, project.pk)
    links: dict[str, str | None] = {
        "dashboard": dashboard,
        "snapshot": (
            _url("snapshot_detail", organization.slug, project.pk, alert.snapshot.uuid)
            if alert.snapshot
            else None
        ),
        "rule": _url("alert_rule_detail", organization.slug, project.pk, rule.pk),
    }
    resolved = kind == MessageKind.RESOLVED
    facts = [
        Fact("Project", project.name),
        Fact("Rule", rule.name),
        Fact("Severity", alert.severity),
    ]
    tests: list[FailingTest] = []
    more_tests = 0

    if rule.kind == RuleKind.METRIC:
        config = rule.config
        value = describe_value(alert.value)
        threshold = describe_value(config.get("threshold"))
        measure = Fact("Value", value)
        limit = Fact("Threshold", f"{SYMBOLS.get(config.get('condition', ''), '?')} {threshold}")
        facts += [
            measure,
            limit,
            Fact("Condition", condition),
            Fact("Metric", str(config.get("metric", ""))),
            Fact("Field", str(config.get("field", ""))),
        ]
        if resolved:
            headline = f"Back to normal: the value is {value}; the rule fires when {condition}."
        else:
            headline = f"The value is {value}, which breaks the rule: {condition}."
        summary = f"{value} (threshold {limit.value})"

    elif rule.kind == RuleKind.TESTS_FAILED:
        limit = Fact("Condition", condition)
        if resolved:
            measure = Fact("Failing tests", "none")
            headline = "Back to normal: the latest snapshot passes the rule's tests."
        else:
            tests, total = _failing_tests(alert)
            more_tests = total - len(tests)
            measure = Fact("Failing tests", str(total))
            when = f" of {_when(alert.snapshot.timestamp)}" if alert.snapshot else ""
            headline = (
                f"{total} test{'s' if total != 1 else ''} failed in the snapshot{when}."
                if total
                else f"Tests failed in the snapshot{when}."
            )
        facts += [limit, measure]
        summary = (
            "tests pass"
            if resolved
            else f"{measure.value} failing test{'s' if measure.value != '1' else ''}"
        )

    else:  # no data
        last = _last_snapshot_at(project)
        limit = Fact("Condition", condition)
        measure = Fact("Last snapshot", _when(last) if last else "never")
        if last is None:
            headline = "No snapshot has arrived yet for this project."
            summary = "no snapshot yet"
        elif resolved:
            headline = f"Snapshots are arriving again: the last came on {_when(last)}."
            summary = f"last snapshot {_when(last)}"
        else:
            ago = _duration(last, _now())
            headline = f"No snapshot for {ago}: the last came on {_when(last)}."
            summary = f"no snapshot for {ago}"
        facts += [limit, measure]

    if alert.snapshot and rule.kind != RuleKind.NO_DATA:
        facts.append(Fact("Snapshot", _when(alert.snapshot.timestamp)))
    if alert.fired_at:
        facts.append(Fact("Fired at", _when(alert.fired_at)))
    if resolved and alert.resolved_at:
        facts.append(Fact("Resolved at", _when(alert.resolved_at)))
        facts.append(
            Fact("Firing for", _duration(alert.fired_at or alert.started_at, alert.resolved_at))
        )
    return AlertView(
        alert=alert,
        rule=rule,
        project=project,
        organization=organization,
        severity=alert.severity,
        condition=condition,
        headline=headline,
        summary=summary,
        measure=measure,
        limit=limit,
        facts=facts,
        links=links,
        tests=tests,
        more_tests=more_tests,
    )


def _failing_tests(alert: Alert) -> tuple[list[FailingTest], int]:
    """The alert's snapshot's tests that the rule counts as failing (the worst first, at most
    MAX_TESTS), and how many there are in all."""
    if alert.snapshot_id is None:
        return [], 0
    config = alert.rule.config
    which = config.get("tests", "any")
    statuses = [SnapshotStatus.FAIL, SnapshotStatus.ERROR]
    if which == "any":
        statuses.append(SnapshotStatus.WARNING)
    outcomes = TestOutcome.objects.filter(
        project_id=alert.project_id, snapshot_id=alert.snapshot_id, status__in=statuses
    )
    # The same selection the rule makes, so the message does not list tests it ignores.
    if which == "critical":
        outcomes = outcomes.filter(critical=True)
    elif which == "named":
        outcomes = outcomes.filter(test_id__in=config.get("names", []))
    total = outcomes.count()
    worst_first = Case(
        *(When(status=status, then=Value(rank)) for rank, status in enumerate(TEST_ORDER)),
        output_field=IntegerField(),
    )
    rows = outcomes.order_by(worst_first, "name", "pk").values("name", "status", "description")
    return [FailingTest(**row) for row in rows[:MAX_TESTS]], total


def _last_snapshot_at(project: Project) -> datetime | None:
    return Snapshot.objects.filter(project=project).aggregate(last=Max("created_at"))["last"]


def _digest_alerts(message: Message) -> list[Alert]:
    alerts = Alert.objects.filter(pk__in=message.digest_of).select_related(
        "rule", "project__organization", "snapshot"
    )
    # Critical first, then by rule name: the order a reader triages in.
    return sorted(alerts, key=lambda a: (a.severity != Severity.CRITICAL, a.rule.name.lower()))


def _digest_context(views: list[AlertView]) -> dict[str, Any]:
    first = views[0]
    worst = (
        Severity.CRITICAL
        if any(v.severity == Severity.CRITICAL for v in views)
        else Severity.WARNING
    )
    return {
        "views": views,
        "project": first.project,
        "organization": first.organization,
        "severity": worst,
        "colour": COLOURS[worst],
        "emoji": EMOJI[worst],
        "links": {"dashboard": first.links["dashboard"]},
    }


def _test_context(channel: Channel) -> dict[str, Any]:
    organization = channel.organization
    channels = _url("alert_channels", organization.slug)
    return {"organization": organization, "links": {"channels": channels}}


def _since(alert: Alert) -> str:
    """How long an alert has fired, for reminders: "5 Mar 2025, 14:02 UTC (2 hours ago)"."""
    start = alert.fired_at or alert.started_at
    return f"{_when(start)} ({_duration(start, _now())} ago)"


# ---- email -----------------------------------------------------------------------------------


def _email(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    subject, text, html = render_email(f"alerts/{kind}", context)
    # Template tags leave blank lines behind; a text email reads better without runs of them.
    return subject, re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", html


# ---- Slack -----------------------------------------------------------------------------------
# Links are mrkdwn links, not buttons: a button sends Slack an interaction to answer even when it
# has a URL, and an incoming webhook has no app to answer it, so users would see an error mark.


def _alert_slack(context: dict[str, Any]) -> dict[str, Any]:
    view: AlertView = context["view"]
    title = _title(context["kind"], view)
    blocks: list[dict[str, Any]] = [
        _header(f"{context['emoji']} {title}"),
        _section(_slack_escape(view.headline)),
    ]
    if context["kind"] == MessageKind.REMINDER:
        blocks.append(_context_block(f"Still firing since {_slack_escape(context['since'])}"))
    blocks.append(
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Project*\n{_slack_link(view.links['dashboard'], view.project.name)}"),
                _mrkdwn(f"*Rule*\n{_slack_link(view.links['rule'], view.rule.name)}"),
                _mrkdwn(f"*{view.measure.label}*\n{_slack_escape(view.measure.value)}"),
                _mrkdwn(f"*{view.limit.label}*\n{_slack_escape(view.limit.value)}"),
                _mrkdwn(f"*Severity*\n{view.severity}"),
            ],
        }
    )
    if view.tests:
        lines = [
            f"• *{_slack_escape(t.name)}* ({t.status}): {_slack_escape(t.description)}"
            for t in view.tests
        ]
        if view.more_tests:
            lines.append(f"…and {view.more_tests} more in the snapshot.")
        blocks.append(_section("*Failing tests*\n" + "\n".join(lines)))
    blocks.append(_context_block(_slack_links(view.links)))
    fallback = f"{title} — {view.project.name}: {view.summary}"
    return {"text": _slack_escape(fallback), "blocks": blocks}


def _digest_slack(context: dict[str, Any]) -> dict[str, Any]:
    views: list[AlertView] = context["views"]
    project: Project = context["project"]
    title = f"{len(views)} alerts firing in {project.name}"
    blocks: list[dict[str, Any]] = [_header(f"{context['emoji']} {title}")]
    for view in views[:MAX_DIGEST_SLACK]:
        blocks.append(
            _section(
                f"*{_slack_link(view.links['rule'], view.rule.name)}* ({view.severity})\n"
                f"{_slack_escape(view.summary)}"
            )
        )
    if len(views) > MAX_DIGEST_SLACK:
        blocks.append(
            _context_block(f"…and {len(views) - MAX_DIGEST_SLACK} more on the dashboard.")
        )
    blocks.append(_context_block(_slack_link(context["links"]["dashboard"], "Open dashboard")))
    return {"text": _slack_escape(title), "blocks": blocks}


def _test_slack(context: dict[str, Any]) -> dict[str, Any]:
    channel: Channel = context["channel"]
    line = f"This is a test from {context['site_name']} for channel {channel.name}."
    return {
        "text": _slack_escape(line),
        "blocks": [
            _section(_slack_escape(line) + " If you can read it, alerts will reach you here."),
            _context_block(_slack_link(context["links"]["channels"], "Channel settings")),
        ],
    }


def _title(kind: str, view: AlertView) -> str:
    if kind == MessageKind.RESOLVED:
        return f"RESOLVED: {view.rule.name}"
    if kind == MessageKind.REMINDER:
        return f"Still firing ({view.severity}): {view.rule.name}"
    return f"FIRING ({view.severity}): {view.rule.name}"


def _slack_escape(text: str) -> str:
    """Text safe in Slack mrkdwn: `<` would otherwise start a link or a mention
    (`<!channel>`). https://api.slack.com/reference/surfaces/formatting#escaping"""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str | None, label: str) -> str:
    return f"<{url}|{_slack_escape(label)}>" if url else _slack_escape(label)


def _slack_links(links: dict[str, str | None]) -> str:
    labels = {"dashboard": "Open dashboard", "snapshot": "View snapshot", "rule": "Rule history"}
    shown = {key: links[key] for key in labels if links[key]}
    return " · ".join(_slack_link(url, labels[key]) for key, url in shown.items())


def _header(text: str) -> dict[str, Any]:
    # plain_text is shown as written (no links, no mentions), so it needs no escaping; Slack
    # refuses a header over 150 characters.
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(text, 150), "emoji": True},
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(_clip(text, 3000))}


def _context_block(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(_clip(text, 3000))]}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, 2000)}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- webhook ---------------------------------------------------------------------------------


def _alert_webhook(view: AlertView) -> dict[str, Any]:
    return {
        **_alert_json(view),
        "project": {"id": str(view.project.pk), "name": view.project.name},
        "organization": {"id": str(view.organization.pk), "slug": view.organization.slug},
    }


def _digest_webhook(context: dict[str, Any]) -> dict[str, Any]:
    project: Project = context["project"]
    organization: Organization = context["organization"]
    return {
        "project": {"id": str(project.pk), "name": project.name},
        "organization": {"id": str(organization.pk), "slug": organization.slug},
        "alerts": [_alert_json(view) for view in context["views"]],
        "links": context["links"],
    }


def _test_webhook(context: dict[str, Any]) -> dict[str, Any]:
    channel: Channel = context["channel"]
    organization: Organization = context["organization"]
    return {
        "channel": {"id": str(channel.pk), "name": channel.name, "kind": channel.kind},
        "organization": {"id": str(organization.pk), "slug": organization.slug},
        "links": context["links"],
    }


def _alert_json(view: AlertView) -> dict[str, Any]:
    alert, rule, snapshot = view.alert, view.rule, view.alert.snapshot
    return {
        "alert": {
            "id": str(alert.pk),
            "state": alert.state,
            "severity": alert.severity,
            "value": alert.value,
            "started_at": _iso(alert.started_at),
            "fired_at": _iso(alert.fired_at),
            "resolved_at": _iso(alert.resolved_at),
        },
        "rule": {
            "id": str(rule.pk),
            "name": rule.name,
            "kind": rule.kind,
            "condition": view.condition,
            "config": rule.config,
        },
        "snapshot": (
            {"id": str(snapshot.uuid), "timestamp": _iso(snapshot.timestamp)} if snapshot else None
        ),
        "links": view.links,
    }


# ---- small helpers ---------------------------------------------------------------------------


def _url(name: str, *args: Any) -> str:
    """An absolute link to a page."""
    return absolute_url(reverse(name, args=[str(arg) for arg in args]))


def _now() -> datetime:
    return timezone.now()


def _when(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "j M Y, H:i T")


def _duration(start: datetime, end: datetime) -> str:
    # timesince joins with non-breaking spaces, which plain text and Slack show oddly.
    return timesince(start, end).replace("\xa0", " ")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
