"""A small real SMTP server on loopback, in a thread, that keeps what it is sent (for tests)."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

# A test message is small; a runaway client should not fill the memory.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class _Session(socketserver.StreamRequestHandler):
    """One client's conversation: EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT."""

    server: _Server
    timeout = 30  # a client that hangs does not hold a thread forever

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 localhost test SMTP server ready")
        sender: str | None = None
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, argument = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                # 8BITMIME and SMTPUTF8 let Django send non-ASCII subjects and addresses as is.
                self.reply("250-localhost")
                self.reply("250-8BITMIME")
                self.reply("250-SMTPUTF8")
                self.reply(f"250 SIZE {MAX_MESSAGE_BYTES}")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "MAIL" and argument.upper().startswith("FROM:"):
                sender = _address(argument[5:])
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT" and argument.upper().startswith("TO:"):
                if sender is None:
                    self.reply("503 MAIL FROM first")
                    continue
                recipients.append(_address(argument[3:]))
                self.reply("250 OK")
            elif verb == "DATA":
                if not recipients:
                    self.reply("503 RCPT TO first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self.read_data()
                if data is None:
                    return
                message = email.message_from_bytes(data, policy=email.policy.default)
                self.server.messages.append(message)
                sender, recipients = None, []
                self.reply("250 OK: queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def read_data(self) -> bytes | None:
        """The message up to the lone dot, dot-stuffing undone; None if the client went away."""
        lines: list[bytes] = []
        size = 0
        while True:
            raw = self.rfile.readline(MAX_MESSAGE_BYTES)
            if not raw:
                return None
            if raw in (b".\r\n", b".\n"):
                return b"".join(lines)
            if raw.startswith(b"."):
                raw = raw[1:]  # RFC 5321 4.5.2: a leading dot was doubled by the client
            size += len(raw)
            if size > MAX_MESSAGE_BYTES:
                self.reply("552 Message too big")
                return None
            lines.append(raw)


def _address(argument: str) -> str:
    # "<alice@example.com> SIZE=123 SMTPUTF8" -> "alice@example.com"
    return argument.strip().split(" ", 1)[0].strip("<>")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.messages: list[Message] = []


@contextmanager
def smtp_server() -> Iterator[tuple[str, int, list[Message]]]:
    """Run an SMTP server on 127.0.0.1 for the block: yields (host, port, messages received).

    Each message is appended once the client has sent it whole (before the server says 250).
    """
    server = _Server()
    # A short poll interval: shutdown() waits for one, and tests start and stop servers often.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="test-smtp", daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port), server.messages
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
