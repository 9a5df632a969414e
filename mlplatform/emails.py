"""The one way to send an email: a text and an HTML body rendered from templates/emails/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template.loader import render_to_string


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """A link for an email: from the request's host when there is one, else from SITE_URL."""
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL.rstrip("/") + path


def send_templated_email(template: str, to: Sequence[str], context: dict[str, Any]) -> None:
    """Send `emails/<template>_subject.txt`, `.txt` and `.html` rendered with `context`."""
    context = {"site_name": settings.SITE_NAME, **context}
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    send_email(subject, text, html, to)


def send_email(subject: str, text: str, html: str, to: Sequence[str]) -> None:
    """Send a text and HTML email from DEFAULT_FROM_EMAIL (the subject on one line)."""
    message = EmailMultiAlternatives(
        subject=" ".join(subject.splitlines()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
    )
    message.attach_alternative(html, "text/html")
    message.send()
