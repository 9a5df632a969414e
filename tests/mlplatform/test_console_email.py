"""The demo's console email backend prints emails decoded, each link whole on a line of its own."""

from __future__ import annotations

import html
import io

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

from mlplatform.console_email import EmailBackend, links_on_their_own_lines
from mlplatform.settings.env import served_at

# Long enough that quoted-printable wraps it (lines of at most 76 characters), with `=` and `:` that
# it escapes or that a careless splitter would cut at.
LINK = (
    "http://127.0.0.1:8050/accounts/confirm-email/"
    "Mw:1vRfZq:Xb7eYq2oQm3n_4QyWc9lK0pAaTzrB8sD5uV6wE1fGhI/?next=/o/acme-ml/&utm=a=b"
)


def _confirmation() -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject="[ML Monitor] Please confirm your email address — Dana",
        body=(
            "Hello from ML Monitor!\n\n"
            f"To confirm this is correct, go to {LINK}\n\n"
            "Thank you for using ML Monitor! “Quoted” text ≥ plain.\n"
        ),
        from_email="ML Monitor <noreply@localhost>",
        to=["dana@example.com"],
    )
    message.attach_alternative(f'<p><a href="{LINK}">Confirm</a></p>', "text/html")
    return message


def _printed(backend_class: type, message: EmailMessage) -> str:
    stream = io.StringIO()
    backend_class(stream=stream).send_messages([message])
    return stream.getvalue()


def test_djangos_console_backend_cuts_the_link_which_is_why_the_demo_has_its_own():
    printed = _printed(DjangoConsoleBackend, _confirmation())
    assert "quoted-printable" in printed
    assert LINK not in printed


def test_it_prints_a_quoted_printable_email_decoded_with_the_link_whole_on_its_own_line():
    message = _confirmation()
    assert "quoted-printable" in message.message().as_string()  # what Django would send
    printed = _printed(EmailBackend, message)
    lines = printed.splitlines()
    assert LINK in lines
    assert "To confirm this is correct, go to" in lines
    assert "Subject: [ML Monitor] Please confirm your email address — Dana" in lines
    assert "To: dana@example.com" in lines
    assert "Thank you for using ML Monitor! “Quoted” text ≥ plain." in lines
    assert "=3D" not in printed
    assert not any(line.endswith("=") for line in lines)
    assert "<p>" not in printed  # the HTML version is mentioned, not printed
    assert "(Also in this email, not shown: a text/html version.)" in lines


def test_an_html_only_email_prints_its_text():
    escaped = html.escape(LINK)
    message = EmailMessage(
        subject="Hi", body=f"<p>Open <a href='{escaped}'>{escaped}</a> now.</p>", to=["a@x.org"]
    )
    message.content_subtype = "html"
    lines = _printed(EmailBackend, message).splitlines()
    assert LINK in lines
    assert "<p>" not in "\n".join(lines)


def test_links_leave_the_sentence_but_the_sentence_stays():
    text = "Dashboard: https://a.example/x/, or (see https://b.example/wiki/A_(b)).\nNo link here."
    assert links_on_their_own_lines(text).splitlines() == [
        "Dashboard:",
        "https://a.example/x/",
        ", or (see",
        "https://b.example/wiki/A_(b)",
        ").",
        "No link here.",
    ]


def test_the_demo_url_is_reachable_from_this_machine_whatever_the_bind_address():
    assert served_at("127.0.0.1", 8050) == "http://127.0.0.1:8050"
    assert served_at("0.0.0.0", 8050) == "http://127.0.0.1:8050"
    assert served_at("::", 8050) == "http://[::1]:8050"
    assert served_at("::1", 9000) == "http://[::1]:9000"
    assert served_at("localhost", 8001) == "http://localhost:8001"
