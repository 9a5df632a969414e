"""Start real processes (servers, Celery workers and beat) for tests, and stop them afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database the tests are using (pytest-django's test database)."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Process:
    """A child process whose combined output is collected in the background."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path = ROOT) -> None:
        self.args = args
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so stop() can signal the whole process group
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader drain
                raise AssertionError(
                    f"{self.args[0]} exited ({self.proc.returncode}) before printing {text!r}:\n"
                    + self.output[-4000:]
                )
            time.sleep(0.1)
        raise AssertionError(
            f"{self.args} did not print {text!r} in {timeout}s:\n{self.output[-4000:]}"
        )

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def child_environment(**overrides: str) -> dict[str, str]:
    """The environment for a child process using the test settings and the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mlplatform.settings.test",
        TEST_CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        DATABASE_URL=database_url(),
        PYTHONUNBUFFERED="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(overrides)
    return env


@contextmanager
def running(
    args: list[str], env: Mapping[str, str], ready: str, timeout: float = 60
) -> Iterator[Process]:
    process = Process(args, env)
    try:
        process.wait_for(ready, timeout)
        yield process
    finally:
        process.stop()


@contextmanager
def celery_worker(
    queue: str, env: Mapping[str, str] | None = None, *, include: tuple[str, ...] = ()
) -> Iterator[Process]:
    """A real Celery worker consuming only `queue` (so runs never steal each other's tasks); it
    imports the modules of `include` too (test-only receivers of signals, say) as it starts."""
    args = [
        str(BIN / "celery"),
        "-A",
        "mlplatform",
        "worker",
        "--pool",
        "solo",
        "--queues",
        queue,
        "--hostname",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    if include:
        args += ["--include", ",".join(include)]
    with running(args, env or child_environment(), ready=" ready.") as process:
        yield process


def web_server(port: int) -> list[str]:
    """The command serving the site's HTTP as production does (one process), on loopback.

    Tests of the serving path start their server through this one function, so the serving model
    they exercise changes with it."""
    return [
        str(BIN / "uvicorn"),
        "mlplatform.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
