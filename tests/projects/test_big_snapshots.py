"""Big snapshots: a document near SNAPSHOT_MAX_BYTES, plain or gzipped, is stored intact with all
its points (its text written and digested in pieces, never whole); a gzip body that unpacks past
the limit is a 413 naming the body; the pieces are exactly orjson's text of the whole document."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from typing import Any

import numpy as np
import orjson
import pytest

from projects import ingestion
from projects.models import MetricPoint, Snapshot, SnapshotDocument
from tests.projects.conftest import post_snapshot

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
VALUES_PER_METRIC = 24


def big_document(target_bytes: int, seed: int = 0, bins: int = 1000) -> dict[str, Any]:
    """A valid snapshot of about `target_bytes` of JSON: metrics of a wide dataset, each with 24
    values and a histogram of `bins` bins."""
    rng = np.random.default_rng(seed)
    metrics: list[dict[str, Any]] = []
    size = 400
    while size < target_bytes:
        column = f"col{len(metrics)}"
        stats = rng.normal(0, 1, VALUES_PER_METRIC).tolist()
        metric = {
            "id": f'ColumnSummary(column="{column}")',
            "type": "ColumnSummary",
            "params": {"column": column, "é": "ü"},
            "status": "ok",
            "values": {"current": {f"q{i}": v for i, v in enumerate(stats)}},
            "distribution": {
                "kind": "histogram",
                "current": rng.integers(0, 100_000, bins).tolist(),
                "edges": np.sort(rng.normal(0, 10, bins + 1)).tolist(),
            },
        }
        metrics.append(metric)
        size += len(json.dumps(metric)) + 2
    return {
        "schema_version": 1,
        "id": str(uuid.uuid4()),
        "timestamp": "2026-01-01T00:00:00Z",
        "name": "big",
        "tags": ["big"],
        "metadata": {"model": "wide"},
        "metrics": metrics,
    }


@pytest.fixture
def limit(settings) -> int:
    settings.SNAPSHOT_MAX_BYTES = 3 * MIB
    return settings.SNAPSHOT_MAX_BYTES


def _assert_stored_intact(document: dict[str, Any], size: int) -> None:
    snapshot = Snapshot.objects.get(uuid=document["id"])
    assert json.loads(SnapshotDocument.objects.get(snapshot=snapshot).text()) == document
    assert snapshot.size_bytes == size
    assert snapshot.metric_count == len(document["metrics"])
    assert snapshot.point_count == VALUES_PER_METRIC * len(document["metrics"])
    assert MetricPoint.objects.filter(snapshot=snapshot).count() == snapshot.point_count
    whole = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    assert snapshot.body_sha256 == hashlib.sha256(whole).hexdigest()


def test_it_stores_a_snapshot_near_the_limit_intact(api_for, world, limit):
    document = big_document(limit - 200_000)
    body = json.dumps(document).encode()
    assert limit - 300_000 < len(body) <= limit
    response = post_snapshot(api_for(token=world.ingest), world.p1, body)
    assert response.status_code == 201, response.content[:300]
    _assert_stored_intact(document, len(body))
    # The same document again, keys in another order: the same canonical text, a retry.
    again = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert again != body
    retry = post_snapshot(api_for(token=world.ingest), world.p1, again)
    assert retry.status_code == 200, retry.content[:300]


def test_it_stores_a_gzipped_snapshot_near_the_limit_intact(api_for, world, limit):
    document = big_document(limit - 200_000, seed=1)
    body = json.dumps(document).encode()
    response = post_snapshot(
        api_for(token=world.ingest), world.p1, gzip.compress(body), HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 201, response.content[:300]
    _assert_stored_intact(document, len(body))


def test_a_gzip_body_that_unpacks_past_the_limit_is_a_413_naming_the_body(api_for, world, limit):
    body = json.dumps(big_document(limit + 100_000)).encode()
    assert len(body) > limit
    response = post_snapshot(
        api_for(token=world.ingest), world.p1, gzip.compress(body), HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 413, response.content[:300]
    payload = response.json()
    assert payload["error"] == "request_too_large"
    assert f"{limit:,}" in payload["fields"]["body"][0]
    assert not Snapshot.objects.exists()


def test_it_refuses_bytes_after_a_big_gzip_member(api_for, world, limit):
    # The member ends in one piece of the body read and the garbage fills the pieces after it.
    member = gzip.compress(json.dumps(big_document(MIB)).encode(), compresslevel=0)
    response = post_snapshot(
        api_for(token=world.ingest),
        world.p1,
        member + b"x" * (3 * MIB // 2),
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert response.status_code == 400, response.content[:300]
    assert f"{3 * MIB // 2:,} bytes after the end" in response.json()["detail"]
    assert not Snapshot.objects.exists()


def test_it_finds_a_nul_in_any_batch_of_a_big_document(api_for, world, limit):
    document = big_document(MIB, bins=10)
    count = len(document["metrics"])
    assert count > 2 * ingestion._BATCH  # the text is written in several pieces
    document["metrics"][count - 1]["params"]["column"] = "x\x00"
    response = post_snapshot(api_for(token=world.ingest), world.p1, document)
    assert response.status_code == 400, response.content[:300]
    assert f"metrics.{count - 1}.params.column" in response.json()["fields"]
    assert not Snapshot.objects.exists()


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", range(248, 256))
def test_the_pieces_are_the_whole_documents_text(depth):
    document = big_document(300_000, bins=10)
    assert len(document["metrics"]) > 2 * ingestion._BATCH
    document["tests"] = [{"id": str(i), "ü": i} for i in range(ingestion._BATCH * 2 + 1)]
    document["metrics"][-1]["details"] = {"deep": _nested(depth)}
    try:
        whole: bytes | None = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        whole = None
    try:
        pieces: bytes | None = b"".join(ingestion.canonical_pieces(document))
    except orjson.JSONEncodeError:
        pieces = None
    assert pieces == whole  # the same text, or refused at the same depth
