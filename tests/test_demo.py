"""The README's demo command on this checkout: it sets up, migrates a fresh SQLite file, seeds the
demo and serves it on the port it is given. The login line is the last thing it prints before
serving and works; the links in the emails it prints go to that port and open."""

from __future__ import annotations

import http.cookiejar
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mlplatform.console_email import RULE
from tests.processes import ROOT, Process, free_port, wait_until_serving

pytestmark = pytest.mark.slow

LOGIN = re.compile(r"^Log in as (\S+) / (\S+) at (\S+)$")


@dataclass
class Demo:
    process: Process
    base: str
    printed_before_serving: list[str]  # every line printed until the site answered

    def browser(self) -> urllib.request.OpenerDirector:
        jar = http.cookiejar.CookieJar()
        return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """scripts/demo as a user runs it, on a free port, with its SQLite file in a temporary folder."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "VIRTUAL_ENV", "SITE_URL", "LOG_LEVEL"))
    }
    database = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{database}")
    process = Process([str(ROOT / "scripts" / "demo")], env)
    try:
        process.wait_for("Log in as", timeout=300)
        wait_until_serving(port, process)
        # What a user sees when the site is up, before anyone has used it.
        yield Demo(process, f"http://127.0.0.1:{port}", list(process.lines))
    finally:
        process.stop()


def _printed(lines: list[str]) -> list[str]:
    return [line.rstrip("\n") for line in lines if line.strip()]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


def _post(opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str]):
    page = opener.open(url, timeout=10).read().decode()
    body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": _csrf(page)}).encode()
    return opener.open(url, body, timeout=30)


def test_the_login_line_is_the_last_thing_printed_and_names_the_port(demo):
    lines = _printed(demo.printed_before_serving)
    login = LOGIN.match(lines[-1])
    assert login, "\n".join(lines[-20:])
    assert login.group(3) == demo.base
    assert lines[-2] == f"Serving on {demo.base} (Ctrl+C to stop)"
    # No task chatter, broker warnings or server start-up lines bury it.
    output = "\n".join(lines)
    for noise in ["celery", "kombu", "No hostname was supplied", "Uvicorn running", " INFO "]:
        assert noise not in output, output[-4000:]


def test_the_printed_login_works(demo):
    login = LOGIN.match(_printed(demo.printed_before_serving)[-1])
    assert login is not None
    email, password, url = login.groups()
    opener = demo.browser()
    response = _post(opener, f"{url}/accounts/login/", {"login": email, "password": password})
    landed = response.read().decode()
    assert response.url == f"{demo.base}/o/acme-ml/", response.url
    assert "Credit scoring" in landed
    assert "Churn prediction" in landed
    assert opener.open(f"{demo.base}/static/css/app.css", timeout=10).status == 200


def test_the_printed_alert_email_links_to_the_demos_port_and_they_open(demo):
    lines = _printed(demo.printed_before_serving)
    links = [line for line in lines if line.startswith("http")]
    alert_links = [link for link in links if "/alerts/" in link]
    assert alert_links, "no alert notice printed:\n" + "\n".join(lines)
    assert all(link.startswith(demo.base + "/") for link in links), links
    opener = demo.browser()
    login = LOGIN.match(lines[-1])
    assert login is not None
    _post(
        opener,
        f"{demo.base}/accounts/login/",
        {"login": login.group(1), "password": login.group(2)},
    )
    for link in links:
        assert opener.open(link, timeout=10).status == 200, link


def _email_to(demo: Demo, address: str, after: int, timeout: float = 30) -> list[str]:
    """The lines of the first email printed to `address` after output line `after`."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line.rstrip("\n") for line in demo.process.lines[after:]]
        for start, line in enumerate(lines):
            if line == f"To: {address}":
                end = next((i for i in range(start, len(lines)) if lines[i] == RULE), None)
                if end is not None:
                    return lines[start:end]
        assert time.monotonic() < deadline, "\n".join(lines) or "nothing printed"
        time.sleep(0.2)


def test_a_new_user_signs_up_and_the_printed_confirmation_link_opens(demo):
    address = "dana@example.com"
    opener = demo.browser()
    printed_so_far = len(demo.process.lines)
    signed_up = _post(
        opener,
        f"{demo.base}/accounts/signup/",
        {
            "email": address,
            "password1": "a-long-demo-passphrase-42",
            "password2": "a-long-demo-passphrase-42",
            "name": "Dana",
        },
    )
    assert signed_up.url == f"{demo.base}/accounts/confirm-email/", signed_up.url

    email = _email_to(demo, address, after=printed_so_far)
    links = [line for line in email if "/accounts/confirm-email/" in line]
    assert len(links) == 1, "\n".join(email)
    link = links[0]
    # Copied from the terminal as printed: the whole line is the link, and it opens.
    assert re.fullmatch(re.escape(demo.base) + r"/accounts/confirm-email/[^\s=]+/", link), link
    page = opener.open(link, timeout=10)
    assert page.status == 200
    confirm_page = page.read().decode()
    assert address in confirm_page
    assert "expired or is invalid" not in confirm_page

    confirmed = opener.open(
        link, urllib.parse.urlencode({"csrfmiddlewaretoken": _csrf(confirm_page)}).encode()
    )
    assert re.fullmatch(re.escape(demo.base) + r"/o/[\w-]+/", confirmed.url), confirmed.url
    assert "Dana&#x27;s organisation" in confirmed.read().decode()
