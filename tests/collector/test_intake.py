"""The intake: JSON records, CSV and Parquet bodies accepted and stored before the answer; wrong
types, unknown columns, empty and oversized bodies refused with a 4xx naming the row and column,
nothing stored; the reference upload; labels; and every collector route 404 to outsiders."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from collector.intake import read_parquet
from collector.models import Collector, LabelBatch, ReferenceDataset, RowBatch
from tests.collector.conftest import frame, parquet, records

pytestmark = pytest.mark.django_db


def _post(client, collector, body, content_type="application/json", rest="data"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/api/v1/collectors/{collector.pk}/{rest}", data, content_type=content_type)


def test_json_rows_are_stored_before_the_answer(api_for, collector, ingest_secret):
    rows = frame(50, seed=2)
    response = _post(api_for(token=ingest_secret), collector, records(rows))
    assert response.status_code == 202, response.json()
    assert response.json()["accepted"] == 50
    (batch,) = RowBatch.objects.filter(collector=collector)
    stored = read_parquet(batch.parquet)
    assert stored["prediction_id"].tolist() == rows["prediction_id"].tolist()
    pd.testing.assert_series_equal(stored["x"], rows["x"], check_names=False)
    assert stored["plan"].tolist() == rows["plan"].tolist()
    assert batch.first_timestamp.isoformat() == rows["timestamp"].iloc[0]
    assert batch.last_timestamp.isoformat() == rows["timestamp"].iloc[-1]


def test_csv_and_parquet_bodies_are_accepted(api_for, collector, ingest_secret):
    client = api_for(token=ingest_secret)
    rows = frame(30, seed=3)
    assert _post(client, collector, rows.to_csv(index=False), "text/csv").status_code == 202
    assert (
        _post(client, collector, parquet(rows), "application/vnd.apache.parquet").status_code == 202
    )
    assert sum(RowBatch.objects.values_list("rows", flat=True)) == 60


def test_rows_without_ids_or_times_get_the_arrival_time(api_for, collector, ingest_secret):
    rows = [{"x": 1.5, "y": 2.0, "plan": "basic", "prediction": 1}, {"x": None, "plan": "pro"}]
    assert _post(api_for(token=ingest_secret), collector, {"rows": rows}).status_code == 202
    stored = read_parquet(RowBatch.objects.get().parquet)
    assert stored["prediction_id"].isna().all()
    assert stored["timestamp"].notna().all()
    assert pd.isna(stored["y"].iloc[1])  # a missing column is a missing value


BAD = [
    ([{"x": "abc", "y": 1}], "rows[0].x"),
    ([{"x": 1.0}, {"x": 2.0, "colour": "red"}], "rows[1].colour"),
    ([{"x": 1.0}, {"x": True}], "rows[1].x"),
    ([{"x": 1.0}, {"plan": {"nested": 1}}], "rows[1].plan"),
    ([1, 2], "rows[0]"),
    ({"rows": "x"}, "body"),
    ([], "body"),
    ([{"x": 1.0, "timestamp": "yesterday-ish"}], "timestamp"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_rows_are_refused_naming_the_row_and_column(
    api_for, collector, ingest_secret, body, field
):
    response = _post(api_for(token=ingest_secret), collector, body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert field in payload["fields"], payload
    assert payload["detail"]
    assert not RowBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "application/json", 400),
        (b"{not json", "application/json", 400),
        (b"x,y\n1,2\n\xff\xfe", "text/csv", 400),
        (b"not parquet", "application/vnd.apache.parquet", 400),
        (b"x=1", "application/x-www-form-urlencoded", 415),
    ],
)
def test_broken_bodies_are_4xx(api_for, collector, ingest_secret, body, content_type, status):
    response = _post(api_for(token=ingest_secret), collector, body, content_type)
    assert response.status_code == status, response.content
    assert response.json()["detail"]
    assert not RowBatch.objects.exists()


def test_a_body_over_the_limit_is_413_before_it_is_read(
    api_for, collector, ingest_secret, settings
):
    settings.COLLECTOR_MAX_BODY_BYTES = 10_000
    body = json.dumps(records(frame(500, seed=4)))
    assert len(body) > 10_000
    response = _post(api_for(token=ingest_secret), collector, body)
    assert response.status_code == 413
    assert not RowBatch.objects.exists()


def test_the_reference_is_summarised_and_replaceable(api_for, collector, bob):
    first = ReferenceDataset.objects.get(collector=collector, current=True)
    assert first.rows == 5000
    assert first.columns == {
        "x": "numerical",
        "y": "numerical",
        "plan": "categorical",
        "prediction": "categorical",
    }
    client = api_for(bob)
    replacement = frame(100, seed=9).drop(columns=["prediction_id", "timestamp"])[["x", "plan"]]
    response = client.put(
        f"/api/v1/collectors/{collector.pk}/reference",
        parquet(replacement),
        content_type="application/vnd.apache.parquet",
        HTTP_X_FILENAME="ref.parquet",
    )
    assert response.status_code == 201, response.content
    assert response.json()["columns"] == {"x": "numerical", "plan": "categorical"}
    assert ReferenceDataset.objects.filter(collector=collector).count() == 2
    assert client.get(f"/api/v1/collectors/{collector.pk}/reference").json()["rows"] == 100
    # Rows are now checked against the new reference: y is unknown.
    refused = _post(client, collector, [{"x": 1.0, "y": 2.0}])
    assert refused.status_code == 400
    assert "rows[0].y" in refused.json()["fields"]


def test_labels_are_stored_and_checked(api_for, collector, ingest_secret):
    client = api_for(token=ingest_secret)
    response = _post(
        client,
        collector,
        [{"prediction_id": "p1", "target": 1}, {"prediction_id": 2, "target": 0}],
        rest="labels",
    )
    assert response.status_code == 202
    assert LabelBatch.objects.get().labels == {"p1": 1, "2": 0}
    for bad in (
        [],
        [{"prediction_id": "p1"}],
        [{"target": 1}],
        [{"prediction_id": "p", "target": None}],
    ):
        assert _post(client, collector, bad, rest="labels").status_code == 400
    assert LabelBatch.objects.count() == 1


def test_collectors_are_created_and_checked_over_the_api(api_for, scoring, bob, vera):
    url = f"/api/v1/projects/{scoring.pk}/collectors"
    good = {"name": "api", "presets": ["data_drift"], "every_rows": 1000, "cron": "*/15 * * * *"}
    assert api_for(vera).post(url, good, format="json").status_code == 403
    made = api_for(bob).post(url, good, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["every_rows"] == 1000
    bad = api_for(bob).post(
        url,
        {"name": "", "presets": ["nope"], "cron": "every day", "definition": {"colour": "x"}},
        format="json",
    )
    assert bad.status_code == 400
    assert {"name", "presets", "cron", "definition.colour"} <= set(bad.json()["fields"])
    no_trigger = api_for(bob).post(url, {"name": "x", "presets": ["data_drift"]}, format="json")
    assert "every_minutes" in no_trigger.json()["fields"]
    listed = api_for(vera).get(url).json()
    assert [c["name"] for c in listed] == ["api"]


def test_an_outsider_or_another_projects_token_gets_404(
    api_for, collector, charlie, globex, acme, ingest_secret
):
    from mlplatform.accounts.models import TokenScope
    from tests.factories import make_project, make_token

    other = make_token(acme, TokenScope.INGEST, project=make_project(acme, "Other"))[1]
    foreign = make_token(globex, TokenScope.WRITE)[1]
    base = f"/api/v1/collectors/{collector.pk}"
    for client in (api_for(charlie), api_for(token=other), api_for(token=foreign)):
        for method, rest in [
            ("get", ""),
            ("patch", ""),
            ("delete", ""),
            ("get", "/reference"),
            ("put", "/reference"),
            ("post", "/data"),
            ("post", "/labels"),
            ("post", "/run"),
            ("get", "/runs"),
        ]:
            call = getattr(client, method)
            response = (
                call(base + rest)
                if method in ("get", "delete")
                else call(base + rest, [{"x": 1}], format="json")
            )
            assert response.status_code == 404, (method, rest)
    assert not RowBatch.objects.exists()
    collector.refresh_from_db()
    assert collector.name == "live"


def test_a_retried_request_with_its_key_is_stored_once(api_for, collector, ingest_secret):
    client = api_for(token=ingest_secret)
    body = json.dumps(records(frame(20, seed=7)))
    headers = {"HTTP_IDEMPOTENCY_KEY": "batch-0001"}
    first = client.post(
        f"/api/v1/collectors/{collector.pk}/data", body, content_type="application/json", **headers
    )
    again = client.post(
        f"/api/v1/collectors/{collector.pk}/data", body, content_type="application/json", **headers
    )
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"accepted": 20, "batch": first.json()["batch"], "repeated": True}
    assert RowBatch.objects.count() == 1
    other = client.post(
        f"/api/v1/collectors/{collector.pk}/data",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="batch-0002",
    )
    assert other.status_code == 202
    assert RowBatch.objects.count() == 2


def test_run_now_over_the_api_says_why_it_cannot_run(api_for, collector, bob, scoring):
    client = api_for(bob)
    url = f"/api/v1/collectors/{collector.pk}/run"
    nothing = client.post(url)
    assert nothing.status_code == 409
    assert "No rows are waiting" in nothing.json()["detail"]
    bare = Collector.objects.create(project=scoring, name="bare", config={}, every_minutes=5)
    no_reference = client.post(f"/api/v1/collectors/{bare.pk}/run")
    assert no_reference.status_code == 409
    assert "reference" in no_reference.json()["detail"]
    Collector.objects.filter(pk=collector.pk).update(enabled=False)
    assert "disabled" in client.post(url).json()["detail"]
