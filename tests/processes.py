"""Start real processes (servers, Celery workers and beat) for tests, and stop them afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


def raw_request(
    port: int, data: bytes, *, wait: float = 0.0, read: bool = True, timeout: float = 10.0
) -> bytes:
    """Send `data` as-is over a new loopback connection, wait `wait` seconds, then read the answer
    until the server closes or `timeout` passes (or, with `read=False`, hang up unanswered)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if wait:
            time.sleep(wait)
        if not read:
            return b""
        sock.settimeout(timeout)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionError):
            pass
        return b"".join(chunks)


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


def production_environment(**overrides: str) -> dict[str, str]:
    """The production settings' environment, pointed at the test database and Redis, serving plain
    HTTP on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mlplatform.settings.production",
        SECRET_KEY="production-test-" + "x" * 40 + "0123456789",
        SITE_URL="http://127.0.0.1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        EMAIL_BACKEND="console",
        SECURE_SSL_REDIRECT="false",
        PYTHONUNBUFFERED="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(overrides)
    return env


def wait_until_serving(port: int, process: Process, timeout: float = 60) -> None:
    """Wait until something accepts connections on `port` (the server is up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"the server did not start:\n{process.output[-4000:]}"
                ) from None
            time.sleep(0.1)


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if not found:
        raise AssertionError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (initdb, pg_ctl) on a free port, to stop and start
    at will without touching the shared server. initdb refuses root, so as root it runs as the
    `postgres` system user."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="mlp-pg-"))
        self.data = self.directory / "data"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self._prefix = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [*self._prefix, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"{tool} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, source_url: str, name: str) -> None:
        """A copy of another database (schema and rows) as `name` in this cluster."""
        self._run("psql", "-d", self.url(), "-c", f'CREATE DATABASE "{name}"')
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--no-privileges", "-d", source_url],
            capture_output=True,
            check=True,
            timeout=120,
        )
        subprocess.run(
            [str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(name)],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=120,
        )

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A started cluster of the test's own; stopped and deleted afterwards."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@contextmanager
def redis_server() -> Iterator[str]:
    """A Redis of the test's own, in memory only; yields its URL."""
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no"]
    with running(args, os.environ, ready="Ready to accept connections"):
        yield f"redis://127.0.0.1:{port}/0"
