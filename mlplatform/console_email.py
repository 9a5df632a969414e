"""The demo's email backend: each email printed to the terminal as a person reads it, so its links can
be copied and opened.

Django's console backend prints the MIME source: the text is quoted-printable, which wraps long lines
with a trailing `=` and writes `=` as `=3D`, so a link copied from the terminal is cut short (a 404).
This one prints the decoded headers and the plain-text part, and puts every link on a line of its
own with nothing around it.
"""

from __future__ import annotations

import html
import re
from typing import TextIO

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.utils.html import strip_tags

RULE = "-" * 79

# A link ends at whitespace, a quote or an angle bracket; punctuation after it belongs to the
# sentence ("go to https://example.com/a/.") unless it closes a bracket the link opened.
_LINK = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?"


def _link(match: str) -> str:
    """The link in `match`, without the punctuation after it that is the sentence's."""
    end = len(match)
    while end and (
        match[end - 1] in _TRAILING
        or (match[end - 1] == ")" and match.count("(", 0, end) < match.count(")", 0, end))
    ):
        end -= 1
    return match[:end]


def links_on_their_own_lines(text: str) -> str:
    """`text` with every http(s) link on a line of its own: the words before and after a link keep
    lines of their own, and punctuation left alone after a link is dropped."""
    lines: list[str] = []
    for line in text.splitlines():
        position = 0
        for found in _LINK.finditer(line):
            link = _link(found.group())
            before = line[position : found.start()].strip()
            if before:
                lines.append(before)
            lines.append(link)
            position = found.start() + len(link)
        rest = line[position:]
        if position == 0:
            lines.append(rest.rstrip())
        elif rest.strip(" " + _TRAILING):
            lines.append(rest.strip())
    return "\n".join(lines)


def readable_text(message: EmailMessage) -> str:
    """The plain-text body of `message`: its text part, or its HTML without the tags when it has
    only HTML."""
    if message.content_subtype == "plain":
        return str(message.body)
    return html.unescape(strip_tags(str(message.body)))


class EmailBackend(DjangoConsoleBackend):
    """Writes each email (decoded: headers, then the plain text, links on their own lines)."""

    stream: TextIO

    def write_message(self, message: EmailMessage) -> None:
        headers = [
            ("From", message.from_email),
            ("To", ", ".join(message.to)),
            ("Cc", ", ".join(message.cc)),
            ("Reply-To", ", ".join(message.reply_to)),
            ("Subject", message.subject),
        ]
        out = [RULE]
        out += [f"{name}: {value}" for name, value in headers if value]
        out.append("")
        out.append(links_on_their_own_lines(readable_text(message)).strip("\n"))
        others = _other_parts(message)
        if others:
            out.append("")
            out.append(f"(Also in this email, not shown: {', '.join(others)}.)")
        out.append(RULE)
        self.stream.write("\n".join(out) + "\n")


def _other_parts(message: EmailMessage) -> list[str]:
    """What the email carries besides the text printed: its HTML version, attachments."""
    parts: list[str] = []
    if isinstance(message, EmailMultiAlternatives):
        # (content, mimetype) pairs
        parts += [f"a {alternative[1]} version" for alternative in message.alternatives]
    for attachment in message.attachments:
        name = getattr(attachment, "filename", None)
        parts.append(f"the attachment {name}" if name else "an attachment")
    return parts
