"""The snapshot: a versioned JSON document of one run's aggregates and test results.

No raw rows: only counts, statistics, drift scores, bounded histograms and test outcomes. The
format is documented in docs/snapshot-format.md; its JSON Schema ships with the package
(metrics/schemas/snapshot.schema.json, read by `snapshot_schema()`) and the platform validates
uploads against it.
"""

from __future__ import annotations

import importlib.resources
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
STATUSES = ("SUCCESS", "FAIL", "WARNING", "ERROR", "SKIPPED")
# The metadata key naming the batch of data a snapshot is about, and its longest value (the
# schema says the same: metadata.batch_id is a string of 1 to 200 characters).
BATCH_ID_KEY = "batch_id"
BATCH_ID_MAX_LENGTH = 200
# The JSON Schema of the document, package data of `metrics` (so it ships in the wheel).
SCHEMA_FILE = ("schemas", "snapshot.schema.json")


def snapshot_schema() -> dict[str, Any]:
    """The snapshot's JSON Schema (draft 2020-12), read from the installed package: the contract
    the platform validates uploads against. A new dict each call; the caller may keep it."""
    resource = importlib.resources.files("metrics").joinpath(*SCHEMA_FILE)
    return json.loads(resource.read_text(encoding="utf-8"))


class SnapshotError(ValueError):
    """A document is not a valid snapshot; the message names the field."""


@dataclass
class Snapshot:
    id: str
    timestamp: datetime
    metrics: list[dict[str, Any]]
    tests: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    library: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    @property
    def batch_id(self) -> str | None:
        """The batch of data this snapshot is about (``metadata["batch_id"]``), if named."""
        value = self.metadata.get(BATCH_ID_KEY)
        return value if isinstance(value, str) else None

    def with_batch_id(self, batch_id: str) -> Snapshot:
        """A copy of this snapshot naming its batch (same id and content otherwise)."""
        return replace(self, metadata=with_batch_id(self.metadata, batch_id))

    @property
    def test_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for test in self.tests:
            counts[test["status"]] = counts.get(test["status"], 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "id": self.id,
            "timestamp": self.timestamp.isoformat(),
            "name": self.name,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "data": self.data,
            "metrics": self.metrics,
            "tests": self.tests,
            "test_counts": self.test_counts,
            "library": self.library,
        }

    def json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(self.json(indent=1), encoding="utf-8")
        temporary.replace(path)  # atomic: readers never see half a file
        return path

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{path} is not JSON: {exc}") from None
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Snapshot:
        """Read a snapshot, checking the fields this library relies on (the platform validates the
        whole document against the JSON Schema)."""
        if not isinstance(document, Mapping):
            raise SnapshotError("A snapshot is a JSON object.")
        version = document.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SnapshotError(f"schema_version: expected {SCHEMA_VERSION}, got {version!r}.")
        try:
            snapshot_id = str(uuid.UUID(str(document.get("id"))))
        except ValueError:
            raise SnapshotError(f"id: {document.get('id')!r} is not a UUID.") from None
        timestamp = parse_timestamp(document.get("timestamp"), "timestamp")
        metrics = document.get("metrics")
        if not isinstance(metrics, list):
            raise SnapshotError("metrics: expected a list.")
        tests = document.get("tests", [])
        if not isinstance(tests, list):
            raise SnapshotError("tests: expected a list.")
        for index, test in enumerate(tests):
            if not isinstance(test, Mapping) or test.get("status") not in STATUSES:
                raise SnapshotError(f"tests.{index}.status: expected one of {', '.join(STATUSES)}.")
        return cls(
            id=snapshot_id,
            timestamp=timestamp,
            metrics=list(metrics),
            tests=list(tests),
            name=document.get("name"),
            tags=list(document.get("tags") or []),
            metadata=dict(document.get("metadata") or {}),
            data=dict(document.get("data") or {}),
            library=dict(document.get("library") or {}),
        )

    def metric(self, metric_id: str) -> dict[str, Any]:
        for metric in self.metrics:
            if metric["id"] == metric_id:
                return metric
        raise KeyError(f"No metric {metric_id!r} in snapshot {self.id}.")


def check_batch_id(value: Any, where: str = "batch_id") -> str:
    """A batch id as the platform accepts it: a non-empty string of at most BATCH_ID_MAX_LENGTH
    characters (no NUL). Raises `SnapshotError` naming `where` otherwise."""
    if not isinstance(value, str):
        raise SnapshotError(f"{where}: a batch id is a string, not {type(value).__name__}.")
    if not value or len(value) > BATCH_ID_MAX_LENGTH:
        raise SnapshotError(
            f"{where}: a batch id has 1 to {BATCH_ID_MAX_LENGTH} characters, not {len(value)}."
        )
    if "\x00" in value:
        raise SnapshotError(f"{where}: a batch id cannot hold a NUL character.")
    return value


def with_batch_id(metadata: Mapping[str, Any], batch_id: str) -> dict[str, Any]:
    """The metadata with its batch id set (checked); a different batch id already there is an
    error rather than silently replaced."""
    check_batch_id(batch_id)
    found = metadata.get(BATCH_ID_KEY)
    if found is not None and found != batch_id:
        raise SnapshotError(
            f"batch_id: {batch_id!r} given, but the metadata already names batch {found!r}."
        )
    return {**metadata, BATCH_ID_KEY: batch_id}


def parse_timestamp(value: Any, where: str) -> datetime:
    """An aware datetime from a datetime or an ISO 8601 string; naive ones are taken as UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise SnapshotError(f"{where}: {value!r} is not an ISO 8601 date and time.") from None
    else:
        raise SnapshotError(f"{where}: expected an ISO 8601 date and time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
