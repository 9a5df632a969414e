"""Webhook and Slack URLs: hostile ones refused when saved, addresses re-checked and pinned when sent."""

from __future__ import annotations

import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from alerts.outbound import check_url, post_json
from alerts.outgoing import TransportError
from tests.alerts.stub_server import Stub, stub_server

PUBLIC = "93.184.215.14"  # a global unicast address; nothing connects to it here


@pytest.fixture(autouse=True)
def _no_escape_hatch(settings: Any) -> None:
    settings.OUTBOUND_INSECURE_HOSTS = []
    settings.SLACK_HOOKS_HOST = "hooks.slack.com"


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Answers for the names a test puts in it (there is no internet here); others as usual.

    A name mapped to [] does not resolve.
    """
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        if not answers[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
            if ":" in ip
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def loopback(settings: Any) -> Iterator[Stub]:
    settings.OUTBOUND_INSECURE_HOSTS = ["127.0.0.1"]
    with stub_server() as stub:
        yield stub


HOSTILE = [
    # (url, slack, the rule that refuses it)
    ("https://127.0.0.1/", False, "ip_literal"),
    ("https://10.0.0.5/hook", False, "ip_literal"),
    ("https://172.16.3.4/hook", False, "ip_literal"),
    ("https://192.168.1.1/hook", False, "ip_literal"),
    ("https://169.254.169.254/latest/meta-data/", False, "ip_literal"),
    ("https://metadata.google.internal/computeMetadata/v1/", False, "internal_host"),
    ("https://[::1]/", False, "ip_literal"),
    ("https://[::ffff:127.0.0.1]/", False, "ip_literal"),
    ("https://[fd00::1]/", False, "ip_literal"),
    ("https://2130706433/", False, "ip_literal"),
    ("https://0x7f000001/", False, "ip_literal"),
    ("https://0177.0.0.1/", False, "ip_literal"),
    ("https://127.1/", False, "ip_literal"),
    ("https://0/", False, "ip_literal"),
    ("https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", False, "ip_literal"),
    ("http://example.com/hook", False, "scheme"),
    ("https://user:pw@hooks.slack.com/services/T000/B000/XXXX", True, "userinfo"),
    ("https://hooks.slack.com@evil.example/services/x", False, "userinfo"),
    ("https://hooks.slack.com.evil.example/services/x", True, "slack_host"),
    ("https://evilhooks.slack.com/services/x", True, "slack_host"),
    ("https://hooks-slack.com/services/x", True, "slack_host"),
    ("https://evil.example#@hooks.slack.com/services/x", True, "slack_host"),
    ("https://hooks.slack.com/api/chat.postMessage", True, "slack_path"),
    ("https://localhost/", False, "internal_host"),
    ("https://localhost./", False, "internal_host"),
    ("https://foo.localhost/", False, "internal_host"),
    ("https://printer.local/", False, "internal_host"),
    ("https://intranet/", False, "no_dot"),
    ("https://%6c%6f%63%61%6c%68%6f%73%74/", False, "invalid_host"),
    ("https://example.com:22/", False, "port"),
    ("https://example.com:8443/hook", False, "port"),
    ("https://example.com\\@evil.example/", False, "invalid_characters"),
    ("https://example.com/a b", False, "invalid_characters"),
    ("file:///etc/passwd", False, "scheme"),
    ("gopher://example.com:70/_GET", False, "scheme"),
    ("javascript:alert(1)", False, "scheme"),
    ("https://example.com/" + "a" * 2000, False, "too_long"),
]


@pytest.mark.parametrize(("url", "slack", "code"), HOSTILE)
def test_it_refuses_hostile_urls_when_saved(url: str, slack: bool, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_url(url, slack=slack)
    assert refused.value.code == code
    assert refused.value.message  # says what to fix


@pytest.mark.parametrize(
    ("addresses", "problem"),
    [
        (["127.0.0.1"], "loopback"),  # localtest.me and its kind
        ([PUBLIC, "10.1.2.3"], "private"),  # one bad address is enough
        (["169.254.169.254"], "link-local"),  # cloud metadata
        (["100.64.0.7"], "carrier-grade NAT"),
        (["fd12:3456::1"], "private"),
        (["fec0::1"], "private"),
        (["::ffff:192.168.0.1"], "private"),  # IPv4-mapped
        (["224.0.0.251"], "multicast"),
        (["0.0.0.0"], "unspecified"),
    ],
)
def test_it_refuses_hostnames_that_resolve_to_inner_addresses(
    dns: dict[str, list[str]], addresses: list[str], problem: str
) -> None:
    dns["innocent.example.com"] = addresses
    with pytest.raises(ValidationError) as refused:
        check_url("https://innocent.example.com/hook")
    assert refused.value.code == "private_address"
    assert problem in refused.value.message


def test_it_refuses_a_hostname_that_does_not_resolve(dns: dict[str, list[str]]) -> None:
    dns["nowhere.example.com"] = []
    with pytest.raises(ValidationError, match="could not be resolved"):
        check_url("https://nowhere.example.com/hook")


def test_it_accepts_slack_and_webhook_urls_and_normalises_them(
    dns: dict[str, list[str]],
) -> None:
    dns["hooks.slack.com"] = ["34.226.36.55"]
    dns["example.com"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    slack = "https://hooks.slack.com/services/T000/B000/XXXX"
    assert check_url(slack, slack=True) == slack
    assert check_url("https://example.com/hook") == "https://example.com/hook"
    assert check_url("HTTPS://Hooks.Slack.COM.:443/services/T000/B000/XXXX#x", slack=True) == slack
    assert check_url("https://example.com/h\u00e9?a=1") == "https://example.com/h%C3%A9?a=1"


def test_it_lets_only_listed_test_hosts_use_http_ports_and_private_addresses(
    settings: Any,
) -> None:
    with pytest.raises(ValidationError):
        check_url("http://127.0.0.1:8025/services/x", slack=True)
    settings.OUTBOUND_INSECURE_HOSTS = ["127.0.0.1"]
    url = "http://127.0.0.1:8025/services/x"
    assert check_url(url, slack=True) == url
    with pytest.raises(ValidationError, match="user name or password"):
        check_url("http://u:p@127.0.0.1:8025/services/x")
    with pytest.raises(ValidationError):
        check_url("http://127.0.0.2:8025/services/x")


def test_it_does_not_follow_redirects(loopback: Stub) -> None:
    loopback.default = (302, {"Location": loopback.url("/elsewhere")}, b"", 0.0)
    status, headers, _ = post_json(loopback.url("/hook"), b"{}", {}, timeout=5)
    assert status == 302
    assert headers["location"] == loopback.url("/elsewhere")
    assert [r.path for r in loopback.received] == ["/hook"]


def test_it_reads_at_most_64_kib_of_the_answer(loopback: Stub) -> None:
    loopback.default = (200, {}, b"x" * (200 * 1024), 0.0)
    _, _, body = post_json(loopback.url("/hook"), b"{}", {}, timeout=5)
    assert len(body) == 64 * 1024


def test_it_refuses_at_send_time_a_host_rebound_to_a_private_address(
    dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    dns["rebind.example.com"] = [PUBLIC]
    url = check_url("https://rebind.example.com/hook")  # saved: it looked public

    connections: list[Any] = []
    real = socket.create_connection

    def create_connection(*a: Any, **k: Any) -> Any:
        connections.append(a)
        return real(*a, **k)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    dns["rebind.example.com"] = ["127.0.0.1"]  # sent: the attacker's DNS answers otherwise
    with pytest.raises(TransportError) as refused:
        post_json(url, b"{}", {}, timeout=1)
    assert refused.value.permanent
    assert "127.0.0.1" in str(refused.value)
    assert connections == []


def test_it_refuses_at_send_time_a_url_saved_before_the_rules() -> None:
    with pytest.raises(TransportError) as refused:
        post_json("https://169.254.169.254/latest/meta-data/", b"{}", {}, timeout=1)
    assert refused.value.permanent
    assert "IP addresses are not allowed" in str(refused.value)


def test_it_resolves_once_and_connects_to_the_address_it_checked(
    dns: dict[str, list[str]], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    fake = socket.getaddrinfo

    def getaddrinfo(h: Any, *a: Any, **k: Any) -> Any:
        lookups.append(h)
        return fake(h, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    settings.OUTBOUND_INSECURE_HOSTS = ["pinned.example.com"]
    dns["pinned.example.com"] = ["127.0.0.1"]
    with stub_server() as stub:
        status, _, _ = post_json(
            f"http://pinned.example.com:{stub.port}/hook", b"{}", {}, timeout=5
        )
    assert status == 200
    assert lookups.count("pinned.example.com") == 1  # connecting uses the address found
    assert stub.received[0].headers["Host"] == f"pinned.example.com:{stub.port}"


@pytest.fixture
def certificate(tmp_path: Path) -> Callable[[str], tuple[Path, Path]]:
    """A self-signed certificate (and its key) for a hostname, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    def make(hostname: str) -> tuple[Path, Path]:
        cert, key = tmp_path / f"{hostname}.pem", tmp_path / f"{hostname}.key"
        command = ["openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", f"/CN={hostname}"]
        command += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        command += ["-addext", f"subjectAltName=DNS:{hostname}"]
        subprocess.run(
            [*command, "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        return cert, key

    return make


@contextmanager
def https_server(cert: Path, key: Path) -> Iterator[tuple[int, list[str | None]]]:
    """An HTTPS server on 127.0.0.1 with the certificate given; yields its port and the server
    names (SNI) its clients asked for."""
    server_names: list[str | None] = []
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    def remember(_socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        server_names.append(name)

    tls.sni_callback = remember

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server_names
    finally:
        server.shutdown()
        server.server_close()


def test_it_verifies_the_certificate_against_the_hostname_not_the_address(
    dns: dict[str, list[str]],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    certificate: Callable[[str], tuple[Path, Path]],
) -> None:
    settings.OUTBOUND_INSECURE_HOSTS = ["pinned.example.com", "other.example.com"]
    dns["pinned.example.com"] = ["127.0.0.1"]
    dns["other.example.com"] = ["127.0.0.1"]
    cert, key = certificate("pinned.example.com")
    with https_server(cert, key) as (port, server_names):
        url = f"https://pinned.example.com:{port}/hook"
        # Not signed by a trusted authority: refused, and worth retrying (it may be fixed).
        with pytest.raises(TransportError, match="certificate could not be verified") as refused:
            post_json(url, b"{}", {}, timeout=5)
        assert not refused.value.permanent

        # Trusted, and it names the host: the exchange goes through, with the name sent as SNI.
        real = ssl.create_default_context
        monkeypatch.setattr(ssl, "create_default_context", lambda: real(cafile=str(cert)))
        status, _, body = post_json(url, b"{}", {}, timeout=5)
        assert (status, body) == (200, b"ok")
        assert server_names[-1] == "pinned.example.com"

        # Trusted, at the same address, but for another name: refused.
        with pytest.raises(TransportError, match="certificate could not be verified"):
            post_json(f"https://other.example.com:{port}/hook", b"{}", {}, timeout=5)
