"""One transport per kind of channel: email, Slack incoming webhooks and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from alerts import outbound
from alerts.models import Channel, ChannelKind
from alerts.outgoing import Outgoing, TransportError
from mlplatform.emails import send_email

# However long a server asks us to wait, an alert is retried within the hour.
MAX_RETRY_AFTER = 3600.0
USER_AGENT = "MLMonitor-Alerts/1.0"

# Slack's answers (in the body, with a 400 or 403) that no retry can change.
# https://api.slack.com/messaging/webhooks#handling_errors
SLACK_PERMANENT_ERRORS = {
    "invalid_token": "Slack says the webhook's token is invalid",
    "no_service": "Slack says the webhook was removed or its app disabled",
    "no_team": "Slack says the workspace no longer exists",
    "team_disabled": "Slack says the workspace is disabled",
    "channel_not_found": "Slack says the webhook's channel no longer exists",
    "channel_is_archived": "Slack says the webhook's channel is archived",
    "action_prohibited": "Slack says a workspace admin restricted posting to this channel",
    "posting_to_general_channel_denied": "Slack says only admins may post to this channel",
}
# Slack's answers when the message itself is malformed: our bug, not the channel's. Retrying the
# same message cannot help, so they are permanent too, but the admins are told whose fault it is.
SLACK_OUR_ERRORS = ("invalid_payload", "no_text")


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), at most an hour."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; old forms may omit the zone
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Transport:
    """Delivers an `Outgoing` to one channel, or raises TransportError saying why not."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def send(self, outgoing: Outgoing) -> None:
        raise NotImplementedError


class EmailTransport(Transport):
    """A text and HTML email to `outgoing.to`, through the default mailer (SMTP or a provider)."""

    def send(self, outgoing: Outgoing) -> None:
        if not outgoing.to:
            raise TransportError(
                "The channel has no recipients: add addresses, or roles that have members.",
                permanent=True,
            )
        try:
            send_email(outgoing.subject, outgoing.text, outgoing.html, outgoing.to)
        except (smtplib.SMTPException, OSError) as error:
            # The mail server being down, slow or refusing for now: retried with backoff.
            raise TransportError(f"The mail server did not take the message: {error}") from None


class HttpTransport(Transport):
    """A JSON POST to the channel's URL; the subclasses read the answer."""

    slack: ClassVar[bool] = False

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        status, answer_headers, answer = outbound.post_json(
            self.channel.config.get("url", ""),
            body,
            {"User-Agent": USER_AGENT, "Content-Type": "application/json", **(headers or {})},
            timeout=outbound.default_timeout(),
            slack=self.slack,
        )
        self.check(status, answer_headers, answer.decode("utf-8", "replace").strip())

    def check(self, status: int, headers: dict[str, str], answer: str) -> None:
        """Return for a delivered message; raise TransportError for anything else."""
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise TransportError(
                f"The URL answered with a redirect (HTTP {status}); redirects are not followed: "
                "use the final URL.",
                permanent=True,
                http_status=status,
            )
        if status in (408, 429) or status >= 500:
            raise TransportError(
                f"HTTP {status}{_excerpt(answer)}",
                retry_after=retry_after(headers.get("retry-after")),
                http_status=status,
            )
        raise TransportError(self.refusal(status, answer), permanent=True, http_status=status)

    def refusal(self, status: int, answer: str) -> str:
        """Why a 4xx answer stops delivery to this channel, for its admins."""
        return f"The URL refused the message (HTTP {status}{_excerpt(answer)})."


class SlackTransport(HttpTransport):
    """A message posted to a Slack incoming webhook."""

    slack = True

    def send(self, outgoing: Outgoing) -> None:
        self.post(to_json(outgoing.slack))

    def refusal(self, status: int, answer: str) -> str:
        if status in (404, 410):
            return f"The Slack webhook no longer exists (HTTP {status}); add it again from Slack."
        if answer in SLACK_PERMANENT_ERRORS:
            return f"{SLACK_PERMANENT_ERRORS[answer]} (HTTP {status}: {answer})."
        if answer in SLACK_OUR_ERRORS:
            return (
                f"Slack refused the message as malformed (HTTP {status}: {answer}). This is a bug "
                f"in {settings.SITE_NAME}, not in the channel: please report it, then re-enable "
                "the channel."
            )
        return f"Slack refused the message (HTTP {status}{_excerpt(answer)})."


class WebhookTransport(HttpTransport):
    """A JSON POST signed with the channel's secret.

    Headers: `X-MLP-Timestamp` (Unix seconds) and `X-MLP-Signature: sha256=<hex>`, the
    HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret; the receiver recomputes it and
    refuses old timestamps (replays). `X-MLP-Event` is the payload's "event", if any.
    `Idempotency-Key` is the payload's "id" (the message's id): delivery is at least once (an
    answer after our timeout is retried), so the receiver drops a key it has seen. The key is
    the body's `id`, so the signature covers it without changing what is signed.
    """

    def send(self, outgoing: Outgoing) -> None:
        body = to_json(outgoing.webhook)
        timestamp = str(int(time.time()))
        headers = {
            "X-MLP-Timestamp": timestamp,
            "X-MLP-Signature": "sha256=" + sign(self.channel.secret, timestamp, body),
        }
        key = outgoing.webhook.get("id")
        if isinstance(key, str) and key:
            headers["Idempotency-Key"] = key
        event = outgoing.webhook.get("event")
        if isinstance(event, str) and event:
            headers["X-MLP-Event"] = event
        self.post(body, headers)

    def refusal(self, status: int, answer: str) -> str:
        if status in (401, 403):
            return (
                f"The webhook refused our signature or credentials (HTTP {status}); check the "
                "secret it was given."
            )
        if status in (404, 410):
            return f"The webhook's URL does not exist (HTTP {status}); check the URL."
        return super().refusal(status, answer)


def to_json(payload: dict[str, Any]) -> bytes:
    # Compact, and UTF-8 rather than \u escapes: the bytes signed are the bytes sent.
    return json.dumps(
        payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" keyed with `secret`."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _excerpt(answer: str) -> str:
    # The start of the server's answer helps admins see why; a page of HTML does not.
    first = " ".join(answer[:200].split())
    return f": {first}" if first else ""


TRANSPORTS: dict[str, type[Transport]] = {
    ChannelKind.EMAIL: EmailTransport,
    ChannelKind.SLACK: SlackTransport,
    ChannelKind.WEBHOOK: WebhookTransport,
}


def transport_for(channel: Channel) -> Transport:
    """The transport for a channel's kind; a kind without one is a permanent failure."""
    try:
        return TRANSPORTS[channel.kind](channel)
    except KeyError:
        raise TransportError(f"Unknown channel kind {channel.kind!r}.", permanent=True) from None
