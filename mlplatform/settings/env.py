"""Strict readers for settings taken from the environment.

Every reader either returns a value of the right type or raises `EnvError` naming the variable, the
value it found and what it expected. Garbage fails at start-up with that message (see
`exit_on_config_error`), never later with a traceback from deep inside a library.
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


class EnvError(ImproperlyConfigured):
    """A setting read from the environment is missing or malformed."""


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Missing()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    """Reads typed values from a mapping (`os.environ` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str, default: Any) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            if default is REQUIRED:
                raise EnvError(f"{name} is required but not set.")
            return None
        return value.strip()

    def str(self, name: str, default: Any = REQUIRED, *, choices: tuple[str, ...] = ()) -> str:
        raw = self._raw(name, default)
        if raw is None:
            return default
        if choices and raw not in choices:
            raise EnvError(f"{name}={raw!r} is not one of: {', '.join(choices)}.")
        return raw

    def bool(self, name: builtins.str, default: Any = REQUIRED) -> bool:
        raw = self._raw(name, default)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise EnvError(
            f"{name}={raw!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off."
        )

    def int(
        self,
        name: builtins.str,
        default: Any = REQUIRED,
        *,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> int:
        raw = self._raw(name, default)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise EnvError(f"{name}={raw!r} is not an integer.") from None
        if min_value is not None and value < min_value:
            raise EnvError(f"{name}={value} is below the minimum of {min_value}.")
        if max_value is not None and value > max_value:
            raise EnvError(f"{name}={value} is above the maximum of {max_value}.")
        return value

    def list(
        self,
        name: builtins.str,
        default: Any = REQUIRED,
        *,
        item: Callable[[builtins.str], Any] | None = None,
    ) -> list[Any]:
        """A comma-separated list; `item` validates each entry (raise ValueError to refuse it)."""
        raw = self._raw(name, default)
        if raw is None:
            return list(default)
        items = [part.strip() for part in raw.split(",")]
        if any(part == "" for part in items):
            raise EnvError(
                f"{name}={raw!r} has an empty entry; separate values with single commas."
            )
        if item is None:
            return items
        checked = []
        for part in items:
            try:
                checked.append(item(part))
            except ValueError as exc:
                raise EnvError(f"{name}: entry {part!r} is invalid: {exc}") from None
        return checked

    def url(
        self, name: builtins.str, default: Any = REQUIRED, *, schemes: tuple[builtins.str, ...]
    ) -> builtins.str:
        """A URL with one of `schemes` and a host, returned without a trailing slash."""
        raw = self._raw(name, default)
        if raw is None:
            return default
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise EnvError(
                f"{name}={raw!r} is not a URL of the form {schemes[0]}://host[:port]"
                f" (allowed schemes: {', '.join(schemes)})."
            )
        try:
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise EnvError(f"{name}={raw!r} has an invalid port.") from None
        return raw.rstrip("/")

    def rate(self, name: builtins.str, default: Any = REQUIRED) -> builtins.str:
        """A rate such as 600/min (periods: s, min, hour)."""
        raw = self.str(name, default)
        count, _, period = raw.partition("/")
        if not count.strip().isdigit() or period.strip().lower() not in (
            "s",
            "sec",
            "second",
            "m",
            "min",
            "minute",
            "h",
            "hour",
        ):
            raise EnvError(f"{name}={raw!r} is not a rate such as 600/min (periods: s, min, hour).")
        return raw

    def database(self, name: builtins.str, default: Any = REQUIRED) -> dict[builtins.str, Any]:
        """A database URL (postgres://user:password@host:port/name or sqlite:///path) as a
        Django DATABASES entry."""
        raw = self._raw(name, default)
        if raw is None:
            raw = default
        return parse_database_url(name, raw)

    def redis(self, name: builtins.str, default: Any = REQUIRED) -> builtins.str:
        """A Redis URL: redis://[:password@]host[:port][/db] or rediss:// for TLS."""
        url = self.url(name, default, schemes=("redis", "rediss"))
        path = urlsplit(url).path.strip("/")
        if path and not path.isdigit():
            raise EnvError(f"{name}={url!r}: the database after the last slash must be a number.")
        return url


def parse_database_url(name: str, url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as in the usual DATABASE_URL form.
        path = url[len("sqlite://") :]
        if not path.startswith("/") or path == "/":
            raise EnvError(f"{name}={url!r}: write SQLite URLs as sqlite:///path/to/file.sqlite3.")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path[1:]}
    if parts.scheme not in ("postgres", "postgresql"):
        raise EnvError(
            f"{name}={url!r} is not a database URL; expected "
            "postgres://user:password@host:5432/name or sqlite:///path/to/file.sqlite3."
        )
    try:
        port = parts.port
    except ValueError:
        raise EnvError(f"{name}={url!r} has an invalid port.") from None
    db_name = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not db_name or "/" in db_name:
        raise EnvError(
            f"{name}={url!r} needs a host and a database name: postgres://user@host:5432/name."
        )
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    allowed_options = {"sslmode", "connect_timeout", "application_name"}
    unknown = sorted(set(options) - allowed_options)
    if unknown:
        raise EnvError(
            f"{name}: unsupported query option(s) {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(allowed_options))}."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": port or 5432,
        "OPTIONS": options,
    }


def secret_key(env: Env, name: str = "SECRET_KEY", default: Any = REQUIRED) -> str:
    """A secret key long and varied enough for Django's deployment check."""
    value = env.str(name, default)
    if len(value) < 50 or len(set(value)) < 5:
        raise EnvError(
            f"{name} must be at least 50 characters with at least 5 distinct ones; generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(64))"'
        )
    return value


@contextmanager
def exit_on_config_error() -> Iterator[None]:
    """Turn a configuration error into a one-line message and exit status 2 (no traceback)."""
    try:
        yield
    except ImproperlyConfigured as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def load_settings() -> None:
    """Import the settings now, so that a bad environment fails at start-up with a message."""
    from django.conf import settings

    with exit_on_config_error():
        settings.INSTALLED_APPS  # noqa: B018 - touching a setting imports the settings module


def served_at(host: str, port: int) -> str:
    """The URL a browser on this machine opens for a server bound to `host`:`port` (a wildcard
    address is reached on loopback; an IPv6 address goes in brackets)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
