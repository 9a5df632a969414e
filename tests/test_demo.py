"""The README's demo command on this checkout: it sets up, migrates a fresh SQLite file, seeds the
demo and serves it; the printed login works."""

from __future__ import annotations

import http.cookiejar
import os
import re
import time
import urllib.parse
import urllib.request

import pytest

from tests.processes import ROOT, Process, free_port


@pytest.mark.slow
def test_the_demo_serves_a_login_page_and_the_printed_login_works(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "VIRTUAL_ENV"))
    }
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    demo = Process([str(ROOT / "scripts" / "demo")], env)
    try:
        demo.wait_for("Serving on", timeout=300)
        login = re.search(r"log in as (\S+) / (\S+)", demo.output)
        assert login, demo.output
        email, password = login.groups()
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, demo.output
                time.sleep(0.3)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found is not None
        csrf = found.group(1)
        body = urllib.parse.urlencode(
            {"login": email, "password": password, "csrfmiddlewaretoken": csrf}
        ).encode()
        response = opener.open(f"{base}/accounts/login/", body, timeout=10)
        landed = response.read().decode()
        assert response.url == f"{base}/o/acme-ml/", response.url
        assert "Credit scoring" in landed
        assert "Churn prediction" in landed
        css = opener.open(f"{base}/static/css/app.css", timeout=10)
        assert css.status == 200
    finally:
        demo.stop()
