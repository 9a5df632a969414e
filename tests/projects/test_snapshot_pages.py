"""The snapshot viewer shows a real snapshot's drift, tests, distributions, metrics, tags and
metadata as the document says; the list filters and links to it; foreign and malformed ids are 404.

Expected values are read from the stored JSON document here, not from the page's view model."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from metrics import (
    ColumnDrift,
    DataDriftPreset,
    DataSummaryPreset,
    Report,
    TestColumnMean,
    TestColumnMissingShare,
    TestRowCount,
)
from projects.ingestion import ingest_snapshot
from projects.models import Project, Snapshot
from projects.snapshot_report import build_report
from tests.factories import make_project, make_team, snapshot_document
from tests.projects.test_remote_end_to_end import preset_cases

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 1, 6, tzinfo=UTC)


# ---- a small DOM, enough to find elements by their attributes --------------------------------------


class Element:
    children: list[Element]
    parts: list[str]

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.children, self.parts = tag, attrs, [], []

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())

    def matches(self, tag: str | None, attrs: dict[str, str | None]) -> bool:
        """`class_` holds classes the element has; `data_x=None` asks only that data-x is set."""
        if tag is not None and self.tag != tag:
            return False
        for name, value in attrs.items():
            attribute = name.rstrip("_").replace("_", "-")
            if attribute not in self.attrs:
                return False
            if attribute == "class" and value is not None:
                if not set(value.split()) <= set(self.attrs["class"].split()):
                    return False
            elif value is not None and self.attrs[attribute] != value:
                return False
        return True

    def find_all(self, tag: str | None = None, **attrs: str | None) -> list[Element]:
        found = []
        for child in self.children:
            if child.matches(tag, attrs):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs: str | None) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]


class _Builder(HTMLParser):
    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.parts.append(data)


def parse(response: Any) -> Element:
    assert response.status_code == 200, response.status_code
    builder = _Builder()
    builder.feed(response.content.decode())
    return builder.root


# ---- documents --------------------------------------------------------------------------------------


def drifting_document(**run: Any) -> dict[str, Any]:
    """A real snapshot in which `age` and `plan` drift and `income` does not, with tests of each
    outcome, tags and metadata."""
    rng = np.random.default_rng(7)

    def frame(rows: int, shift: float, plans: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + shift, 10, rows).round(1),
                "income": rng.lognormal(10, 0.5, rows).round(2),
                "plan": rng.choice(["basic", "plus", "pro"], rows, p=plans),
            }
        )

    reference = frame(600, 0, [0.5, 0.3, 0.2])
    current = frame(400, 12, [0.2, 0.3, 0.5])
    report = Report(
        [
            DataSummaryPreset(),
            DataDriftPreset(),
            TestRowCount(gt=100),
            TestColumnMean(column="age", lt=45),
            TestColumnMissingShare(column="income", gt=0.5, is_critical=False),
        ],
        progress=False,
    )
    return report.run(
        current,
        reference,
        name=run.pop("name", "nightly batch"),
        tags=run.pop("tags", ["prod", "model-v3"]),
        metadata=run.pop("metadata", {"model_version": "3.1.0", "pipeline_run": 1842}),
        timestamp=run.pop("timestamp", START),
    ).dict()


def store(project: Project, document: dict[str, Any]) -> Snapshot:
    return ingest_snapshot(project, json.dumps(document).encode()).snapshot


def viewer_url(project: Project, snapshot_id: Any) -> str:
    return reverse(
        "snapshot_detail", args=[project.organization.slug, project.pk, str(snapshot_id)]
    )


def list_url(project: Project) -> str:
    return reverse("snapshot_list", args=[project.organization.slug, project.pk])


def metrics_of(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in document["metrics"] if m["type"] == kind]


@pytest.fixture
def churn(acme) -> Project:
    return make_project(acme, "Churn")


@pytest.fixture
def drifted(churn) -> tuple[Snapshot, dict[str, Any]]:
    document = drifting_document()
    snapshot = store(churn, document)
    # What the platform keeps is what the page reads: compare against the stored text.
    return snapshot, json.loads(snapshot.document.text())


# ---- the viewer -------------------------------------------------------------------------------------


def test_it_shows_each_columns_drift_with_method_score_and_threshold(
    client_for, alice, churn, drifted
):
    snapshot, document = drifted
    page = parse(client_for(alice).get(viewer_url(churn, snapshot.uuid)))
    drift = metrics_of(document, "ColumnDrift")
    assert {m["params"]["column"] for m in drift} == {"age", "income", "plan"}
    assert any(m["values"]["drifted"] for m in drift), "the data is made to drift"
    assert not all(m["values"]["drifted"] for m in drift), "and not everywhere"
    table = page.find("table", class_="drift-table")
    for metric in drift:
        row = table.find("tr", data_column=metric["params"]["column"])
        assert json.loads(row.find(data_field="score").attrs["data-value"]) == pytest.approx(
            metric["values"]["score"]
        )
        assert (
            json.loads(row.find(data_field="threshold").attrs["data-value"])
            == (metric["values"]["threshold"])
        )
        assert (
            json.loads(row.find(data_field="drifted").attrs["data-value"])
            is (metric["values"]["drifted"])
        )
        assert metric["details"]["method_title"] in row.find("td", class_="method").text
        assert metric["details"]["column_type"] in row.text
        assert ("Drifted" in row.text) is metric["values"]["drifted"]
    # The dataset's verdict: how many columns drifted, against which share.
    (dataset,) = metrics_of(document, "DatasetDrift")
    verdict = page.find("p", data_metric=dataset["id"])
    count = verdict.find("strong")
    assert json.loads(count.attrs["data-value"]) == dataset["values"]["drifted_columns"]
    assert count.text == str(sum(m["values"]["drifted"] for m in drift))
    assert ("No dataset drift" in verdict.text) is not dataset["values"]["dataset_drift"]


def test_it_shows_the_tests_with_their_status_and_sentence(client_for, alice, churn, drifted):
    snapshot, document = drifted
    page = parse(client_for(alice).get(viewer_url(churn, snapshot.uuid)))
    statuses = {t["status"] for t in document["tests"]}
    assert {"SUCCESS", "FAIL", "WARNING"} <= statuses
    shown = page.find("ul", class_="test-list").find_all("li")
    assert len(shown) == len(document["tests"])
    for test in document["tests"]:
        (item,) = [li for li in shown if test["description"] in li.text]
        assert item.attrs["data-test-status"] == test["status"]
        assert f"test-{test['status'].lower()}" in item.attrs["class"]
        assert test["name"] in item.find("p", class_="test-name").text
        assert ("non-critical" in item.text) is (not test["critical"])
    # Failures come first: they are what a reader came for.
    assert shown[0].attrs["data-test-status"] == "FAIL"


def test_it_shows_tags_and_metadata_and_links_them_to_the_filtered_list(
    client_for, alice, churn, drifted
):
    snapshot, document = drifted
    store(churn, drifting_document(tags=["staging"], metadata={"model_version": "2.0"}))
    client = client_for(alice)
    page = parse(client.get(viewer_url(churn, snapshot.uuid)))
    labels = page.find("section", id="labels")
    assert [a.text for a in labels.find_all("a", class_="chip")] == document["tags"]
    for key, value in document["metadata"].items():
        cell = labels.find("dd", data_key=key)
        assert json.loads(cell.attrs["data-value"]) == value
        assert cell.text == str(value)
        # Following the value lists the snapshots that share it, and only those.
        listed = parse(client.get(cell.find("a").attrs["href"]))
        assert [
            row.attrs["data-snapshot"] for row in listed.find_all("tr", data_snapshot=None)
        ] == [str(snapshot.uuid)]
    tagged = parse(client.get(labels.find("a", data_tag="prod").attrs["href"]))
    assert [row.attrs["data-snapshot"] for row in tagged.find_all("tr", data_snapshot=None)] == [
        str(snapshot.uuid)
    ]


def test_it_embeds_each_distribution_with_its_counts(client_for, alice, churn, drifted):
    snapshot, document = drifted
    response = client_for(alice).get(viewer_url(churn, snapshot.uuid))
    page = parse(response)
    embedded = json.loads(page.find("script", id="snapshot-charts").text)
    distributions = [m for m in document["metrics"] if "distribution" in m]
    assert {m["params"]["column"] for m in distributions} >= {"age", "plan"}
    assert len(embedded) == len(distributions)
    for metric in distributions:
        figure = page.find("figure", data_metric=metric["id"])
        chart = embedded[figure.find("div", class_="chart").attrs["data-chart"]]
        expected = metric["distribution"]
        assert chart["kind"] == expected["kind"]
        assert chart["current"] == expected["current"]
        assert chart["reference"] == expected["reference"]
        if expected["kind"] == "histogram":
            assert chart["edges"] == pytest.approx(expected["edges"])
        else:
            assert chart["bins"] == expected["labels"]
        assert metric["params"]["column"] in figure.find("figcaption").text
        assert f"{sum(expected['current'])} current" in figure.find("figcaption").text
        # The counts are on the page too, for screen readers and for reading exact numbers.
        assert len(figure.find("table").find_all("tr")) == len(expected["current"]) + 1
    # The page loads the chart library and its script.
    assert "vendor/uplot/uPlot.iife.min.js" in response.content.decode()
    assert "js/snapshot.js" in response.content.decode()


def test_it_shows_other_metrics_as_tables_of_their_values(client_for, alice, churn, drifted):
    snapshot, document = drifted
    page = parse(client_for(alice).get(viewer_url(churn, snapshot.uuid)))
    (summary,) = [
        m for m in metrics_of(document, "ColumnSummary") if m["params"]["column"] == "age"
    ]
    block = page.find("div", data_metric=summary["id"])
    mean = block.find("tr", data_field="mean").find_all("td")
    assert json.loads(mean[0].attrs["data-value"]) == summary["values"]["current"]["mean"]
    assert json.loads(mean[1].attrs["data-value"]) == summary["values"]["reference"]["mean"]
    groups = {d.attrs["data-type"] for d in page.find_all("details", class_="metric-group")}
    assert "DatasetSummary" in groups
    # Drift metrics are in the drift table, distributions in their charts: not listed twice.
    assert not groups & {"ColumnDrift", "DatasetDrift", "ColumnDistribution"}


def test_a_skipped_metric_shows_its_reason(client_for, alice, churn):
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"age": rng.normal(40, 10, 100), "plan": rng.choice(["a", "b"], 100)})
    document = Report([DataSummaryPreset(), DataDriftPreset()], progress=False).run(data).dict()
    snapshot = store(churn, document)
    page = parse(client_for(alice).get(viewer_url(churn, snapshot.uuid)))
    skipped = [m for m in document["metrics"] if m["status"] == "skipped"]
    assert skipped, "drift needs a reference"
    table = page.find("table", class_="drift-table")
    for metric in metrics_of(document, "ColumnDrift"):
        row = table.find("tr", data_column=metric["params"]["column"])
        assert metric["reason"] in row.text
    (dataset,) = metrics_of(document, "DatasetDrift")
    assert dataset["reason"] in page.find("p", data_metric=dataset["id"]).text


def test_an_unknown_or_failed_metric_keeps_its_place(client_for, alice, churn):
    document = snapshot_document()
    document["metrics"].append(
        {
            "id": 'FutureMetric(column="age")',
            "type": "FutureMetric",
            "params": {"column": "age"},
            "status": "ok",
            "values": {"current": {"novelty": 0.25}},
        }
    )
    document["metrics"].append(
        {
            "id": 'ColumnQuantile(column="plan",quantile=0.5)',
            "type": "ColumnQuantile",
            "params": {"column": "plan", "quantile": 0.5},
            "status": "error",
            "values": {},
            "reason": "Column 'plan' is categorical; quantiles need numbers.",
        }
    )
    snapshot = store(churn, document)
    page = parse(client_for(alice).get(viewer_url(churn, snapshot.uuid)))
    future = page.find("div", data_metric='FutureMetric(column="age")')
    assert (
        json.loads(future.find("tr", data_field="novelty").find("td").attrs["data-value"]) == 0.25
    )
    failed = page.find("div", data_metric='ColumnQuantile(column="plan",quantile=0.5)')
    assert "quantiles need numbers" in failed.text
    assert "error" in failed.find("h3").text


@pytest.mark.parametrize("case", preset_cases(), ids=lambda case: case[0])
def test_it_reads_the_snapshot_of_every_preset(client_for, alice, churn, case):
    _, items, (reference, current), definition = case
    document = Report(items, definition=definition, progress=False).run(current, reference).dict()
    snapshot = store(churn, document)
    page = parse(client_for(alice).get(viewer_url(churn, snapshot.uuid)))
    # Every metric is somewhere: in the drift table, as a chart, or among the metric tables.
    shown = {e.attrs["data-metric"] for e in page.find_all(data_metric=None)}
    drift_rows = {r.attrs["data-column"] for r in page.find_all("tr", data_column=None)}
    for metric in document["metrics"]:
        if metric["type"] in ("ColumnDrift", "EmbeddingsDrift"):
            column = metric["params"].get("column") or metric["params"].get("embeddings")
            assert column in drift_rows, metric["id"]
        else:
            assert metric["id"] in shown, metric["id"]
    assert len(page.find_all("li", data_test_status=None)) == len(document["tests"])
    # Each test links to where its metric is shown.
    ids = {e.attrs["id"] for e in page.find_all(id=None)}
    for link in page.find_all("a", class_="test-metric"):
        assert link.attrs["href"].lstrip("#") in ids, link.attrs["href"]


def test_the_viewer_reads_a_handful_of_rows(
    client_for, alice, churn, drifted, django_assert_max_num_queries
):
    snapshot, _ = drifted
    client = client_for(alice)
    client.get(viewer_url(churn, snapshot.uuid))  # the session and the user are warm
    with django_assert_max_num_queries(8):
        assert client.get(viewer_url(churn, snapshot.uuid)).status_code == 200


def test_it_links_to_the_older_and_newer_snapshots(client_for, alice, churn):
    ids = [
        store(churn, snapshot_document(seed=day, timestamp=START + timedelta(days=day))).uuid
        for day in range(3)
    ]
    page = parse(client_for(alice).get(viewer_url(churn, ids[1])))
    assert page.find("a", rel="prev").attrs["href"] == viewer_url(churn, ids[0])
    assert page.find("a", rel="next").attrs["href"] == viewer_url(churn, ids[2])
    first = parse(client_for(alice).get(viewer_url(churn, ids[0])))
    assert not first.find_all("a", rel="prev")


def test_the_project_navigation_marks_the_current_section(client_for, alice, churn, drifted):
    snapshot, _ = drifted
    for url in (list_url(churn), viewer_url(churn, snapshot.uuid)):
        nav = parse(client_for(alice).get(url)).find("nav", class_="subnav")
        links = {a.text: a for a in nav.find_all("a")}
        assert set(links) == {"Dashboard", "Snapshots", "Alerts", "Collectors", "Settings"}
        assert links["Snapshots"].attrs.get("aria-current") == "page"
        assert links["Dashboard"].attrs["href"] == reverse(
            "project_detail", args=[churn.organization.slug, churn.pk]
        )
        assert links["Settings"].attrs["href"] == reverse(
            "project_settings", args=[churn.organization.slug, churn.pk]
        )


# ---- who gets 404 -----------------------------------------------------------------------------------


def test_an_outsider_gets_404(client_for, charlie, globex, churn, drifted):
    snapshot, _ = drifted
    client = client_for(charlie)
    assert client.get(viewer_url(churn, snapshot.uuid)).status_code == 404
    assert client.get(list_url(churn)).status_code == 404
    # Nor through his own organisation's URL.
    url = reverse("snapshot_detail", args=[globex.slug, churn.pk, snapshot.uuid])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("snapshot_id", ["not-a-uuid", "123", str(uuid.uuid4()), "%00"])
def test_a_malformed_or_unknown_snapshot_id_is_a_404(
    client_for, alice, churn, drifted, snapshot_id
):
    url = list_url(churn) + snapshot_id + "/"
    assert client_for(alice).get(url).status_code == 404


def test_a_snapshot_of_another_project_is_404_through_this_projects_url(
    client_for, alice, acme, churn
):
    other = make_project(acme, "Fraud")
    theirs = store(other, snapshot_document())
    client = client_for(alice)
    assert client.get(viewer_url(other, theirs.uuid)).status_code == 200
    assert client.get(viewer_url(churn, theirs.uuid)).status_code == 404


def test_a_member_outside_a_restricted_projects_teams_gets_404(client_for, acme, alice, bob):
    secret = make_project(acme, "Secret", teams=[make_team(acme, "Risk", [alice])])
    snapshot = store(secret, snapshot_document())
    assert client_for(alice).get(viewer_url(secret, snapshot.uuid)).status_code == 200
    assert client_for(bob).get(viewer_url(secret, snapshot.uuid)).status_code == 404


# ---- the list ---------------------------------------------------------------------------------------


@pytest.fixture
def three_days(churn) -> list[Snapshot]:
    found = []
    for day in range(3):
        document = snapshot_document(
            seed=day,
            timestamp=START + timedelta(days=day),
            tags=[f"day{day}", "all"],
            name=f"run {day}",
            metadata={"model": f"v{day % 2}", "run": day},
        )
        found.append(store(churn, document))
    return found


def listed(client: Any, project: Project, **query: Any) -> list[str]:
    page = parse(client.get(list_url(project), query))
    return [row.attrs["data-snapshot"] for row in page.find_all("tr", data_snapshot=None)]


def test_the_list_shows_newest_first_and_links_each_row_to_its_viewer(
    client_for, alice, churn, three_days
):
    client = client_for(alice)
    page = parse(client.get(list_url(churn)))
    rows = page.find_all("tr", data_snapshot=None)
    assert [row.attrs["data-snapshot"] for row in rows] == [
        str(s.uuid) for s in reversed(three_days)
    ]
    for row, snapshot in zip(rows, reversed(three_days), strict=True):
        assert row.find("a").attrs["href"] == viewer_url(churn, snapshot.uuid)
        assert f"run {three_days.index(snapshot)}" in row.text


def test_the_list_filters_by_time_tag_status_and_metadata(client_for, alice, churn, three_days):
    client = client_for(alice)
    ids = [str(s.uuid) for s in three_days]
    assert listed(client, churn, since="2026-11-02") == [ids[2], ids[1]]
    assert listed(client, churn, until="2026-11-02") == [ids[1], ids[0]]
    assert listed(client, churn, since="2026-11-02", until="2026-11-02") == [ids[1]]
    assert listed(client, churn, tag="day1") == [ids[1]]
    assert listed(client, churn, status="FAIL") == [ids[2], ids[1], ids[0]]  # age mean < 50
    assert listed(client, churn, status="SUCCESS") == []
    assert listed(client, churn, **{"meta.model": "v0"}) == [ids[2], ids[0]]
    assert listed(client, churn, **{"meta.run": "1"}) == [ids[1]]  # a number, given as text
    assert listed(client, churn, **{"meta.model": "v0", "tag": "day2"}) == [ids[2]]
    assert listed(client, churn, **{"meta.bad key!": "x"}) == ids[::-1]  # not a key: ignored
    page = parse(client.get(list_url(churn), {"meta.model": "v1"}))
    assert "No snapshot matches" not in page.text
    chip = page.find("a", class_="chip removable")
    assert "model = v1" in chip.text
    # The filter form keeps the metadata filter, and the chip removes it.
    assert page.find("input", name="meta.model").attrs["value"] == "v1"
    assert listed(client, churn, **dict(_pairs(chip.attrs["href"]))) == ids[::-1]
    empty = parse(client.get(list_url(churn), {"tag": "nope"}))
    assert "No snapshot matches these filters." in empty.text


def _pairs(href: str) -> list[tuple[str, str]]:
    return parse_qsl(href.lstrip("?"))


def test_an_empty_project_shows_how_to_push(client_for, bob, churn):
    page = parse(client_for(bob).get(list_url(churn)))
    assert "Push the first snapshot" in page.text
    assert f"--project {churn.pk}" in page.text


def test_drift_rows_state_each_methods_rule() -> None:
    """The drift table's hint follows the method's rule from the snapshot (Evidently's convention:
    KS at or below, chi-square below); snapshots without a rule keep the old one for their kind."""
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 100), "c": rng.choice(list("ab"), 100)})
    current = pd.DataFrame({"x": rng.normal(0, 1, 80), "c": rng.choice(list("abc"), 80)})
    run = Report([ColumnDrift(column="x"), ColumnDrift(column="c", method="chisquare")]).run(
        current, reference
    )
    document = run.dict()
    rows = {row.column: row for row in build_report(document).drift}
    assert rows["x"].rule == "at or below"
    assert rows["c"].rule == "below"
    for metric in document["metrics"]:
        metric["details"].pop("rule")
    rows = {row.column: row for row in build_report(document).drift}
    assert rows["x"].rule == "below"  # an older snapshot: the old rule for a p-value
