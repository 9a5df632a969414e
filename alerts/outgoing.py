"""What a transport sends, and how it says it failed: the contract between the message renderer
(`alerts.messages`), the transports (`alerts.transports`) and delivery (`alerts.delivery`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outgoing:
    """One message, rendered for every kind of channel."""

    subject: str  # email subject; also the first line elsewhere
    text: str  # plain-text body (email text part)
    html: str  # HTML body (email HTML part)
    slack: dict[str, Any] = field(default_factory=dict)  # Slack incoming-webhook payload
    webhook: dict[str, Any] = field(default_factory=dict)  # JSON body of a generic webhook
    to: list[str] = field(default_factory=list)  # email recipients (filled by delivery)


class TransportError(Exception):
    """A delivery that did not go through.

    `permanent`: retrying cannot help (Slack says the webhook is gone, the token is invalid, the
    URL is refused); the channel is disabled and its organisation's admins are told.
    Otherwise it is retried with backoff, after `retry_after` seconds when the server said so.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.http_status = http_status
