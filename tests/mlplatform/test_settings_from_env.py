"""Settings come from the environment strictly: garbage fails at start-up with a one-line message."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlplatform.settings.env import Env, EnvError, parse_database_url
from tests.processes import BIN, ROOT

GOOD_PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "mlplatform.settings.production",
    "SECRET_KEY": "k" * 30 + "0123456789abcdefghijklmnopqrstuvwxyz",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SITE_URL": "https://monitor.example.com",
    "EMAIL_HOST": "smtp.example.com",
    "PATH": "/usr/bin:/bin",
}


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], **env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "garbage", "DATABASE_URL='garbage' is not a database URL"),
        ("DATABASE_URL", "sqlite:///var/db.sqlite3", "must point at PostgreSQL"),
        ("DATABASE_URL", "postgres://host:notaport/db", "invalid port"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a URL"),
        ("REDIS_URL", "redis://localhost:6379/zero", "must be a number"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 50 characters"),
        ("SITE_URL", "monitor.example.com", "SITE_URL="),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT='smtp' is not an integer"),
        ("EMAIL_USE_TLS", "sure", "EMAIL_USE_TLS='sure' is not a boolean"),
        ("SECURE_HSTS_SECONDS", "-1", "below the minimum"),
        ("ALLOWED_HOSTS", "a,,b", "empty entry"),
        ("CSRF_TRUSTED_ORIGINS", "example.com", "expected an origin"),
        ("LOG_LEVEL", "LOUD", "is not one of"),
    ],
)
def test_garbage_in_the_environment_stops_start_up_with_a_message(name, value, message):
    result = manage("check", **{**GOOD_PRODUCTION, name: value})
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("Configuration error: ")
    assert "Traceback" not in result.stderr


def test_a_missing_required_setting_is_named():
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != "REDIS_URL"}
    result = manage("check", **env)
    assert result.returncode == 2
    assert "REDIS_URL is required but not set." in result.stderr


def test_the_good_environment_starts():
    result = manage("check", **GOOD_PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_the_deployment_check_passes_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **GOOD_PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "celery"), "-A", "mlplatform", "worker", "--pool", "solo"],
        [str(BIN / "celery"), "-A", "mlplatform", "beat"],
        [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--port", "0"],
    ],
    ids=["worker", "beat", "web"],
)
def test_workers_and_servers_refuse_garbage_too(command):
    result = run(command, **{**GOOD_PRODUCTION, "DATABASE_URL": "mysql://x@y/z"})
    assert result.returncode != 0
    assert "Configuration error: DATABASE_URL='mysql://x@y/z' is not a database URL" in (
        result.stderr + result.stdout
    )
    assert "Traceback" not in result.stderr + result.stdout


def test_env_readers_parse_what_they_accept():
    env = Env(
        {
            "FLAG": "Yes",
            "COUNT": "12",
            "HOSTS": "a.example.com, b.example.com",
            "DB": "postgresql://u:p%40ss@db.internal:6543/name?sslmode=require",
            "CACHE": "rediss://:secret@cache:6380/2",
        }
    )
    assert env.bool("FLAG") is True
    assert env.bool("UNSET", False) is False
    assert env.int("COUNT", min_value=1) == 12
    assert env.list("HOSTS") == ["a.example.com", "b.example.com"]
    db = env.database("DB")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.internal",
        6543,
        "name",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}
    assert env.redis("CACHE") == "rediss://:secret@cache:6380/2"


def test_sqlite_urls_name_a_file():
    assert parse_database_url("X", "sqlite:////tmp/db.sqlite3")["NAME"] == "/tmp/db.sqlite3"
    assert parse_database_url("X", "sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"
    with pytest.raises(EnvError, match="sqlite:///path"):
        parse_database_url("X", "sqlite://")


def test_unknown_database_options_are_refused():
    with pytest.raises(EnvError, match="unsupported query option"):
        parse_database_url("DATABASE_URL", "postgres://u@h/db?sslmod=require")
