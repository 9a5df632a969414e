"""Snapshot ingestion: parse strictly, validate against the JSON Schema, store the snapshot with its
points and test outcomes in one transaction, and announce it after commit.

The REST API and the collector both store snapshots through `ingest_snapshot`. Nothing is stored
from a document that fails any check. The snapshot's client-generated id makes a retry idempotent:
the same id with the same document returns the stored snapshot; with another document, a
`SnapshotConflict`. After commit the snapshot is announced (`signals.snapshot_stored`): the tasks
module queues its processing (alerts, live updates) in a worker; if the broker is unreachable the
snapshot is still stored and the sweeper processes it later.
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs
import numpy as np
import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from metrics.core.snapshot import BATCH_ID_KEY, snapshot_schema
from mlplatform import request_bodies
from projects import pgbinary
from projects.models import (
    MetricPoint,
    MetricSeries,
    Project,
    Snapshot,
    SnapshotDocument,
    SnapshotStatus,
    SnapshotTag,
    TestOutcome,
)
from projects.signals import snapshot_stored

logger = logging.getLogger(__name__)


class SnapshotRejected(Exception):
    """The document is not a valid snapshot: `fields` maps each offending field path to messages."""

    def __init__(
        self, message: str, fields: dict[str, list[str]] | None = None, *, status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status  # 400, or 413 for a body past the limit once decompressed


class SnapshotConflict(Exception):
    """A snapshot with this id exists in the project with a different document."""


@dataclass
class Ingested:
    snapshot: Snapshot
    created: bool
    tags: list[str]


@cache
def _schema() -> dict[str, Any]:
    return snapshot_schema()


@cache
def _fast_validator() -> Any:
    # A compiled validator (Rust): about 25 times faster than fastjsonschema on a 50-metric
    # snapshot, which matters at hundreds of snapshots a second. It only answers "valid or
    # not"; the field paths of a rejection come from `validation_errors`. The timestamp's format
    # is checked by `parse_timestamp`, identically for both.
    return jsonschema_rs.validator_for(_schema(), validate_formats=False)


def parse_timestamp(value: str) -> datetime:
    """The snapshot's time in UTC (the schema's pattern guarantees an offset or Z)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise SnapshotRejected(
            f"timestamp: {value[:40]!r} is not a valid date and time.",
            {"timestamp": ["Not a valid date and time (ISO 8601 with an offset or Z)."]},
        ) from None


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "(document)"


def validation_errors(document: Any) -> dict[str, list[str]]:
    """Every schema violation by field path (the slow, thorough validator, for error reports)."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors: dict[str, list[str]] = {}
    for error in sorted(
        validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
    )[:50]:
        # The most specific cause ("metrics.3.values.current.mean: 'x' is not of type ..."), not
        # "{...} is not valid under any of the given schemas" about a whole object.
        cause = jsonschema.exceptions.best_match([error])
        errors.setdefault(_path(cause.absolute_path), []).append(_message(cause))
    return errors


def _message(error: jsonschema.exceptions.ValidationError) -> str:
    if len(error.message) <= 200:
        return error.message
    rule = json.dumps(error.validator_value, default=str)[:80]
    return f"Does not match the schema ({error.validator}: {rule})."


def decode_body(
    raw: bytes | bytearray | request_bodies.Readable, content_encoding: str | None, limit: int
) -> bytes | bytearray:
    """The request body, gunzipped when sent with Content-Encoding: gzip (`request_bodies`); `raw`
    is the bytes, or a stream to read them from (the request: then a gzip body is decompressed
    as it is read)."""
    try:
        if isinstance(raw, (bytes, bytearray)):
            return request_bodies.decode_body(raw, content_encoding, limit)
        return request_bodies.read_body(raw, content_encoding, limit)
    except request_bodies.BodyRejected as exc:
        fields = {"body": [exc.message]} if exc.status == 413 else None
        raise SnapshotRejected(exc.message, fields, status=exc.status) from None


def check_text(document: dict[str, Any], may_hold_nul: bool) -> None:
    """Refuse a document with a NUL in any string or key: PostgreSQL's text and jsonb cannot hold
    one (name, tags, metadata, metric and test ids all land there). `may_hold_nul` is
    `request_bodies.may_hold_nul` of the canonical document, so most documents are cleared by
    byte searches."""
    if not may_hold_nul:
        return
    paths = [_path(p) for p in itertools.islice(request_bodies.nul_paths(document), 50)]
    if paths:
        fields = {path: [request_bodies.NUL_MESSAGE] for path in dict.fromkeys(paths)}
        raise SnapshotRejected(f"{paths[0]}: {request_bodies.NUL_MESSAGE}", fields)


def parse(raw: bytes | bytearray) -> dict[str, Any]:
    """Strict JSON (orjson): no NaN or Infinity, no number out of the float range, UTF-8 only,
    nesting at most 1,024 deep, nothing after the document."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        hint = (
            " (send null for a missing or infinite number)"
            if b"NaN" in raw or b"Infinity" in raw
            else ""
        )
        raise SnapshotRejected(f"The body is not valid JSON: {exc}{hint}") from None
    if not isinstance(document, dict):
        raise SnapshotRejected(
            "A snapshot is a JSON object.", {"(document)": ["Expected an object."]}
        )
    return document


# A list longer than this (metrics, tests) is written in batches of this many items.
_BATCH = 64


def canonical_pieces(document: dict[str, Any]) -> Iterator[bytes]:
    """`orjson.dumps(document, option=OPT_SORT_KEYS)` in pieces whose concatenation is exactly it:
    a big document's long lists are written a batch of items at a time, so the whole text is
    never held at once. Each batch is written at its own depth in the document (inside an object
    and a list), so orjson's nesting limit applies exactly as to the whole document."""
    option = orjson.OPT_SORT_KEYS
    if not any(isinstance(v, list) and len(v) > _BATCH for v in document.values()):
        yield orjson.dumps(document, option=option)
        return
    # Keys sort as orjson sorts them: Python compares code points, which is UTF-8 byte order.
    for index, key in enumerate(sorted(document)):
        value = document[key]
        yield b"{" if index == 0 else b","
        if not (isinstance(value, list) and len(value) > _BATCH):
            yield orjson.dumps({key: value}, option=option)[1:-1]
            continue
        yield orjson.dumps(key) + b":["
        for start in range(0, len(value), _BATCH):
            batch = orjson.dumps({"": value[start : start + _BATCH]}, option=option)
            yield (b"," if start else b"") + batch[5:-2]  # without {"":[ and ]}
        yield b"]"
    yield b"}"


@dataclass
class Canonical:
    """The canonical text of a document, digested and compressed piece by piece (never whole)."""

    digest: str
    packed: bytearray  # SnapshotDocument's body
    may_hold_nul: bool


def canonical(document: dict[str, Any]) -> Canonical:
    digest = hashlib.sha256()
    packer = SnapshotDocument.packer()
    packed = bytearray()
    may_hold_nul = False
    try:
        for piece in canonical_pieces(document):
            digest.update(piece)
            packed += packer.compress(piece)
            may_hold_nul = may_hold_nul or request_bodies.may_hold_nul(piece)
    except orjson.JSONEncodeError:  # deeper than orjson writes (254 levels)
        raise SnapshotRejected("The document is nested too deeply.") from None
    packed += packer.flush()
    return Canonical(digest.hexdigest(), packed, may_hold_nul)


def validate(document: dict[str, Any]) -> datetime:
    """Check the document against the schema; its timestamp, parsed."""
    if not _fast_validator().is_valid(document):
        try:
            fields = validation_errors(document)
        except RecursionError:
            raise SnapshotRejected("The document is nested too deeply.") from None
        fields = fields or {"(document)": ["Does not match the snapshot schema."]}
        first_path, messages = next(iter(fields.items()))
        raise SnapshotRejected(f"{first_path}: {messages[0]}", fields)
    return parse_timestamp(document["timestamp"])


def points_of(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str, float]]:
    """(metric id, metric type, params, field path, value) for every number of every metric."""
    for metric in document["metrics"]:
        yield from _walk(metric["id"], metric["type"], metric["params"], metric["values"], "")


def _walk(
    metric_id: str, metric_type: str, params: dict[str, Any], values: dict[str, Any], prefix: str
) -> Iterator[tuple[str, str, dict[str, Any], str, float]]:
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _walk(metric_id, metric_type, params, value, path)
        elif isinstance(value, (bool, int, float)):
            yield metric_id, metric_type, params, path, float(value)


def _status(counts: dict[str, int]) -> str:
    for status in (
        SnapshotStatus.FAIL,
        SnapshotStatus.ERROR,
        SnapshotStatus.WARNING,
        SnapshotStatus.SUCCESS,
    ):
        if counts.get(str(status), 0):
            return str(status)
    return str(SnapshotStatus.NO_TESTS)


def ingest_snapshot(
    project: Project,
    raw: bytes | bytearray | request_bodies.Readable,
    *,
    content_encoding: str | None = None,
) -> Ingested:
    """Validate and store one snapshot document: bytes as received, or a stream to read them from
    (the request itself, so that the body is held only while it is parsed). Raises
    `SnapshotRejected` (nothing stored) or `SnapshotConflict`."""
    found, size = _ingest(project, raw, content_encoding)
    if size >= RELEASE_AFTER_BYTES:
        release_memory()  # the document's objects are gone with _ingest's frame
    return found


def _ingest(
    project: Project,
    raw: bytes | bytearray | request_bodies.Readable,
    content_encoding: str | None,
) -> tuple[Ingested, int]:
    body = decode_body(raw, content_encoding, settings.SNAPSHOT_MAX_BYTES)
    size = len(body)
    document = parse(body)
    del body  # the document is rebuilt from its objects: the text is not kept
    timestamp = validate(document)
    text = canonical(document)
    check_text(document, text.may_hold_nul)
    snapshot_id = uuid.UUID(document["id"])
    tags = sorted(set(document.get("tags") or []))
    try:
        # Insert first: a retry (rare) fails on the unique id and is answered below, so the
        # usual case costs no lookup.
        with transaction.atomic():
            snapshot, new_series = _store(
                project, snapshot_id, timestamp, document, text.packed, text.digest, size, tags
            )
            transaction.on_commit(lambda: _series_cache.update(new_series))
            transaction.on_commit(
                lambda: snapshot_stored.send(sender=Snapshot, snapshot_pk=snapshot.pk)
            )
    except IntegrityError:
        existing = Snapshot.objects.filter(project=project, uuid=snapshot_id).first()
        if existing is None:
            raise  # another integrity problem: a bug, not a retry
        if existing.body_sha256 != text.digest:
            raise SnapshotConflict(
                f"Snapshot {snapshot_id} already exists in this project with a different body. "
                "Snapshot ids are unique: give a new snapshot a new id."
            ) from None
        return Ingested(existing, created=False, tags=tags), size
    return Ingested(snapshot, created=True, tags=tags), size


# After a body this big, free memory goes back to the operating system (`release_memory`).
RELEASE_AFTER_BYTES = 2 * 1024 * 1024


def release_memory() -> None:
    """Hand the pages freed inside glibc's malloc arenas back to the operating system: without
    it, a worker that parsed a big snapshot keeps most of that memory for good (objects freed in
    the middle of an arena's heap are reused, never returned). No-op elsewhere than glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def _store(
    project: Project,
    snapshot_id: uuid.UUID,
    timestamp: datetime,
    document: dict[str, Any],
    packed: bytes | bytearray,
    digest: str,
    size: int,
    tags: list[str],
) -> tuple[Snapshot, dict[tuple[Any, str, str], int]]:
    tests = document.get("tests") or []
    counts: dict[str, int] = {}
    for test in tests:
        counts[test["status"]] = counts.get(test["status"], 0) + 1
    points = list(points_of(document))
    snapshot = Snapshot.objects.create(
        project=project,
        uuid=snapshot_id,
        timestamp=timestamp,
        name=document.get("name") or "",
        metadata=document.get("metadata") or {},
        batch_id=(document.get("metadata") or {}).get(BATCH_ID_KEY),
        status=_status(counts),
        tests_success=counts.get("SUCCESS", 0),
        tests_fail=counts.get("FAIL", 0),
        tests_warning=counts.get("WARNING", 0),
        tests_error=counts.get("ERROR", 0),
        tests_skipped=counts.get("SKIPPED", 0),
        metric_count=len(document["metrics"]),
        point_count=len(points),
        size_bytes=size,
        body_sha256=digest,
    )
    _store_document(snapshot.pk, packed)
    if tags:
        SnapshotTag.objects.bulk_create(
            [SnapshotTag(snapshot=snapshot, project=project, tag=t) for t in tags]
        )
    series, new_series = _series_ids(project, points)
    _insert_points(snapshot.pk, timestamp, [(series[(p[0], p[3])], p[4]) for p in points])
    outcomes = [
        (
            snapshot.pk,
            project.pk,
            timestamp,
            test["id"][:2000],
            test["type"][:100],
            test["name"][:500],
            test["status"],
            bool(test["critical"]),
            test["description"][:2000],
            _number(test.get("value")),
        )
        for test in tests
    ]
    _insert(
        TestOutcome,
        (
            "snapshot_id",
            "project_id",
            "timestamp",
            "test_id",
            "test_type",
            "name",
            "status",
            "critical",
            "description",
            "value",
        ),
        outcomes,
    )
    return snapshot, new_series


def _store_document(snapshot_pk: int, packed: bytes | bytearray) -> None:
    """SnapshotDocument's row. On PostgreSQL with binary COPY: as an INSERT parameter the body
    would be quoted into the statement's text (Django binds client-side), at twice its size and
    several copies."""
    if connection.vendor != "postgresql":
        SnapshotDocument.objects.create(snapshot_id=snapshot_pk, body=bytes(packed))
        return
    table = SnapshotDocument._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} (snapshot_id, body) FROM STDIN (FORMAT binary)") as copy,
    ):
        for piece in pgbinary.copy_bytea_row(snapshot_pk, packed):
            copy.write(piece)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, (int, float)) else None


# (project id, metric id, field) -> series id, for series committed to the database. Series are
# never deleted but with their project (whose id is never reused), so an entry cannot go stale;
# entries are added after commit only, so a rolled-back series is never remembered.
_series_cache: dict[tuple[Any, str, str], int] = {}
_SERIES_CACHE_LIMIT = 200_000


def _series_ids(
    project: Project, points: list[tuple[str, str, dict[str, Any], str, float]]
) -> tuple[dict[tuple[str, str], int], dict[tuple[Any, str, str], int]]:
    """The series id of every (metric id, field) of the points, creating the new ones; and the
    ids read from the database, for the cache once the transaction commits."""
    wanted: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for metric_id, metric_type, params, field, _ in points:
        wanted.setdefault((metric_id, field), (metric_type, params))
    found: dict[tuple[str, str], int] = {}
    unknown = []
    for key in wanted:
        cached = _series_cache.get((project.pk, *key))
        if cached is None:
            unknown.append(key)
        else:
            found[key] = cached
    if not unknown:
        return found, {}
    from_database = _read_series(project, {key[0] for key in unknown})
    missing = [key for key in unknown if key not in from_database]
    if missing:
        MetricSeries.objects.bulk_create(
            [
                MetricSeries(
                    project=project,
                    metric_id=m,
                    field=f,
                    metric_type=wanted[(m, f)][0],
                    params=wanted[(m, f)][1],
                )
                for m, f in missing
            ],
            ignore_conflicts=True,  # created by a concurrent snapshot: read back below
        )
        from_database.update(_read_series(project, {m for m, _ in missing}))
    found.update({key: from_database[key] for key in unknown})
    if len(_series_cache) > _SERIES_CACHE_LIMIT:
        _series_cache.clear()
    return found, {(project.pk, *key): from_database[key] for key in unknown}


def _read_series(project: Project, metric_ids: set[str]) -> dict[tuple[str, str], int]:
    rows = MetricSeries.objects.filter(project=project, metric_id__in=sorted(metric_ids))
    return {(m, f): pk for pk, m, f in rows.values_list("id", "metric_id", "field")}


def _copy_text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_POINT_ROW = pgbinary.copy_row_dtype(
    ("series", ">i8"), ("snapshot", ">i8"), ("timestamp", ">i8"), ("value", ">f8")
)


def _insert_points(snapshot_pk: int, timestamp: datetime, points: list[tuple[int, float]]) -> None:
    """A snapshot's points: (series id, value) pairs, all of one snapshot and time."""
    if connection.vendor != "postgresql" or not points:
        rows = [(series, snapshot_pk, timestamp, value) for series, value in points]
        _insert(MetricPoint, ("series_id", "snapshot_id", "timestamp", "value"), rows)
        return
    # The hot path of ingestion (hundreds of rows per snapshot): the rows are laid out in
    # PostgreSQL's binary COPY format by NumPy, with no Python object per row, and PostgreSQL
    # does not parse a timestamp or a number per row either.
    rows = np.empty(len(points), dtype=_POINT_ROW)
    series, values = zip(*points, strict=True)
    rows["series"] = series
    rows["snapshot"] = snapshot_pk
    rows["timestamp"] = pgbinary.micros(timestamp)
    rows["value"] = values
    table = MetricPoint._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} (series_id, snapshot_id, timestamp, value) FROM STDIN (FORMAT binary)"
        ) as copy,
    ):
        copy.write(pgbinary.copy_data(rows))


def _insert[M: (MetricPoint, TestOutcome)](
    model: type[M], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert many rows: PostgreSQL's COPY when available (the fast path), else bulk_create."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                # One buffer in COPY's text format: much cheaper than a write_row call per row.
                copy.write("".join("\t".join(map(_copy_text, row)) + "\n" for row in rows))
        return
    model.objects.bulk_create(
        [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=500
    )
