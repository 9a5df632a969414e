"""The one way to send an email: a text and an HTML body rendered from templates/emails/ (every
email's templates live there; allauth's own emails keep its packaged templates/account/email/)."""

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


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """The subject (on one line), text and HTML of the email `template`: the templates
    `emails/<template>_subject.txt`, `.txt` and `.html` rendered with `context` and the site's
    name; the HTML also gets the `subject`."""
    context = {"site_name": settings.SITE_NAME, **context}
    # One line: a newline in a subject is a header injection, and Django refuses it.
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", {**context, "subject": subject})
    return subject, text, html


def send_templated_email(template: str, to: Sequence[str], context: dict[str, Any]) -> None:
    """Send the email `template` (see `render_email`) rendered with `context`."""
    send_email(*render_email(template, context), to)


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
