"""A directory of batches waiting to be sent, oldest first, that outlives the process: the
`CollectorClient`'s opt-in on-disk spool.

Each batch is one file, ``<sequence>.jsonl``: a first line ``{"key": ...}`` with the batch's
Idempotency-Key, then one JSON item per line. Files are written with plain writes (no fsync): they
survive the process being killed or restarted, not the machine losing power. A line cut short by
a crash mid-write is ignored when the file is read.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

try:  # POSIX; elsewhere two processes sharing a directory are not detected
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

SUFFIX = ".jsonl"
LOCK_NAME = ".lock"


class SpoolLocked(ValueError):
    """Another process is using the spool directory."""


@dataclass
class Segment:
    """One batch on disk."""

    path: Path
    key: str
    rows: int
    bytes: int


def lock_directory(directory: Path) -> IO[str] | None:
    """Hold `directory`'s lock file for as long as the returned file is open; SpoolLocked when
    another process holds it. Two processes appending to one spool would send each other's rows."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held open
    if fcntl is None:  # pragma: no cover
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise SpoolLocked(
            f"spool_dir={str(directory)!r} is in use by another client (in this process or "
            "another): give each process its own spool directory (e.g. one per worker, named by "
            "its number)."
        ) from None
    return handle


class Spool:
    """The batches of one kind (rows or labels) waiting in `directory`, oldest first.

    Not thread-safe: the client calls it under its own lock.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.segments: deque[Segment] = deque()
        numbered = []
        for path in directory.glob(f"*{SUFFIX}"):
            try:
                numbered.append((int(path.stem), path))
            except ValueError:
                continue  # not ours
        numbered.sort()
        for _, path in numbered:
            segment = self._scan(path)
            if segment is not None:
                self.segments.append(segment)
        self._next = numbered[-1][0] + 1 if numbered else 0
        self._open: Segment | None = None  # the last segment, still taking appends

    @property
    def rows(self) -> int:
        return sum(segment.rows for segment in self.segments)

    @property
    def bytes(self) -> int:
        return sum(segment.bytes for segment in self.segments)

    def __bool__(self) -> bool:
        return bool(self.segments)

    def append(self, items: list[dict[str, Any]], *, per_segment: int, room: int) -> int:
        """Write `items` after the last batch, at most `per_segment` to a file and at most `room`
        bytes in all; the number written (the first ones). They fill the open segment first."""
        written = 0
        while written < len(items):
            segment = self._open
            header = b""
            if segment is None or segment.rows >= per_segment:
                segment_key = str(uuid.uuid4())
                header = json.dumps({"key": segment_key}).encode() + b"\n"
                path = self.directory / f"{self._next:012d}{SUFFIX}"
                segment = Segment(path, segment_key, 0, 0)
            lines = []
            size = len(header)
            for item in items[written : written + per_segment - segment.rows]:
                line = _line(item)
                if size + len(line) > room:
                    break
                lines.append(line)
                size += len(line)
            if not lines:
                break
            try:
                with open(segment.path, "ab") as file:
                    file.write(header + b"".join(lines))
            except OSError as exc:
                logger.error("Could not write to the spool %s: %s", self.directory, exc)
                break
            if header:
                self._next += 1
                self.segments.append(segment)
            segment.rows += len(lines)
            segment.bytes += size
            room -= size
            written += len(lines)
            self._open = segment
        return written

    def add_batch(self, items: list[dict[str, Any]], *, key: str, room: int) -> Segment | None:
        """Write a formed batch, with its Idempotency-Key, after the last one: all of it, or
        nothing (None) when it does not fit in `room` bytes or cannot be written."""
        lines = [json.dumps({"key": key}).encode() + b"\n"]
        lines += [_line(item) for item in items]
        size = sum(map(len, lines))
        if size > room:
            return None
        path = self.directory / f"{self._next:012d}{SUFFIX}"
        try:
            with open(path, "wb") as file:
                file.write(b"".join(lines))
        except OSError as exc:
            logger.error("Could not write to the spool %s: %s", self.directory, exc)
            path.unlink(missing_ok=True)
            return None
        self._next += 1
        self._open = None
        segment = Segment(path, key, len(items), size)
        self.segments.append(segment)
        return segment

    def head(self) -> Segment | None:
        """The oldest batch; it takes no more appends."""
        if not self.segments:
            return None
        if self._open is self.segments[0]:
            self._open = None
        return self.segments[0]

    def read(self, segment: Segment) -> list[dict[str, Any]]:
        """The items of `segment` (the lines that are whole)."""
        return _items(segment.path)[1]

    def remove(self, segment: Segment) -> None:
        """Forget a batch that was sent (or refused for good)."""
        if self.segments and self.segments[0] is segment:
            self.segments.popleft()
        else:
            self.segments.remove(segment)
        if self._open is segment:
            self._open = None
        segment.path.unlink(missing_ok=True)

    def _scan(self, path: Path) -> Segment | None:
        key, items = _items(path)
        if key is None or not items:
            path.unlink(missing_ok=True)  # a crash before its first row was written
            return None
        return Segment(path, key, len(items), path.stat().st_size)


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _items(path: Path) -> tuple[str | None, list[dict[str, Any]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, []
    key: str | None = None
    items: list[dict[str, Any]] = []
    for number, line in enumerate(raw.split(b"\n")):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            logger.warning("Ignoring a damaged line %d of %s", number + 1, path)
            continue
        if number == 0:
            key = value.get("key") if isinstance(value, dict) else None
            if not isinstance(key, str):
                return None, []
        elif isinstance(value, dict):
            items.append(value)
    return key, items
