"""Hostile snapshots an outside probe sent: NUL characters in any string PostgreSQL would store,
and gzip bodies with data after their first member, cut short, or past the limit once
decompressed. Each is a 4xx JSON error naming what is wrong, and not a row is stored."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from projects.models import (
    MetricPoint,
    MetricSeries,
    Snapshot,
    SnapshotDocument,
    SnapshotTag,
    TestOutcome,
)
from tests.projects.conftest import post_snapshot

pytestmark = pytest.mark.django_db

STORED = (Snapshot, SnapshotDocument, MetricPoint, MetricSeries, SnapshotTag, TestOutcome)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


def mutated(document: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    change(broken)
    return broken


def _set_metadata_key(d: dict[str, Any]) -> None:
    d["metadata"]["mo\x00del"] = d["metadata"].pop("model")


NUL_CASES: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "name": (lambda d: d.update(name="nightly\x00"), "name"),
    "a tag": (lambda d: d.update(tags=["prod", "v\x003"]), "tags.1"),
    "a metadata value": (lambda d: d["metadata"].update(model="v\x003"), "metadata.model"),
    "a metadata key": (_set_metadata_key, "metadata.mo\\u0000del"),
    "a metric id": (
        lambda d: d["metrics"][1].update(id="\x00" + d["metrics"][1]["id"]),
        "metrics.1.id",
    ),
    "a metric parameter": (
        lambda d: d["metrics"][0]["params"].update(column="age\x00"),
        "metrics.0.params.column",
    ),
    "a test id": (lambda d: d["tests"][0].update(id=d["tests"][0]["id"] + "\x00"), "tests.0.id"),
    "a test description": (
        lambda d: d["tests"][1].update(description="\x00"),
        "tests.1.description",
    ),
}


@pytest.mark.parametrize("case", list(NUL_CASES))
def test_it_refuses_a_nul_in_any_stored_string(api_for, world, document, case):
    change, field = NUL_CASES[case]
    before = counts()
    response = post_snapshot(api_for(token=world.ingest), world.p1, mutated(document, change))
    assert response.status_code == 400, response.content[:300]
    payload = response.json()
    assert field in payload["fields"], payload
    assert "NUL" in payload["fields"][field][0]
    assert payload["detail"].startswith(field)
    assert counts() == before


def test_it_stores_a_snapshot_whose_strings_only_spell_a_backslash_u0000(api_for, world, document):
    # The six characters \u0000 are text, not a NUL: the byte search must not refuse them.
    spelled = mutated(document, lambda d: d.update(name="\\u0000"))
    response = post_snapshot(api_for(token=world.ingest), world.p1, spelled)
    assert response.status_code == 201, response.content[:300]
    assert Snapshot.objects.get().name == "\\u0000"


def _gzip_post(api: Any, world: Any, body: bytes) -> Any:
    return post_snapshot(api, world.p1, body, HTTP_CONTENT_ENCODING="gzip")


GZIP_CASES: dict[str, Callable[[bytes], bytes]] = {
    "a second member": lambda body: gzip.compress(body) + gzip.compress(b" "),
    "trailing garbage": lambda body: gzip.compress(body) + b"garbage",
    "a trailing zero byte": lambda body: gzip.compress(body) + b"\x00",
    # The deflate data is whole; only the trailer (CRC and length) is cut.
    "a truncated trailer": lambda body: gzip.compress(body)[:-4],
    "a truncated stream": lambda body: gzip.compress(body)[: len(gzip.compress(body)) // 2],
}


@pytest.mark.parametrize("case", list(GZIP_CASES))
def test_it_refuses_a_gzip_body_that_is_not_exactly_one_whole_member(
    api_for, world, document, case
):
    before = counts()
    body = GZIP_CASES[case](json.dumps(document).encode())
    response = _gzip_post(api_for(token=world.ingest), world, body)
    assert response.status_code == 400, response.content[:300]
    assert "gzip" in response.json()["detail"]
    assert counts() == before


def test_it_still_accepts_one_whole_gzip_member(api_for, world, document):
    body = gzip.compress(json.dumps(document).encode())
    assert _gzip_post(api_for(token=world.ingest), world, body).status_code == 201


def test_it_answers_413_when_a_gzip_body_decompresses_past_the_limit(
    api_for, world, document, settings
):
    settings.SNAPSHOT_MAX_BYTES = 1024 * 1024
    big = mutated(document, lambda d: d["metrics"][0].update(details={"blob": " " * 2_000_000}))
    body = gzip.compress(json.dumps(big).encode())
    assert len(body) < settings.SNAPSHOT_MAX_BYTES
    before = counts()
    response = _gzip_post(api_for(token=world.ingest), world, body)
    assert response.status_code == 413, response.content[:300]
    assert response.json()["error"] == "request_too_large"
    assert "1,048,576" in response.json()["detail"]
    assert counts() == before
