"""Helpers of the fault tests: a Redis server of the test's own on a free port (so the shared one
is never stopped), and the production settings for the processes a test starts against it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.processes import Process, child_environment


def redis_server(port: int) -> Process:
    """A Redis server on `port` holding nothing on disk; ready when this returns."""
    redis = Process(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        child_environment(),
    )
    redis.wait_for("Ready to accept connections", 15)
    return redis


@contextmanager
def redis_running(port: int) -> Iterator[Process]:
    redis = redis_server(port)
    try:
        yield redis
    finally:
        redis.stop()


def production_environment(redis_port: int, **overrides: str) -> dict[str, str]:
    """The production settings (as docker-compose gives them) on the test database and the test's
    own Redis: broker, cache and channel layer."""
    env = child_environment(
        DJANGO_SETTINGS_MODULE="mlplatform.settings.production",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        SECRET_KEY="fault-test-only-" + "k" * 40 + "0123456789",
        SITE_URL="http://127.0.0.1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        EMAIL_BACKEND="console",
    )
    env.pop("TEST_CELERY_QUEUE", None)
    env.pop("REDIS_CACHE_URL", None)
    env.update(overrides)
    return env


def post_snapshot(base: str, project: Any, secret: str, document: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1/projects/{project.pk}/snapshots",
        data=json.dumps(document).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status in (200, 503)
    except urllib.error.HTTPError as error:
        return error.code == 503
    except OSError:
        return False
