"""Hostile and broken input to ingestion: every answer is a 4xx JSON error naming what is wrong,
none is a 5xx, and nothing is stored, not even half a snapshot."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from projects.models import MetricPoint, MetricSeries, Snapshot, SnapshotTag, TestOutcome
from tests.projects.conftest import post_snapshot

pytestmark = pytest.mark.django_db


def nothing_stored() -> bool:
    return not any(
        model.objects.exists()
        for model in (Snapshot, MetricPoint, MetricSeries, SnapshotTag, TestOutcome)
    )


def mutated(document, change):
    broken = copy.deepcopy(document)
    change(broken)
    return broken


CASES = {  # body, status, field named, the error code of docs/api.md's table
    "not json": (b"{not json", 400, None, "parse_error"),
    "a list": (b"[1, 2]", 400, "(document)", "validation_error"),
    "NaN": (b'{"schema_version": 1, "x": NaN}', 400, None, "parse_error"),
    "Infinity": (b'{"schema_version": Infinity}', 400, None, "parse_error"),
    "a number out of range": (b'{"schema_version": 1e400}', 400, None, "parse_error"),
    "not utf-8": (b'{"name": "\xff\xfe"}', 400, None, "parse_error"),
    "deep nesting": (
        b'{"details": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        None,
        "parse_error",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_bodies(api_for, world, case):
    body, status, field, code = CASES[case]
    response = post_snapshot(api_for(token=world.write), world.p1, body)
    assert response.status_code == status, response.content[:300]
    payload = response.json()
    assert payload["error"] == code
    assert payload["detail"]
    if field:
        assert field in payload["fields"]
    assert nothing_stored()


DOCUMENT_CASES = {
    "wrong schema version": (lambda d: d.update(schema_version=2), "schema_version"),
    "id not a uuid": (lambda d: d.update(id="123"), "id"),
    "timestamp without zone": (lambda d: d.update(timestamp="2026-11-01T00:00:00"), "timestamp"),
    "timestamp garbage": (lambda d: d.update(timestamp="yesterday"), "timestamp"),
    "unknown field": (lambda d: d.update(colour="red"), "(document)"),
    "metrics not a list": (lambda d: d.update(metrics={}), "metrics"),
    "a value as text": (
        lambda d: d["metrics"][0]["values"]["current"].update(mean="12"),
        "metrics.0.values.current.mean",
    ),
    "a key with a dot": (
        lambda d: d["metrics"][0]["values"].update({"a.b": 1}),
        "metrics.0.values",
    ),
    "unknown test status": (lambda d: d["tests"][0].update(status="MAYBE"), "tests.0.status"),
    "huge name": (lambda d: d.update(name="x" * 10_000), "name"),
    "too many tags": (lambda d: d.update(tags=[f"t{i}" for i in range(51)]), "tags"),
    "metadata object": (lambda d: d.update(metadata={"nested": {"a": 1}}), "metadata.nested"),
    "missing metrics": (lambda d: d.pop("metrics"), "(document)"),
    "distribution too long": (
        lambda d: next(m for m in d["metrics"] if "distribution" in m)["distribution"].update(
            current=[1] * 5000
        ),
        None,
    ),
}


@pytest.mark.parametrize("case", list(DOCUMENT_CASES))
def test_documents_that_break_the_schema_name_the_field(api_for, world, document, case):
    change, field = DOCUMENT_CASES[case]
    response = post_snapshot(api_for(token=world.write), world.p1, mutated(document, change))
    assert response.status_code == 400, response.content[:300]
    payload = response.json()
    assert payload["error"] == "validation_error"
    if field:
        assert field in payload["fields"], payload["fields"]
    assert len(payload["detail"]) < 400
    assert nothing_stored()


def test_a_body_over_the_limit_is_a_json_413(api_for, world, document, settings):
    settings.SNAPSHOT_MAX_BYTES = 2 * 1024 * 1024
    big = mutated(
        document, lambda d: d["metrics"][0].update(details={"blob": "x" * (3 * 1024 * 1024)})
    )
    response = post_snapshot(api_for(token=world.write), world.p1, big)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert nothing_stored()


def test_a_large_body_under_the_limit_is_accepted(api_for, world, document):
    # Well over Django's 2.5 MB form limit: ingestion reads the stream itself.
    big = mutated(
        document, lambda d: d["metrics"][0].update(details={"blob": "x" * (6 * 1024 * 1024)})
    )
    response = post_snapshot(api_for(token=world.write), world.p1, big)
    assert response.status_code == 201


def test_a_gzip_bomb_stops_at_the_limit(api_for, world, settings):
    settings.SNAPSHOT_MAX_BYTES = 1024 * 1024
    bomb = gzip.compress(b"[" + b" " * (20 * 1024 * 1024) + b"]")
    assert len(bomb) < 100_000
    response = post_snapshot(
        api_for(token=world.write), world.p1, bomb, HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 413
    assert "over the limit" in response.json()["detail"]
    assert nothing_stored()


def test_bad_encodings_and_content_types(api_for, world, document):
    api = api_for(token=world.write)
    body = json.dumps(document)
    not_gzip = post_snapshot(api, world.p1, body, HTTP_CONTENT_ENCODING="gzip")
    assert not_gzip.status_code == 400
    brotli = post_snapshot(api, world.p1, body, HTTP_CONTENT_ENCODING="br")
    assert brotli.status_code == 400
    text = post_snapshot(api, world.p1, body, content_type="text/plain")
    assert text.status_code == 415
    assert text.json()["error"] == "unsupported_media_type"
    chunked = api.generic(
        "POST",
        f"/api/v1/projects/{world.p1.pk}/snapshots",
        body.encode(),
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert chunked.status_code == 411
    assert nothing_stored()


def test_bad_query_parameters_are_named(api_for, world):
    api = api_for(token=world.read)
    base = f"/api/v1/projects/{world.p1.pk}"
    cases = {
        f"{base}/snapshots?since=yesterday": "since",
        f"{base}/snapshots?limit=0": "limit",
        f"{base}/snapshots?limit=abc": "limit",
        f"{base}/snapshots?status=MAYBE": "status",
        f"{base}/snapshots?cursor=!!!": "cursor",
        f"{base}/snapshots?meta.$x=1": "meta.$x",
        f"{base}/series": "id",
        f"{base}/series?id=abc": "id",
        f"{base}/series?metric=a": "field",
        f"{base}/series?id=1&points=1": "points",
    }
    for url, field in cases.items():
        response = api.get(url)
        assert response.status_code == 400, url
        assert field in response.json()["fields"], (url, response.json())


def test_the_push_error_table_of_the_api_docs(api_for, world, document):
    """Each row of docs/api.md's push-error table that the cases above do not cover."""
    from mlplatform.accounts.models import TokenScope
    from tests.factories import make_org, make_token, make_user

    def answer(response):
        return response.status_code, response.json()["error"], response.json()["detail"]

    other_org = make_org("Globex", make_user("carol@example.com"))
    _, outsider = make_token(other_org, TokenScope.WRITE)
    assert answer(post_snapshot(api_for(token=outsider), world.p1, document)) == (
        404,
        "not_found",
        "No such project.",
    )
    # An ingest token pushing to another project of its organisation: no such project for it.
    assert answer(post_snapshot(api_for(token=world.ingest), world.p2, document))[:2] == (
        404,
        "not_found",
    )
    status, code, _ = answer(post_snapshot(api_for(token=world.read), world.p1, document))
    assert (status, code) == (403, "permission_denied")
    encoded = post_snapshot(
        api_for(token=world.write), world.p1, json.dumps(document), HTTP_CONTENT_ENCODING="br"
    )
    assert answer(encoded)[:2] == (400, "parse_error")
    broken_gzip = post_snapshot(
        api_for(token=world.write), world.p1, b"\x1f\x8b not gzip", HTTP_CONTENT_ENCODING="gzip"
    )
    assert answer(broken_gzip)[:2] == (400, "parse_error")
    text = post_snapshot(
        api_for(token=world.write), world.p1, json.dumps(document), content_type="text/plain"
    )
    assert answer(text)[:2] == (415, "unsupported_media_type")
    assert nothing_stored()
