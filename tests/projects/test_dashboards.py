"""Dashboards as code: the default dashboard after a first snapshot, pre-built tabs, the document's
checks, saving with versions, adding and deleting panels, and what the panels draw."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from projects.dashboards.document import clean_spec
from projects.ingestion import ingest_snapshot
from projects.models import Dashboard, Snapshot
from projects.processing import process_snapshot
from tests.factories import snapshot_document

pytestmark = pytest.mark.django_db

START = datetime(2026, 10, 1, 6, tzinfo=UTC)
DRIFT = "DatasetDrift(drift_share=0.5)"
AGE_MEAN = ('ColumnSummary(column="age")', "current.mean")


def _push(project, day: int, **run) -> Snapshot:
    document = snapshot_document(seed=day, timestamp=START + timedelta(days=day), **run)
    found = ingest_snapshot(project, json.dumps(document).encode())
    process_snapshot(found.snapshot.pk)
    return found.snapshot


def _url(project, rest: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/dashboard{rest}"


def _line(title="Mean age", **extra):
    return {
        "type": "line",
        "title": title,
        "series": [{"metric": AGE_MEAN[0], "field": AGE_MEAN[1], "label": "age"}],
        **extra,
    }


def test_it_makes_a_default_dashboard_after_the_first_snapshot(world, api_for, alice):
    assert not Dashboard.objects.filter(project=world.p1).exists()
    _push(world.p1, 0)
    saved = Dashboard.objects.get(project=world.p1)
    titles = [tab["title"] for tab in saved.spec["tabs"]]
    assert titles == ["Data quality", "Data drift", "Tests"]  # no model metrics in these snapshots
    kinds = {p["type"] for tab in saved.spec["tabs"] for p in tab["panels"]}
    assert {"counter", "line", "bar", "distribution", "test_status", "test_counts", "text"} <= kinds
    # A later snapshot leaves the dashboard alone.
    _push(world.p1, 1)
    assert Dashboard.objects.get(project=world.p1).version == 1
    body = api_for(alice).get(_url(world.p1)).json()
    assert body["version"] == 1
    assert [t["title"] for t in body["tabs"]] == titles


def test_an_unsaved_dashboard_reads_as_version_zero(world, api_for, alice):
    body = api_for(alice).get(_url(world.p1)).json()
    assert body == {"version": 0, "updated_at": None, "tabs": []}


def test_the_document_is_checked_and_every_bad_field_named(world, api_for, bob):
    bad = {
        "tabs": [
            {
                "title": "",
                "panels": [
                    {"type": "pie", "title": "x"},
                    {"type": "line", "title": "y", "series": [{"metric": "m"}]},
                    {"type": "line", "title": "z", "series": [], "thresholds": [{"value": "high"}]},
                    {
                        "type": "bar",
                        "title": "w",
                        "series": [{"metric": "m", "field": "f", "color": "red"}],
                    },
                    {"type": "text", "title": "t", "text": "hi", "evil": 1},
                ],
            }
        ]
    }
    response = api_for(bob).put(_url(world.p1), bad, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) >= {
        "tabs[0].title",
        "tabs[0].panels[0].type",
        "tabs[0].panels[1].series[0].field",
        "tabs[0].panels[2].series",
        "tabs[0].panels[2].thresholds[0].value",
        "tabs[0].panels[3].series[0].color",
        "tabs[0].panels[4].evil",
    }
    assert not Dashboard.objects.exists()
    hostile: Any
    for hostile in ([1, 2], "tabs", {"tabs": "x"}, {"tabs": [None]}, {"tabs": [{}] * 21}):
        response = api_for(bob).put(_url(world.p1), hostile, format="json")
        assert response.status_code == 400, hostile
        assert response.json()["fields"]


def test_it_saves_with_versions_and_refuses_a_stale_write(world, api_for, alice, bob):
    spec = {"tabs": [{"id": "main", "title": "Main", "panels": [_line()]}]}
    first = api_for(bob).put(_url(world.p1), {**spec, "version": 0}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["version"] == 1
    panel = first.json()["tabs"][0]["panels"][0]
    assert panel["id"]
    assert panel["size"] == "half"
    assert panel["format"] == "number"
    stale = api_for(alice).put(_url(world.p1), {**spec, "version": 0}, format="json")
    assert stale.status_code == 409
    assert stale.json()["version"] == 1
    forced = api_for(alice).put(_url(world.p1), spec, format="json")
    assert forced.json()["version"] == 2


def test_it_adds_and_deletes_panels(world, api_for, bob):
    client = api_for(bob)
    added = client.post(_url(world.p1, "/panels"), {"tab": "Ops", "panel": _line()}, format="json")
    assert added.status_code == 201, added.json()
    panel_id = added.json()["panel"]["id"]
    again = client.post(
        _url(world.p1, "/panels"), {"tab": "ops", "panel": _line("Second")}, format="json"
    )
    assert again.json()["tab"] == added.json()["tab"]  # found by title, whatever the case
    tabs = client.get(_url(world.p1)).json()["tabs"]
    assert [p["title"] for p in tabs[0]["panels"]] == ["Mean age", "Second"]
    duplicate = client.post(
        _url(world.p1, "/panels"), {"tab": "Ops", "panel": _line(id=panel_id)}, format="json"
    )
    assert duplicate.status_code == 400
    assert "panel.id" in duplicate.json()["fields"]
    assert client.delete(_url(world.p1, f"/panels/{panel_id}")).status_code == 204
    assert client.delete(_url(world.p1, f"/panels/{panel_id}")).status_code == 404
    assert [p["title"] for p in client.get(_url(world.p1)).json()["tabs"][0]["panels"]] == [
        "Second"
    ]


def test_presets_are_offered_from_what_the_project_received(world, api_for, bob):
    client = api_for(bob)
    offered = {p["id"]: p for p in client.get(_url(world.p1, "/presets")).json()["presets"]}
    assert not any(p["available"] for p in offered.values())
    refused = client.post(_url(world.p1, "/presets"), {"presets": ["data_drift"]}, format="json")
    assert refused.status_code == 400
    ingest_snapshot(world.p1, json.dumps(snapshot_document()).encode())
    # The default shows the tabs the data allows: adding one again is refused.
    again = client.post(_url(world.p1, "/presets"), {"presets": ["data_drift"]}, format="json")
    assert again.status_code == 400
    assert "already" in again.json()["fields"]["presets"][0]
    client.put(_url(world.p1), {"tabs": []}, format="json")
    offered = {p["id"]: p for p in client.get(_url(world.p1, "/presets")).json()["presets"]}
    assert offered["data_drift"]["available"]
    assert not offered["model_quality"]["available"]
    added = client.post(_url(world.p1, "/presets"), {"presets": ["data_drift"]}, format="json")
    assert added.status_code == 201
    assert [t["title"] for t in added.json()["tabs"]] == ["Data drift"]
    unknown = client.post(_url(world.p1, "/presets"), {"presets": ["nope"]}, format="json")
    assert unknown.status_code == 400


def test_series_panels_draw_the_points_and_counters_their_aggregates(world, api_for, alice):
    snapshots = [_push(world.p1, day) for day in range(5)]
    documents = [json.loads(s.document.text()) for s in snapshots]
    expected = np.array(
        [
            next(m for m in d["metrics"] if m["id"] == AGE_MEAN[0])["values"]["current"]["mean"]
            for d in documents
        ]
    )
    spec = {
        "tabs": [
            {
                "id": "t",
                "title": "T",
                "panels": [
                    _line(id="line"),
                    {**_line("Sum"), "id": "sum", "type": "counter", "aggregate": "sum"},
                    {**_line("Min"), "id": "min", "type": "counter", "aggregate": "min"},
                    {**_line("Last"), "id": "last", "type": "counter", "aggregate": "last"},
                    {
                        "id": "ghost",
                        "type": "scatter",
                        "title": "Not pushed yet",
                        "series": [{"metric": "Nope()", "field": "x"}],
                    },
                ],
            }
        ]
    }
    client = api_for(alice)
    assert client.put(_url(world.p1), spec, format="json").status_code == 200
    response = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "all"})
    assert response.status_code == 200
    assert response["Server-Timing"].startswith("data;dur=")
    panels = response.json()["panels"]
    line = panels["line"]["series"][0]
    np.testing.assert_allclose(line["v"], expected)
    assert line["t"] == [s.timestamp.timestamp() for s in snapshots]
    assert line["snapshot"] == [str(s.uuid) for s in snapshots]
    assert panels["sum"]["value"] == pytest.approx(expected.sum())
    assert panels["min"]["value"] == pytest.approx(expected.min())
    assert panels["last"]["value"] == pytest.approx(expected[-1])
    assert panels["ghost"]["empty"]
    assert panels["ghost"]["series"][0]["missing"]
    # A range that holds no snapshot draws nothing, and says so.
    empty = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "24h"}).json()["panels"]
    assert empty["line"]["empty"]
    assert empty["line"]["series"][0]["t"] == []
    # A custom range and one panel.
    since, until = (START + timedelta(days=1)).date(), (START + timedelta(days=2)).date()
    one = client.get(
        _url(world.p1, "/data"),
        {"panel": "line", "range": "custom", "since": str(since), "until": str(until)},
    ).json()["panels"]
    assert list(one) == ["line"]
    two = client.get(_url(world.p1, "/data") + "?panel=sum&panel=min&range=all").json()["panels"]
    assert list(two) == ["sum", "min"]
    assert two["min"]["value"] == pytest.approx(expected.min())
    assert client.get(_url(world.p1, "/data") + "?panel=sum&panel=nope").status_code == 404
    np.testing.assert_allclose(one["line"]["series"][0]["v"], expected[1:3])


def test_filters_by_tag_and_metadata_restrict_every_panel(world, api_for, alice):
    for day in range(4):
        _push(world.p1, day, tags=["even" if day % 2 == 0 else "odd"], metadata={"day": day})
    spec = {
        "tabs": [
            {
                "id": "t",
                "title": "T",
                "panels": [
                    _line(id="line"),
                    {"id": "status", "type": "test_status", "title": "S", "period": "day"},
                    {"id": "counts", "type": "test_counts", "title": "C"},
                ],
            }
        ]
    }
    client = api_for(alice)
    client.put(_url(world.p1), spec, format="json")
    evens = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "all", "tag": "even"})
    panels = evens.json()["panels"]
    even_times = [(START + timedelta(days=d)).timestamp() for d in (0, 2)]
    assert panels["line"]["series"][0]["t"] == even_times
    midnights = [(START.replace(hour=0) + timedelta(days=d)).timestamp() for d in (0, 2)]
    assert panels["status"]["t"] == midnights  # per day
    assert panels["counts"]["snapshots"] == 2
    # The page's filter boxes: tags comma-separated, metadata pairs space-separated.
    boxes = client.get(
        _url(world.p1, "/data"), {"tab": "t", "range": "all", "tag": "even, odd", "meta": "day=2"}
    )
    assert boxes.json()["window"]["tags"] == ["even", "odd"]
    assert boxes.json()["panels"]["line"]["series"][0]["t"] == []  # no snapshot has both tags
    both = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "all", "meta": "day=2 x=1"})
    assert both.json()["window"]["metadata"] == {"day": "2", "x": "1"}
    by_meta = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "all", "meta.day": "3"})
    assert by_meta.json()["panels"]["line"]["series"][0]["t"] == [
        (START + timedelta(days=3)).timestamp()
    ]
    bad = client.get(_url(world.p1, "/data"), {"tab": "t", "meta.a b": "1"})
    assert bad.status_code == 400
    assert client.get(_url(world.p1, "/data"), {"range": "fortnight"}).status_code == 400
    assert (
        client.get(
            _url(world.p1, "/data"),
            {"range": "custom", "since": "2026-10-05", "until": "2026-10-01"},
        ).status_code
        == 400
    )
    assert client.get(_url(world.p1, "/data"), {"since": "yesterday"}).status_code == 400


def test_test_panels_count_the_snapshots_tests(world, api_for, alice):
    snapshots = [_push(world.p1, day) for day in range(3)]
    spec = {
        "tabs": [
            {
                "id": "t",
                "title": "T",
                "panels": [
                    {"id": "status", "type": "test_status", "title": "S", "period": "day"},
                    {"id": "counts", "type": "test_counts", "title": "C"},
                    {
                        "id": "mean-only",
                        "type": "test_status",
                        "title": "Mean test",
                        "period": "week",
                        "tests": ['TestColumnMean(column="age",condition={"gt":50})'],
                    },
                ],
            }
        ]
    }
    client = api_for(alice)
    client.put(_url(world.p1), spec, format="json")
    panels = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "all"}).json()["panels"]
    for status in ("SUCCESS", "FAIL"):
        assert panels["status"][status] == [s.test_counts[status] for s in snapshots]
        assert panels["counts"]["totals"][status] == sum(s.test_counts[status] for s in snapshots)
    latest = panels["counts"]["latest"]
    assert latest["snapshot"] == str(snapshots[-1].uuid)
    assert [p["status"] for p in latest["problems"]] == ["FAIL"]
    assert "Mean of 'age'" in latest["problems"][0]["description"]
    assert sum(panels["mean-only"]["FAIL"]) == 3
    assert sum(panels["mean-only"]["SUCCESS"]) == 0


def test_distribution_panels_read_histograms_of_the_snapshots(world, api_for, alice):
    snapshots = [_push(world.p1, day) for day in range(3)]
    metric = 'ColumnDistribution(bins=20,column="age",top=20)'
    spec = {
        "tabs": [
            {
                "id": "t",
                "title": "T",
                "panels": [{"id": "d", "type": "distribution", "title": "Age", "metric": metric}],
            }
        ]
    }
    client = api_for(alice)
    client.put(_url(world.p1), spec, format="json")
    data = client.get(_url(world.p1, "/data"), {"tab": "t", "range": "all"}).json()["panels"]["d"]
    assert [c["snapshot"] for c in data["columns"]] == [str(s.uuid) for s in snapshots]
    for column, snapshot in zip(data["columns"], snapshots, strict=True):
        document = json.loads(snapshot.document.text())
        dist = next(m for m in document["metrics"] if m["id"] == metric)["distribution"]
        assert column["counts"] == dist["current"]
        assert column["edges"] == dist["edges"]
        assert column["reference"] == dist["reference"]


def test_the_editor_choices_list_the_projects_metrics_and_tests(world, api_for, vera):
    _push(world.p1, 0)
    choices = api_for(vera).get(_url(world.p1, "/choices")).json()
    metrics = {m["metric"]: m for m in choices["metrics"]}
    assert AGE_MEAN[1] in metrics[AGE_MEAN[0]]["fields"]
    assert metrics[AGE_MEAN[0]]["params"] == {"column": "age"}
    assert 'ColumnDistribution(bins=20,column="age",top=20)' in choices["distributions"]
    assert {t["name"] for t in choices["tests"]} == {"Mean of 'age'", "Row count"}


def test_viewers_read_but_do_not_change_dashboards(world, api_for, vera):
    client = api_for(vera)
    assert client.get(_url(world.p1)).status_code == 200
    assert client.get(_url(world.p1, "/data")).status_code == 200
    assert client.put(_url(world.p1), {"tabs": []}, format="json").status_code == 403
    assert (
        client.post(_url(world.p1, "/panels"), {"panel": _line()}, format="json").status_code == 403
    )
    assert not Dashboard.objects.exists()


@pytest.mark.parametrize(
    ("method", "rest"),
    [
        ("get", ""),
        ("put", ""),
        ("post", "/panels"),
        ("delete", "/panels/p-1"),
        ("get", "/presets"),
        ("post", "/presets"),
        ("get", "/data"),
        ("get", "/choices"),
    ],
)
def test_an_outsider_or_a_restricted_member_gets_404(world, api_for, charlie, bob, method, rest):
    _push(world.p1, 0)
    _push(world.p2, 0)
    body = {"tabs": [], "panel": _line(), "presets": ["data_drift"]}
    outsider = getattr(api_for(charlie), method)(_url(world.p1, rest), body, format="json")
    assert outsider.status_code == 404
    restricted = getattr(api_for(bob), method)(_url(world.p2, rest), body, format="json")
    assert restricted.status_code == 404  # P2 is restricted to a team bob is not in
    ingest_only = getattr(api_for(token=world.ingest), method)(
        _url(world.p2, rest), body, format="json"
    )
    assert ingest_only.status_code == 404


def test_clean_spec_fills_in_defaults():
    spec = clean_spec(
        {"tabs": [{"title": "A", "panels": [{"type": "text", "title": "x", "text": "y"}]}]}
    )
    tab = spec["tabs"][0]
    assert tab["id"].startswith("t-")
    assert tab["panels"][0]["id"].startswith("p-")
    assert tab["panels"][0]["size"] == "half"


def _one_panel(panel: dict) -> bytes:
    """A dashboard of one tab holding `panel`, as a request body."""
    return json.dumps({"tabs": [{"title": "t", "panels": [panel]}]}).encode()


HOSTILE = [
    ("put", "", b"{not json", "application/json"),
    ("put", "", b"tabs=1", "application/x-www-form-urlencoded"),
    (
        "put",
        "",
        b'{"tabs": [{"title": "x", "panels": [{"type": "line", "title": "' + b"y" * 300 + b'"}]}]}',
        "application/json",
    ),
    ("put", "", json.dumps({"tabs": [], "version": "1"}).encode(), "application/json"),
    ("put", "", json.dumps({"tabs": [], "version": -1}).encode(), "application/json"),
    (
        "put",
        "",
        _one_panel({"type": "text", "title": "t", "text": "x" * 300_000}),
        "application/json",
    ),
    (
        "put",
        "",
        json.dumps({"tabs": [{"id": "../../etc", "title": "t", "panels": []}]}).encode(),
        "application/json",
    ),
    (
        "put",
        "",
        _one_panel({"type": "line", "title": "t", "series": [{"metric": "m", "field": "f"}] * 11}),
        "application/json",
    ),
    (
        "put",
        "",
        _one_panel(
            {
                "type": "line",
                "title": "t",
                "series": [{"metric": "m", "field": "f"}],
                "thresholds": [{"value": 1e400}],
            }
        ).replace(b"Infinity", b"1e400"),
        "application/json",
    ),
    # An integer beyond 64 bits, which the document's size check could not write (found by the
    # fuzzing gate, tests/test_fuzz_api.py), at the top and inside a panel.
    ("put", "", json.dumps({"tabs": [], "x": 2**64}).encode(), "application/json"),
    (
        "put",
        "",
        _one_panel({"type": "text", "title": "t", "text": "x", "width": -(2**70)}),
        "application/json",
    ),
    ("post", "/panels", b"[1, 2]", "application/json"),
    ("post", "/panels", json.dumps({"tab": ["x"], "panel": {}}).encode(), "application/json"),
    ("post", "/panels", json.dumps({"tab": "x" * 100, "panel": {}}).encode(), "application/json"),
    ("post", "/presets", json.dumps({"presets": "data_drift"}).encode(), "application/json"),
    ("post", "/presets", json.dumps({"presets": [1]}).encode(), "application/json"),
]


@pytest.mark.parametrize("case", range(len(HOSTILE)))
def test_hostile_writes_get_a_4xx_json_error_and_change_nothing(world, api_for, bob, case):
    method, rest, body, content_type = HOSTILE[case]
    response = getattr(api_for(bob), method)(_url(world.p1, rest), body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content[:300]
    payload = response.json()
    assert payload["error"]
    assert payload["detail"]
    assert not Dashboard.objects.exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": "forever"}, "range"),
        ({"range": "custom", "since": "\x00"}, "since"),
        ({"range": "custom", "until": "2026-13-45"}, "until"),
        ({"tag": "x" * 101}, "tag"),
        ({"meta.a__contains": "x"}, "meta.a__contains"),
        ({"meta.a b": "x"}, "meta.a b"),
        ({"meta": "a__b=1"}, "meta.a__b"),
    ],
)
def test_hostile_data_queries_name_the_parameter(world, api_for, alice, params, field):
    response = api_for(alice).get(_url(world.p1, "/data"), params)
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["fields"]


def test_unknown_tabs_and_panels_are_404(world, api_for, alice):
    client = api_for(alice)
    assert client.get(_url(world.p1, "/data"), {"tab": "nope"}).status_code == 404
    assert client.get(_url(world.p1, "/data"), {"panel": "x" * 5000}).status_code == 404


def test_an_unsaved_default_dashboard_serves_its_own_tabs(world, api_for, alice):
    # Ingested but not processed yet: no dashboard saved, the default is shown. The ids the page
    # reads must be the ones its data requests name.
    ingest_snapshot(world.p1, json.dumps(snapshot_document()).encode())
    client = api_for(alice)
    first, second = client.get(_url(world.p1)).json(), client.get(_url(world.p1)).json()
    assert first == second
    assert first["version"] == 0
    tab = first["tabs"][1]
    data = client.get(_url(world.p1, "/data"), {"tab": tab["id"], "range": "all"})
    assert data.status_code == 200
    assert set(data.json()["panels"]) == {p["id"] for p in tab["panels"]}
    # Adding a pre-built tab again under another title keeps every id unique.
    client.put(_url(world.p1), {"tabs": [{**tab, "title": "Renamed"}]}, format="json")
    added = client.post(_url(world.p1, "/presets"), {"presets": ["data_drift"]}, format="json")
    assert added.status_code == 201, added.json()
    ids = [t["id"] for t in added.json()["tabs"]]
    assert len(set(ids)) == 2
