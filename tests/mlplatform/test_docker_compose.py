"""docker-compose.yml: Docker does not run here, so each service's command is started as a plain
process with the compose file's environment (pointed at this machine's PostgreSQL and Redis)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
import yaml

from mlplatform.accounts.tasks import purge_stale_invitations_task
from tests.processes import BIN, ROOT, Process, database_url, free_port, running

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def compose_env(service: str, **overrides: str) -> dict[str, str]:
    env = {k: _interpolate(str(v)) for k, v in SERVICES[service]["environment"].items()}
    # What .env.example asks the operator to fill in.
    env.update(
        SECRET_KEY="compose-test-" + "x" * 40 + "0123456789",
        SITE_URL="https://monitor.example.com",
        EMAIL_BACKEND="console",
        # The compose hosts "postgres" and "redis" are this machine's services here.
        DATABASE_URL=database_url(),
        REDIS_URL="redis://127.0.0.1:6379/15",
        PATH=f"{BIN}:/usr/bin:/bin",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def command(service: str) -> list[str]:
    args = SERVICES[service]["command"]
    args = [_interpolate(a) for a in (shlex.split(args) if isinstance(args, str) else list(args))]
    return [str(BIN / args[0]) if (BIN / args[0]).exists() else args[0], *args[1:]]


def test_the_stack_has_its_services_on_production_settings():
    assert {"postgres", "redis", *APP_SERVICES} <= set(SERVICES)
    for name in APP_SERVICES:
        service = SERVICES[name]
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "mlplatform.settings.production"
        assert service["build"] == "."
        assert "postgres" in service["depends_on"]
        assert "redis" in service["depends_on"]
    for name in ["web", "worker", "beat"]:
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert (ROOT / "Dockerfile").exists()
    documented = (ROOT / ".env.example").read_text()
    for name in ["SECRET_KEY", "SITE_URL", "EMAIL_HOST"]:
        assert f"{name}=" in documented


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_migrate_command_runs():
    result = subprocess.run(
        command("migrate"),
        cwd=ROOT,
        env=compose_env("migrate"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "No migrations to apply." in result.stdout


def _get(url: str, **headers: str) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_web_command_serves_http_behind_a_tls_proxy(tmp_path):
    env = compose_env("web", STATIC_ROOT=str(tmp_path / "static"))
    # What the Dockerfile does at build time.
    collected = subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    args = command("web")
    args[args.index("--port") + 1] = str(port)
    args[args.index("--host") + 1] = "127.0.0.1"
    assert args[args.index("--workers") + 1] == "2"
    process = Process(args, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, body = _get(f"http://127.0.0.1:{port}/healthz", Host="localhost")
                break
            except OSError:
                assert process.proc.poll() is None, process.output
                assert time.monotonic() < deadline, process.output
                time.sleep(0.3)
        assert status == 200, body
        health = json.loads(body)
        assert {k: health[k] for k in ("status", "database", "cache")} == {
            "status": "ok",
            "database": "ok",
            "cache": "ok",
        }
        assert health["pool"]["available"] == health["pool"]["size"] >= 1
        # Plain HTTP is sent to HTTPS; what the proxy forwards as HTTPS is served.
        status, headers, _ = _get(f"http://127.0.0.1:{port}/accounts/login/", Host="localhost")
        assert status == 301
        assert headers["Location"].startswith("https://localhost")
        status, headers, body = _get(
            f"http://127.0.0.1:{port}/accounts/login/",
            Host="localhost",
            **{"X-Forwarded-Proto": "https"},
        )
        assert status == 200
        assert b"Log in" in body or b"Sign In" in body
        assert "Strict-Transport-Security" in headers
        # Static files are served by the web process itself (whitenoise).
        status, _, css = _get(
            f"http://127.0.0.1:{port}/static/css/app.css",
            Host="localhost",
            **{"X-Forwarded-Proto": "https"},
        )
        assert status == 200
        assert b".topbar" in css
    finally:
        process.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_command_consumes_tasks():
    queue = f"compose-{uuid.uuid4().hex[:8]}"
    args = [*command("worker"), "--queues", queue, "--pool", "solo", "--hostname", f"{queue}@%h"]
    with running(args, compose_env("worker"), ready=" ready.") as worker:
        purge_stale_invitations_task.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while "succeeded" not in worker.output and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "accounts.purge_stale_invitations" in worker.output
        assert "succeeded" in worker.output, worker.output[-3000:]


@pytest.mark.slow
def test_the_beat_command_starts_with_the_schedule(tmp_path):
    args = command("beat")
    args[args.index("--schedule") + 1] = str(tmp_path / "schedule")
    with running(args, compose_env("beat"), ready="beat: Starting...") as beat:
        time.sleep(2)
        assert beat.proc.poll() is None, beat.output
