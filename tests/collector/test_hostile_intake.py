"""Hostile bodies an outside probe sent to the collector: NUL characters in rows (JSON, CSV,
Parquet), in a reference and in labels; times at the calendar's ends; CSV and Parquet garbage and
bodies with no rows; gzip bodies with data after their first member, cut short, or past the limit.
Each is a 4xx JSON error naming the field, and not a row is stored."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collector.intake import read_parquet
from collector.models import LabelBatch, ReferenceDataset, RowBatch
from tests.collector.conftest import frame, parquet, records

pytestmark = pytest.mark.django_db

PARQUET = "application/vnd.apache.parquet"


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (RowBatch, ReferenceDataset, LabelBatch)
    }


def _post(
    client: Any, collector: Any, body: Any, content_type: str = "application/json", **extra: Any
) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    rest = extra.pop("rest", "data")
    return client.post(
        f"/api/v1/collectors/{collector.pk}/{rest}", data, content_type=content_type, **extra
    )


def _refused(response: Any, field: str, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    payload = response.json()
    assert payload["detail"]
    assert field in (payload.get("fields") or {}), payload
    return payload


def _rows(**change: Any) -> list[dict[str, Any]]:
    rows = records(frame(3, seed=5))
    rows[1].update(change)
    return rows


def _table(columns: dict[str, list[Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


NUL_ROWS: dict[str, tuple[bytes | str, str, str]] = {
    "a JSON value": (json.dumps(_rows(plan="pro\x00")), "application/json", "rows[1].plan"),
    "a JSON prediction id": (
        json.dumps(_rows(prediction_id="p\x001")),
        "application/json",
        "rows[1].prediction_id",
    ),
    "a JSON column name": (
        json.dumps([{"x": 1.0}, {"pl\x00an": "pro"}]),
        "application/json",
        "rows[1].pl\\u0000an",
    ),
    "a CSV value": ("x,plan\n1.0,basic\n2.0,pr\x00o\n", "text/csv", "rows[1].plan"),
    "a CSV column name": ("x,pl\x00an\n1.0,basic\n", "text/csv", "rows[0].pl\\u0000an"),
    "a Parquet value": (
        _table({"x": [1.0, 2.0], "plan": ["basic", "\x00"]}),
        PARQUET,
        "rows[1].plan",
    ),
    "a Parquet prediction id": (
        _table({"x": [1.0, 2.0], "prediction_id": ["a\x00", "b"]}),
        PARQUET,
        "rows[0].prediction_id",
    ),
    "a Parquet column name": (_table({"x": [1.0], "\x00": ["basic"]}), PARQUET, "rows[0].\\u0000"),
}


@pytest.mark.parametrize("case", list(NUL_ROWS))
def test_it_refuses_rows_with_a_nul(api_for, collector, ingest_secret, case):
    body, content_type, field = NUL_ROWS[case]
    before = counts()
    response = _post(api_for(token=ingest_secret), collector, body, content_type)
    payload = _refused(response, field)
    assert "NUL" in payload["fields"][field][0]
    assert counts() == before


def test_it_refuses_a_reference_with_a_nul(api_for, collector, bob):
    before = counts()
    body = "x,pl\x00an\n1.0,basic\n2.0,pro\n"
    response = api_for(user=bob).put(
        f"/api/v1/collectors/{collector.pk}/reference", body, content_type="text/csv"
    )
    _refused(response, "rows[0].pl\\u0000an")
    assert counts() == before


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ({"prediction_id": "p\x001", "target": 1}, "labels[1].prediction_id"),
        ({"prediction_id": "p1", "target": "yes\x00"}, "labels[1].target"),
    ],
)
def test_it_refuses_labels_with_a_nul(api_for, collector, ingest_secret, label, field):
    before = counts()
    body = [{"prediction_id": "p0", "target": 0}, label]
    response = _post(api_for(token=ingest_secret), collector, body, rest="labels")
    payload = _refused(response, field)
    assert "NUL" in payload["fields"][field][0]
    assert counts() == before


@pytest.mark.parametrize(
    "time",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.5-00:01"],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_it_refuses_times_past_the_calendars_ends(
    api_for, collector, ingest_secret, time, content_type
):
    rows = _rows(timestamp=time)
    body = (
        json.dumps(rows)
        if content_type == "application/json"
        else pd.DataFrame(rows).to_csv(index=False)
    )
    before = counts()
    response = _post(api_for(token=ingest_secret), collector, body, content_type)
    _refused(response, "timestamp")
    assert counts() == before


@pytest.mark.parametrize("seconds", [253_402_300_800, -62_135_596_801])  # 10000-01-01, year 0
def test_it_refuses_parquet_times_past_the_calendars_ends(
    api_for, collector, ingest_secret, seconds
):
    body = _table({"x": [1.0], "timestamp": pa.array([seconds], pa.timestamp("s", tz="UTC"))})
    before = counts()
    response = _post(api_for(token=ingest_secret), collector, body, PARQUET)
    payload = _refused(response, "timestamp")
    assert "outside the years 1 to 9999" in payload["detail"]
    assert counts() == before


def test_it_accepts_times_at_the_calendars_ends_that_stay_inside_it(
    api_for, collector, ingest_secret
):
    rows = records(frame(2, seed=6))
    rows[0]["timestamp"] = "0001-01-01T00:00:00-05:00"
    rows[1]["timestamp"] = "9999-12-31T23:59:59+05:00"
    response = _post(api_for(token=ingest_secret), collector, rows)
    assert response.status_code == 202, response.content[:300]
    batch = RowBatch.objects.get()
    assert batch.first_timestamp.year == 1
    assert batch.last_timestamp.year == 9999


def _empty_parquet() -> bytes:
    return parquet(frame(3, seed=7).iloc[:0])


BROKEN: dict[str, tuple[bytes, str]] = {
    "a CSV of only a header": (b"x,y,plan,prediction\n", "text/csv"),
    "a CSV of only a header, no newline": (b"x,y,plan,prediction", "text/csv"),
    "a binary CSV": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "text/csv"),
    "a CSV with bad quoting": (b'x,plan\n1.0,"basic\n2.0,pro\n', "text/csv"),
    "a Latin-1 CSV": ("x,plan\n1.0,caf\xe9\n".encode("latin-1"), "text/csv"),
    "a UTF-16 CSV": ("x,plan\n1.0,basic\n".encode("utf-16"), "text/csv"),
    "a Parquet file of no rows": (_empty_parquet(), PARQUET),
    "an empty Parquet body": (b"", PARQUET),
    "Parquet garbage": (b"PAR1" + b"\x07" * 64 + b"PAR1", PARQUET),
    "a cut Parquet file": (parquet(frame(50, seed=8))[:-20], PARQUET),
    "a Parquet file with its middle overwritten": (
        (lambda p: p[:8] + b"\xff" * (len(p) - 16) + p[-8:])(parquet(frame(50, seed=9))),
        PARQUET,
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_it_refuses_bodies_with_no_rows_or_garbage_naming_the_body(
    api_for, collector, ingest_secret, case
):
    body, content_type = BROKEN[case]
    before = counts()
    response = _post(api_for(token=ingest_secret), collector, body, content_type)
    _refused(response, "body")
    assert counts() == before


def test_it_keeps_the_values_of_a_parquet_file_written_with_an_index(
    api_for, collector, ingest_secret
):
    rows = frame(6, seed=15).iloc[2:]  # an index of 2..5, as a filtered frame has
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(rows.drop(columns="prediction_id")), sink)
    named = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(rows.set_index("prediction_id")), named)
    client = api_for(token=ingest_secret)
    for body in (sink.getvalue(), named.getvalue()):
        response = _post(client, collector, body, PARQUET)
        assert response.status_code == 202, response.content[:300]
    unnamed, by_id = (read_parquet(b.parquet) for b in RowBatch.objects.order_by("pk"))
    assert unnamed["x"].tolist() == rows["x"].tolist()
    assert by_id["x"].tolist() == rows["x"].tolist()
    assert by_id["prediction_id"].tolist() == rows["prediction_id"].tolist()


def _gzip_json(rows: Any) -> bytes:
    return gzip.compress(json.dumps(rows).encode())


def test_it_accepts_gzipped_rows_and_labels(api_for, collector, ingest_secret):
    client = api_for(token=ingest_secret)
    rows = records(frame(20, seed=10))
    response = _post(client, collector, _gzip_json(rows), HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 202, response.content[:300]
    assert RowBatch.objects.get().rows == 20
    csv = gzip.compress(frame(5, seed=11).to_csv(index=False).encode())
    response = _post(client, collector, csv, "text/csv", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 202, response.content[:300]
    labels = _gzip_json([{"prediction_id": "p0", "target": 1}])
    response = _post(client, collector, labels, rest="labels", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 202, response.content[:300]


GZIP_CASES = {
    "a second member": lambda body: gzip.compress(body) + gzip.compress(body),
    "trailing garbage": lambda body: gzip.compress(body) + b"garbage",
    "a truncated trailer": lambda body: gzip.compress(body)[:-4],
    "a truncated stream": lambda body: gzip.compress(body)[: len(gzip.compress(body)) // 2],
    "not gzip": lambda body: body,
}


@pytest.mark.parametrize("rest", ["data", "labels"])
@pytest.mark.parametrize("case", list(GZIP_CASES))
def test_it_refuses_a_gzip_body_that_is_not_exactly_one_whole_member(
    api_for, collector, ingest_secret, case, rest
):
    rows: Any = records(frame(20, seed=12))
    if rest == "labels":
        rows = [{"prediction_id": f"p{i}", "target": i % 2} for i in range(20)]
    body = GZIP_CASES[case](json.dumps(rows).encode())
    before = counts()
    response = _post(
        api_for(token=ingest_secret), collector, body, rest=rest, HTTP_CONTENT_ENCODING="gzip"
    )
    payload = _refused(response, "body")
    assert "gzip" in payload["detail"]
    assert counts() == before


def test_it_answers_413_when_a_gzip_body_decompresses_past_the_limit(
    api_for, collector, ingest_secret, settings
):
    settings.COLLECTOR_MAX_BODY_BYTES = 100_000
    body = gzip.compress(json.dumps(records(frame(3000, seed=13))).encode())
    assert len(body) < 100_000
    before = counts()
    response = _post(api_for(token=ingest_secret), collector, body, HTTP_CONTENT_ENCODING="gzip")
    payload = _refused(response, "body", status=413)
    assert payload["error"] == "request_too_large"
    assert counts() == before


def test_it_refuses_an_unknown_content_encoding(api_for, collector, ingest_secret):
    body = json.dumps(records(frame(3, seed=14)))
    response = _post(api_for(token=ingest_secret), collector, body, HTTP_CONTENT_ENCODING="br")
    _refused(response, "body")
    assert not RowBatch.objects.exists()


@pytest.mark.parametrize("prediction_id", [None, "", True, {"a": 1}, ["a"]], ids=repr)
def test_it_refuses_labels_whose_id_is_not_a_string_or_a_number(
    api_for, collector, ingest_secret, prediction_id
):
    before = counts()
    body = [{"prediction_id": "p0", "target": 0}, {"prediction_id": prediction_id, "target": 1}]
    response = _post(api_for(token=ingest_secret), collector, body, rest="labels")
    _refused(response, "labels[1].prediction_id")
    assert counts() == before
