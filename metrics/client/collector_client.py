"""Send a live service's rows and labels to a collector in batches, from a background thread."""

from __future__ import annotations

import atexit
import functools
import logging
import math
import os
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pandas as pd

from metrics.client.backoff import (
    FIRST_DELAY_SECONDS,
    MAX_DELAY_SECONDS,
    RETRY_FOR_SECONDS,
    Backoff,
)
from metrics.client.remote import RemoteError, RemoteWorkspace
from metrics.client.spool import Segment, Spool, lock_directory

logger = logging.getLogger(__name__)

# The collector's limit on rows per request (collector/intake.py, MAX_ROWS_PER_REQUEST).
MAX_BATCH_SIZE = 100_000
# How long the interpreter's exit waits for what is still queued: a service stopping should not
# hang on an unreachable platform.
EXIT_TIMEOUT_SECONDS = 5.0
DROP_WARNING_EVERY_SECONDS = 60.0
DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024


@dataclass
class _Lane:
    """One kind of item on its way to one endpoint: rows to /data, labels to /labels."""

    noun: str
    path: str
    items: deque[dict[str, Any]] = field(default_factory=deque)
    since: float = 0.0  # when the oldest waiting item arrived (monotonic seconds)
    queued: int = 0  # ever accepted by send
    done: int = 0  # ever sent or failed: flush waits for `done` to reach `queued`
    sent: int = 0
    batches: int = 0
    failed: int = 0
    dropped: int = 0
    unreported_drops: int = 0
    warned_at: float = -math.inf
    # Older than everything in `items`: what waits on disk (None without a spool directory).
    spool: Spool | None = None


class CollectorClient:
    """Send rows (and labels that arrive later) to a collector without slowing the service down.

    `send` only checks the row and puts it on a bounded in-memory queue; a daemon thread, started
    on the first send, posts the rows in batches to ``/api/v1/collectors/{collector_id}/data``
    (labels to ``.../labels``) through `RemoteWorkspace`'s HTTP layer. A batch goes out when it
    holds `batch_size` rows or `flush_interval` seconds after its first row arrived, whichever
    comes first.

    What can be lost, and what can arrive twice:

    - **A full queue drops rows** (without a spool). When the platform is unreachable or slower
      than the service, the queue fills up to `max_queue` rows; further rows are dropped
      (``send`` returns False, ``stats["dropped"]`` counts them, a warning is logged at most once
      a minute). Memory stays bounded and the service never waits.
    - **With a spool** (`spool_dir`, opt-in), what does not fit waits on disk instead, up to
      `spool_max_bytes`. Every batch is written there before it is sent and deleted once the
      platform took it; when the queue is full, or while the platform does not answer, the
      queue moves there too; at `close` (and at the interpreter's exit) what is left in memory
      does. A client made later with the same directory, in this process or after a restart,
      sends it first, in order, with the batches' original keys. Rows are dropped (and counted)
      only when both the queue and the spool are full. Transient failures of a spooled batch are
      retried for as long as it takes: the rows wait on disk, not in memory.
    - **A refused batch is dropped whole** (400, 401, 403, 404, 409): the collector stores nothing
      from a refused request and sending it again would be refused again. ``stats["failed"]``
      counts the rows, ``stats["last_error"]`` keeps the server's detail and fields, and the error
      is logged. A batch over the server's size limit (413) is split in halves until it fits; a
      single row over the limit is dropped.
    - **Transient failures are retried** for `retry_for` seconds (5 minutes), with exponential
      backoff and jitter from `backoff` (0.5 s) doubling up to `max_backoff` (30 s), and after
      the server's ``Retry-After`` on 429 and 503: refused connections, 429, any 5xx, timeouts and
      dropped connections. A restart of the platform is ridden out. After the last retry the batch
      is dropped and counted as failed (without a spool).
    - **Retries never store a batch twice.** Some failures are ambiguous: after a timeout, a reset
      connection, a 500, 502 or 504, the server may have stored the batch and lost only the
      answer. Each batch carries an ``Idempotency-Key`` (a UUID made when the batch is formed,
      the same on every retry), and the collector answers a key it has stored with the batch it
      stored (200) instead of storing it again. So the client can retry every transient failure
      without losing or duplicating rows.

    Parameters
    ----------
    collector_id
        The collector's id (a UUID, shown on its page).
    url
        The platform's address; default: the environment variable ``MLP_URL``.
    token
        An ingest token of the collector's project (or a write token); default: the environment
        variable ``MLP_TOKEN``.
    batch_size
        The most rows (or labels) per request, at most 100,000.
    max_queue
        The most rows waiting to be sent; beyond it rows are dropped. The same bound applies to
        labels, on their own queue.
    flush_interval
        Seconds a batch waits to fill before it is sent anyway: how stale the platform's view of
        the service may get at low traffic.
    timeout
        Seconds to wait for each answer.
    retry_for
        Seconds during which a batch's transient failures are retried (without a spool).
    retries
        The most retries of one batch; None (the default) for as many as `retry_for` allows.
    backoff
        The first retry's delay in seconds; it doubles on each retry, with jitter, up to
        `max_backoff`.
    max_backoff
        The longest wait between two attempts, unless the server's ``Retry-After`` asks longer.
    spool_dir
        A directory for the on-disk spool (made if missing), or None for none. One process at a
        time: a directory another process holds raises `ValueError`.
    spool_max_bytes
        The most the spool holds on disk, rows and labels together (256 MiB).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from metrics import CollectorClient
    >>> client = CollectorClient("0b9c7d3e-5f1a-4c2b-8d6e-7f8091a2b3c4")  # MLP_URL, MLP_TOKEN
    >>> row = {"prediction_id": "a1", "timestamp": datetime.now(UTC), "age": 42, "score": 0.91}
    >>> client.send(row)  # returns at once; a background thread posts the batch
    True
    >>> client.send_labels({"a1": 1})  # the truth, once it is known
    >>> client.flush(timeout=10)
    True
    >>> client.stats["sent"], client.stats["dropped"]
    (1, 0)
    >>> client.close()
    True
    """

    def __init__(
        self,
        collector_id: str,
        *,
        url: str | None = None,
        token: str | None = None,
        batch_size: int = 1000,
        max_queue: int = 100_000,
        flush_interval: float = 5.0,
        timeout: float = 30,
        retry_for: float = RETRY_FOR_SECONDS,
        retries: int | None = None,
        backoff: float = FIRST_DELAY_SECONDS,
        max_backoff: float = MAX_DELAY_SECONDS,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = DEFAULT_SPOOL_BYTES,
    ) -> None:
        try:
            self.collector_id = str(uuid.UUID(str(collector_id)))
        except ValueError:
            raise ValueError(
                f"collector_id={collector_id!r} is not a collector's id: ids are UUIDs, "
                "shown on the collector's page."
            ) from None
        if isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(
                f"batch_size={batch_size!r}: expected 1 to {MAX_BATCH_SIZE:,} rows per request."
            )
        if isinstance(max_queue, bool) or max_queue < 1:
            raise ValueError(f"max_queue={max_queue!r}: expected at least 1.")
        for name, value in (("flush_interval", flush_interval), ("timeout", timeout)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r}: expected a positive number of seconds.")
        if retries is not None and (isinstance(retries, bool) or retries < 0):
            raise ValueError(f"retries={retries!r}: expected 0 or more, or None.")
        if not (math.isfinite(backoff) and backoff >= 0):
            raise ValueError(f"backoff={backoff!r}: expected 0 or more seconds.")
        if isinstance(spool_max_bytes, bool) or not (
            isinstance(spool_max_bytes, int) and spool_max_bytes >= 1
        ):
            raise ValueError(f"spool_max_bytes={spool_max_bytes!r}: expected 1 or more bytes.")
        policy = Backoff(first=backoff, cap=max_backoff, retry_for=retry_for, retries=retries)
        # Missing or malformed URL and token fail here, with the variable to set.
        self._workspace = RemoteWorkspace(
            url,
            token,
            timeout=timeout,
            retry_for=retry_for,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
        )
        # A spooled batch waits on disk, not in memory: it is retried until it goes.
        self._spool_backoff = Backoff(first=backoff, cap=max_backoff, retry_for=math.inf)
        self._backoff = policy
        self.url = self._workspace.url
        self.batch_size = int(batch_size)
        self.max_queue = int(max_queue)
        self.flush_interval = float(flush_interval)

        base = f"/collectors/{self.collector_id}"
        self._rows = _Lane("rows", f"{base}/data")
        self._labels = _Lane("labels", f"{base}/labels")
        self._lanes = (self._rows, self._labels)
        # One condition over both queues (rather than two queue.Queue): the one sending thread
        # waits on both at once, and flush and close can wake it.
        self._cond = threading.Condition()
        self._flushes = 0  # flush calls waiting: send partial batches now
        self._closing = False
        self._last_error: str | None = None
        self._thread: threading.Thread | None = None
        self._exit_hook: functools.partial[None] | None = None
        self._turn = 0  # which lane's spool goes next, so labels are not starved by rows

        self.spool_dir = None if spool_dir is None else Path(spool_dir)
        self.spool_max_bytes = int(spool_max_bytes)
        self._spool_lock: IO[str] | None = None
        self._spool_pid = os.getpid()
        if self.spool_dir is not None:
            self._spool_lock = lock_directory(self.spool_dir)
            for lane in self._lanes:
                lane.spool = Spool(self.spool_dir / lane.noun)
                lane.queued += lane.spool.rows  # left by an earlier client: sent first
            if any(lane.spool for lane in self._lanes):
                with self._cond:
                    self._start_locked()

    def __repr__(self) -> str:
        return f"CollectorClient({self.collector_id!r}, url={self.url!r})"  # never the token

    def __enter__(self) -> CollectorClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ---- queueing -------------------------------------------------------------------------------

    def send(self, row: Mapping[str, Any]) -> bool:
        """Queue one row; True if queued, False if dropped (the queue is full, or the client is
        closed). Returns at once and never raises for the network.

        Values become JSON here: datetimes and dates ISO 8601 strings, NumPy scalars Python
        numbers, UUIDs and decimals strings and floats, NaN, NaT and ``pd.NA`` null. Anything JSON
        cannot carry raises here, in the caller, rather than failing a whole batch later:
        `TypeError` for nested or unknown values and non-string keys, `ValueError` for
        infinities.
        """
        return self._enqueue(self._rows, [_json_row(row)]) == 1

    def send_many(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Queue rows; the number queued (the rest were dropped: the queue is full). Every row is
        checked before any is queued, so a bad one raises and queues none."""
        return self._enqueue(self._rows, [_json_row(row) for row in rows])

    def send_labels(self, labels: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Queue targets that arrived after the predictions: ``{prediction_id: target}`` or
        ``(prediction_id, target)`` pairs; sent in batches to the collector's labels endpoint. A
        target is a number, a string or a boolean (`ValueError` for a missing one)."""
        pairs = labels.items() if isinstance(labels, Mapping) else labels
        batch = []
        for prediction_id, target in pairs:
            where = f"the label of {prediction_id!r}"
            if prediction_id is None:
                raise ValueError("A label needs the prediction_id its row was sent with, not None.")
            value = _json_value(target, where)
            if value is None:
                raise ValueError(f"{where} has no target: send a label once the target is known.")
            batch.append({"prediction_id": _json_value(prediction_id, where), "target": value})
        self._enqueue(self._labels, batch)

    def _enqueue(self, lane: _Lane, items: list[dict[str, Any]]) -> int:
        warning = None
        with self._cond:
            self._forget_the_parent_locked()
            room = 0 if self._closing else max(0, self.max_queue - len(lane.items))
            if len(items) > room and lane.spool is not None and not self._closing:
                kept = self._spool_locked(lane, items)
                spooled = len(items) - len(kept)
                lane.queued += spooled
                items_dropped = len(kept) - self._extend_locked(lane, kept)
                accepted = len(items) - items_dropped
            else:
                accepted = self._extend_locked(lane, items[:room])
            if accepted:
                self._start_locked()
            if accepted < len(items):
                warning = self._note_drops_locked(lane, len(items) - accepted)
        if warning:
            logger.warning(warning)
        return accepted

    def _extend_locked(self, lane: _Lane, items: list[dict[str, Any]]) -> int:
        """Put what fits of `items` on the lane's queue; the number put."""
        accepted = items[: max(0, self.max_queue - len(lane.items))]
        if accepted:
            was_empty = not lane.items
            if was_empty:
                lane.since = time.monotonic()
            lane.items.extend(accepted)
            lane.queued += len(accepted)
            # Wake the thread only when there is something new for it to decide.
            if was_empty or len(lane.items) >= self.batch_size:
                self._cond.notify_all()
        return len(accepted)

    def _spool_room_locked(self) -> int:
        used = sum(lane.spool.bytes for lane in self._lanes if lane.spool is not None)
        return max(0, self.spool_max_bytes - used)

    def _spool_locked(
        self, lane: _Lane, new: list[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """Move the lane's queue, then `new`, to the end of its spool, as much as fits (oldest
        first, so the spool stays older than the queue); the new items that did not fit."""
        assert lane.spool is not None
        new = new or []
        waiting = list(lane.items) + new
        if not waiting:
            return []
        written = lane.spool.append(
            waiting, per_segment=self.batch_size, room=self._spool_room_locked()
        )
        if written:
            self._cond.notify_all()
        left = waiting[written:]
        old_left = max(0, len(lane.items) - written)
        lane.items = deque(left[:old_left])
        if lane.items and written:
            lane.since = time.monotonic()
        return left[old_left:]

    def _spool_queues(self) -> None:
        """While the platform does not answer, what waits in memory moves to disk."""
        with self._cond:
            for lane in self._lanes:
                if lane.spool is not None and lane.items:
                    self._spool_locked(lane)

    def _note_drops_locked(self, lane: _Lane, count: int) -> str | None:
        lane.dropped += count
        lane.unreported_drops += count
        now = time.monotonic()
        if now - lane.warned_at < DROP_WARNING_EVERY_SECONDS:
            return None
        lane.warned_at, count, lane.unreported_drops = now, lane.unreported_drops, 0
        if self._closing:
            return f"{self!r} is closed: dropped {count:,} {lane.noun}."
        full = f"{self.max_queue:,} are waiting in memory, the most it holds"
        if lane.spool is not None:
            full += f", and the spool holds {self.spool_max_bytes:,} bytes, its most"
        return (
            f"{self!r}: dropped {count:,} {lane.noun} since the last warning: {full}. The "
            f"platform is unreachable or slower than the service (stats: {self._stats_locked()})."
        )

    def _forget_the_parent_locked(self) -> None:
        """In a process forked after the client was made: the queue it inherited and the spool
        directory it shares are the parent's to send (two senders would send rows twice), so
        the child forgets them and does without a spool."""
        if self._spool_pid == os.getpid():
            return
        if any(lane.spool is not None for lane in self._lanes):
            logger.warning(
                "%r: not using the spool in a forked process; make the client there.", self
            )
        for lane in self._lanes:
            lane.done = lane.queued  # queued, in flight or spooled: no flush here waits on it
            lane.items.clear()
            lane.spool = None
        self._spool_pid = os.getpid()

    def _start_locked(self) -> None:
        # is_alive also restarts the thread in a process forked after the first send.
        if self._thread is not None and self._thread.is_alive():
            return
        self._forget_the_parent_locked()
        self._thread = threading.Thread(
            target=self._run, name=f"CollectorClient-{self.collector_id[:8]}", daemon=True
        )
        self._thread.start()
        if self._exit_hook is None:
            self._exit_hook = functools.partial(_close_at_exit, weakref.ref(self))
            atexit.register(self._exit_hook)

    # ---- flushing and closing -------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        """Counts since the client was made: ``sent`` rows the platform accepted in ``batches``
        requests, ``failed`` rows dropped after a refusal or the last retry, ``dropped`` rows
        never queued (the queue and the spool were full, or the client closed), ``queued`` rows
        waiting in memory now, ``spooled`` rows waiting on disk now; the same for labels
        (``labels_sent``, ``labels_failed``, ``labels_dropped``, ``labels_spooled``),
        ``spool_bytes``, the spool's size, and ``last_error``, the latest failure's message (None
        if none)."""
        with self._cond:
            return self._stats_locked()

    def _stats_locked(self) -> dict[str, Any]:
        rows, labels = self._rows, self._labels
        return {
            "sent": rows.sent,
            "batches": rows.batches,
            "failed": rows.failed,
            "dropped": rows.dropped,
            "queued": len(rows.items),
            "spooled": rows.spool.rows if rows.spool is not None else 0,
            "labels_sent": labels.sent,
            "labels_failed": labels.failed,
            "labels_dropped": labels.dropped,
            "labels_spooled": labels.spool.rows if labels.spool is not None else 0,
            "spool_bytes": sum(lane.spool.bytes for lane in self._lanes if lane.spool is not None),
            "last_error": self._last_error,
        }

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now without waiting for batches to fill, and wait until all of it
        is sent or has failed (see `stats`); False if `timeout` seconds passed first."""
        with self._cond:
            self._forget_the_parent_locked()
            targets = [(lane, lane.queued) for lane in self._lanes]

            def finished() -> bool:
                return all(lane.done >= target for lane, target in targets)

            if finished():
                return True
            if not self._closing:
                self._start_locked()
            elif self._thread is None or not self._thread.is_alive():
                return False
            self._flushes += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(finished, None if timeout is None else max(0, timeout))
            finally:
                self._flushes -= 1

    def close(self, timeout: float | None = 30.0) -> bool:
        """Stop taking rows, send what is queued and stop the thread; True if everything queued
        was sent or has failed within `timeout` seconds. What is still queued after that is left
        to the thread, which ends with the process; with a spool it is written to disk first,
        for the next client of the directory. Closing twice is harmless."""
        deadline = None if timeout is None else time.monotonic() + max(0, timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        finished = self.flush(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(None if deadline is None else max(0.1, deadline - time.monotonic()))
        if self._exit_hook is not None:
            atexit.unregister(self._exit_hook)
        if finished and self._spool_lock is not None:
            # Everything went: the directory is free for another client.
            self._spool_lock.close()
            self._spool_lock = None
        if not finished:
            with self._cond:
                for lane in self._lanes:
                    if lane.spool is not None and lane.items:
                        self._spool_locked(lane)
                rows, labels = (lane.queued - lane.done for lane in self._lanes)
                where = f" (kept in {self.spool_dir} for the next client)" if self.spool_dir else ""
                stats = self._stats_locked()
            logger.warning(
                "%r closed with %d rows and %d labels not yet delivered after %s s%s; stats: %s",
                self,
                rows,
                labels,
                timeout,
                where,
                stats,
            )
        return finished

    # ---- the sending thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                taken = self._take_locked()
            if taken is None:
                return
            self._deliver(*taken)

    def _take_locked(self) -> tuple[_Lane, Segment | None, list[dict[str, Any]], str] | None:
        """The next batch to send, waiting until one is due; None once closed and empty. A batch
        is its lane, its segment in the spool (None when it is only in memory), its items and
        its Idempotency-Key."""
        while True:
            spooled = [lane for lane in self._lanes if lane.spool]
            if spooled:
                # The spool is older than the queues: it goes first, lanes in turn.
                self._turn += 1
                lane = spooled[self._turn % len(spooled)]
                assert lane.spool is not None
                segment = lane.spool.head()
                assert segment is not None
                return lane, segment, [], segment.key
            now = time.monotonic()
            hurry = self._closing or self._flushes > 0
            due = [
                lane
                for lane in self._lanes
                if lane.items
                and (
                    hurry
                    or len(lane.items) >= self.batch_size
                    or now >= lane.since + self.flush_interval
                )
            ]
            if due:
                lane = min(due, key=lambda lane: lane.since)  # the one waiting longest
                size = min(self.batch_size, len(lane.items))
                batch = [lane.items.popleft() for _ in range(size)]
                lane.since = now  # what is left waits at most one more interval
                # One key per batch, the same on every retry of it (see the class docstring).
                key = str(uuid.uuid4())
                if lane.spool is not None:
                    # On disk before it is sent: a process killed mid-retry loses nothing.
                    segment = lane.spool.add_batch(batch, key=key, room=self._spool_room_locked())
                    if segment is not None:
                        return lane, segment, [], key
                return lane, None, batch, key
            if self._closing:
                return None
            waits = [lane.since + self.flush_interval - now for lane in self._lanes if lane.items]
            self._cond.wait(min(waits) if waits else None)

    def _deliver(
        self, lane: _Lane, segment: Segment | None, batch: list[dict[str, Any]], key: str
    ) -> None:
        if segment is not None:
            assert lane.spool is not None
            batch = lane.spool.read(segment)  # only this thread removes segments: no lock
            backoff = self._spool_backoff
        else:
            backoff = self._backoff
        sent = batches = failed = 0
        error = None
        # A part's key is derived from the batch's, so a batch split after a 413 and sent again
        # from the spool after a restart has the same keys as the first time.
        parts = [(batch, key)]
        while parts:
            part, part_key = parts.pop()
            try:
                self._workspace._request(
                    "POST",
                    lane.path,
                    json_body=part,
                    headers={"Idempotency-Key": part_key},
                    backoff=backoff,
                    on_retry=self._spool_queues if self.spool_dir is not None else None,
                )
            except RemoteError as exc:
                if exc.status == 413 and len(part) > 1:
                    # Over the server's body limit: nothing was stored, so send it in halves.
                    half = len(part) // 2
                    parts += [(part[half:], f"{part_key}.1"), (part[:half], f"{part_key}.0")]
                    continue
                failed += len(part)
                error = str(exc)
                logger.error("%r: dropped %d %s: %s", self, len(part), lane.noun, exc)
            except Exception as exc:  # a bug here must not stop the thread: later rows still go
                failed += len(part)
                error = f"{type(exc).__name__}: {exc}"
                logger.exception("%r: dropped %d %s", self, len(part), lane.noun)
            else:
                sent += len(part)
                batches += 1
        with self._cond:
            if segment is not None:
                assert lane.spool is not None
                lane.spool.remove(segment)
            lane.sent += sent
            lane.batches += batches
            lane.failed += failed
            lane.done += len(batch)
            if error is not None:
                self._last_error = error
            self._cond.notify_all()


def _close_at_exit(client: weakref.ref[CollectorClient]) -> None:
    found = client()
    if found is not None:
        found.close(timeout=EXIT_TIMEOUT_SECONDS)


# ---- values -------------------------------------------------------------------------------------


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise TypeError(f"A row is a mapping of column names to values, not {type(row).__name__}.")
    converted = {}
    for key, value in row.items():
        if not isinstance(key, str):
            raise TypeError(f"Column names are strings; got {key!r} ({type(key).__name__}).")
        converted[key] = _json_value(value, f"column {key!r}")
    return converted


def _json_value(value: Any, where: str) -> Any:
    """The value as JSON carries it: a string, a number, a boolean or None."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError(
                f"{where} is {value}: JSON has no infinity; send None for a missing value."
            )
        return float(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(np.datetime_as_string(value))
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return _json_value(value.item(), where)
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (datetime, date, time_of_day)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return _json_value(float(value), where)
    if isinstance(value, (Mapping, list, tuple, set, np.ndarray)):
        raise TypeError(
            f"{where} holds a {type(value).__name__}: the collector takes one number, string or "
            "boolean per column; give each part its own column."
        )
    raise TypeError(
        f"{where} is a {type(value).__name__}, which JSON cannot carry: send a number, a string, "
        "a boolean, a date or None."
    )
