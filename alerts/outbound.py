"""The one way out to a URL a tenant gave us: checked when saved and when sent, pinned to a checked address."""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from alerts.outgoing import TransportError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
# An answer is a status and a short reason; anything longer is not read (nor kept in memory).
MAX_ANSWER_BYTES = 64 * 1024

# Suffixes that name a host on the local network or inside a cloud, never on the internet.
_INTERNAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa", "arpa")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# The last label of a hostname is a name; digits (127.1, 2130706433) or 0x... (0x7f000001) there
# mean an IPv4 address in one of the forms inet_aton and browsers accept.
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)\Z")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
# Characters kept as they are when a path or query is percent-encoded (RFC 3986 pchar + "/?").
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def insecure_hosts() -> set[str]:
    """Hosts exempt from the rules: `settings.OUTBOUND_INSECURE_HOSTS`.

    Test-only. It lets the test suite stand a plain-HTTP server on 127.0.0.1 in for Slack and for
    webhooks: a URL whose host is listed may use http, any port, an IP literal and a private
    address, and counts as the Slack host. Production never sets it (the default is empty).
    """
    return {h.lower().strip("[]") for h in settings.OUTBOUND_INSECURE_HOSTS}


def slack_hooks_host() -> str:
    return settings.SLACK_HOOKS_HOST.lower()


def default_timeout() -> float:
    return float(settings.ALERTS_HTTP_TIMEOUT)


@dataclass(frozen=True)
class _Target:
    """A URL that passed the syntax rules, taken apart for connecting."""

    url: str  # normalised
    scheme: str
    host: str  # lower-case, ASCII (IDNA), no trailing dot, no brackets
    port: int
    path: str  # path and query, percent-encoded: what goes on the request line
    insecure: bool  # the host is in OUTBOUND_INSECURE_HOSTS


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _normalise_host(raw: str) -> str:
    try:
        # IDNA folds full-width digits and dots (U+FF11, U+FF0E), so a full-width 127.0.0.1 is
        # caught as the IP literal it becomes, and look-alike letters become their punycode.
        host = raw.encode("idna").decode("ascii") if not raw.isascii() else raw
    except UnicodeError:
        raise _refuse(
            "The URL's hostname is not a valid internationalised domain name.", "invalid_host"
        ) from None
    # "hooks.slack.com." is the same host as "hooks.slack.com"; compare it without the dot.
    return host.lower().rstrip(".")


def _is_ip_literal(host: str) -> bool:
    if ":" in host:  # IPv6, bracketed in the URL
        return True
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        return True
    try:
        socket.inet_aton(host)  # octal, hex and short forms the C resolver accepts
    except OSError:
        return False
    return True


def _parse(url: str, *, slack: bool) -> _Target:
    """Apply every rule that needs no DNS; raise ValidationError saying what to fix."""
    if not isinstance(url, str) or not url:
        raise _refuse("Enter a URL.", "required")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"The URL is too long: at most {MAX_URL_LENGTH} characters.", "too_long")
    # Parsers disagree about whitespace, control characters and backslashes (urllib drops tabs,
    # browsers read "\" as "/"), and such disagreements are how a checked URL reaches elsewhere.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        raise _refuse(
            "The URL contains spaces, control characters or backslashes; remove them.",
            "invalid_characters",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("This is not a valid URL.", "invalid") from None

    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _refuse("The URL must start with https://.", "scheme")
    if "@" in parts.netloc:
        raise _refuse(
            "The URL must not contain a user name or password (user:password@); remove them.",
            "userinfo",
        )
    if not parts.hostname:
        raise _refuse("The URL has no hostname; it must look like https://host/path.", "no_host")
    host = _normalise_host(parts.hostname)
    insecure = host in insecure_hosts()
    if scheme == "http" and not insecure:
        raise _refuse("The URL must start with https://.", "scheme")
    if not insecure:
        if _is_ip_literal(host):
            raise _refuse(
                "IP addresses are not allowed in the URL; use the service's hostname.",
                "ip_literal",
            )
        labels = host.split(".")
        if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
            raise _refuse(
                "The URL's hostname is not valid: use letters, digits, hyphens and dots.",
                "invalid_host",
            )
        if any(host == s or host.endswith("." + s) for s in _INTERNAL_SUFFIXES):
            raise _refuse(
                f"“{host}” names a local or internal host; alerts can only go to public "
                "internet addresses.",
                "internal_host",
            )
        if len(labels) < 2:
            raise _refuse(
                "The hostname must be a full domain name (like hooks.example.com), "
                "not a name on a local network.",
                "no_dot",
            )
        if port not in (None, 443):
            raise _refuse(
                f"Port {port} is not allowed: use the standard HTTPS port (443). Other ports "
                "usually belong to internal services.",
                "port",
            )
    if slack:
        if host != slack_hooks_host() and not insecure:
            raise _refuse(
                f"A Slack incoming webhook URL must start with https://{slack_hooks_host()}/"
                "services/; copy it from Slack's Incoming Webhooks page.",
                "slack_host",
            )
        if not parts.path.startswith("/services/"):
            raise _refuse(
                "A Slack incoming webhook URL's path starts with /services/; copy the whole URL "
                "from Slack's Incoming Webhooks page.",
                "slack_path",
            )

    default_port = 443 if scheme == "https" else 80
    port = port or default_port
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host if port == default_port else f"{shown_host}:{port}"
    return _Target(
        url=urlunsplit((scheme, netloc, path, query, "")),
        scheme=scheme,
        host=host,
        port=port,
        path=path + (f"?{query}" if query else ""),
        insecure=insecure,
    )


def address_problem(address: IPAddress) -> str | None:
    """Why an address is not on the public internet, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address can carry an IPv4 one (mapped, 6to4, NAT64); the IPv4 one is reached.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
        if address in _SITE_LOCAL or address in _UNIQUE_LOCAL:
            return "a private (site- or unique-local) address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def _resolve(target: _Target) -> list[IPAddress]:
    """The host's addresses, in the resolver's order (raises OSError when it has none)."""
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        # An IPv6 link-local answer carries its zone ("fe80::1%eth0"); the address is before it.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise socket.gaierror(f"no addresses for {target.host}")
    return addresses


def _check_addresses(target: _Target, addresses: list[IPAddress]) -> None:
    if target.insecure:
        return
    for address in addresses:
        problem = address_problem(address)
        if problem is not None:
            # One bad address is enough: the resolver or an attacker chooses which is used.
            raise _refuse(
                f"“{target.host}” resolves to {address}, {problem}; alerts can only go to "
                "public internet addresses.",
                "private_address",
            )


def check_url(url: str, *, slack: bool = False) -> str:
    """The URL, normalised, if alerts may be sent to it; else ValidationError saying what to fix.

    https only, to a public hostname on port 443, with no credentials in it; every address the
    hostname resolves to must be a public one. With `slack`, only Slack's incoming-webhook host
    (`settings.SLACK_HOOKS_HOST`) and its /services/ path.
    """
    target = _parse(url, slack=slack)
    try:
        addresses = _resolve(target)
    except (OSError, UnicodeError):
        raise _refuse(
            f"“{target.host}” could not be resolved; check the hostname.", "unresolvable"
        ) from None
    _check_addresses(target, addresses)
    return target.url


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to an address already checked (tests' loopback servers only)."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already checked; SNI, Host and the certificate check use the hostname."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        # Connecting to the address (not the name) means no second lookup that a rebinding DNS
        # server could answer differently; the certificate still has to match the hostname.
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    slack: bool = False,
) -> tuple[int, dict[str, str], bytes]:
    """POST `body` to `url`; return the status, the headers (names lower-cased) and at most
    64 KiB of the answer.

    The URL is checked again (it may have been saved before a rule changed), resolved once, every
    address is checked again, and the connection goes to a checked address. Redirects are not
    followed: a 3xx is returned as it is.

    Raises TransportError: permanent when the URL or its addresses are refused; transient for
    timeouts, refused connections, DNS and TLS failures.
    """
    try:
        target = _parse(url, slack=slack)
    except ValidationError as refused:
        raise TransportError(" ".join(refused.messages), permanent=True) from None
    try:
        addresses = _resolve(target)
    except (OSError, UnicodeError) as error:
        raise TransportError(f"could not resolve {target.host}: {error}") from None
    try:
        _check_addresses(target, addresses)
    except ValidationError as refused:
        raise TransportError(" ".join(refused.messages), permanent=True) from None

    connection = _connect(target, addresses, timeout)
    try:
        connection.request(
            "POST", target.path, body=body, headers={**headers, "Connection": "close"}
        )
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException) as error:
        raise _transient(target, timeout, error) from None
    finally:
        connection.close()
    answer_headers: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        answer_headers[key] = f"{answer_headers[key]}, {value}" if key in answer_headers else value
    return response.status, answer_headers, answer


def _connect(
    target: _Target, addresses: list[IPAddress], timeout: float
) -> http.client.HTTPConnection:
    """A connection to the first of the checked addresses that answers."""
    pinned = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    refused: OSError | None = None
    for address in addresses:
        connection = pinned(target.host, target.port, address=address, timeout=timeout)
        try:
            connection.connect()
        except (TimeoutError, ssl.SSLError) as error:
            # Not the next address: a timeout would cost the full timeout again, and a TLS
            # failure is the host's, not the address's.
            connection.close()
            raise _transient(target, timeout, error) from None
        except OSError as error:  # unreachable or refused (an IPv6 answer on an IPv4 host)
            connection.close()
            refused = error
            continue
        return connection
    reason = "connection refused" if isinstance(refused, ConnectionRefusedError) else refused
    raise TransportError(f"could not connect to {target.host}: {reason}")


def _transient(
    target: _Target, timeout: float, error: OSError | http.client.HTTPException
) -> TransportError:
    """A failure worth retrying, said for people."""
    if isinstance(error, TimeoutError):
        return TransportError(f"{target.host} did not answer within {timeout:g} s")
    if isinstance(error, ssl.SSLCertVerificationError):
        return TransportError(
            f"{target.host}'s TLS certificate could not be verified: {error.verify_message}"
        )
    if isinstance(error, ssl.SSLError):
        return TransportError(f"TLS with {target.host} failed: {error.reason or error}")
    return TransportError(f"{target.host} broke off the exchange: {error or type(error).__name__}")
