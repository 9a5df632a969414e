"""The collector pages: members create and change collectors through the form (checked by
`clean_collector`, errors shown by field), upload a CSV or Parquet reference, run now, disable and
delete; viewers read; outsiders and members kept out by teams get 404."""

from __future__ import annotations

import io
import re

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collector.intake import accept_rows
from collector.models import Collector, ReferenceDataset, Run
from tests.collector.conftest import frame
from tests.factories import make_project, make_snapshot, make_team

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Scoring",
    "presets": ["data_drift", "data_summary"],
    "quality_presets": ["classification"],
    "target": "target",
    "prediction": "prediction",
    "prediction_probas": "",
    "categorical_columns": "plan, prediction",
    "numerical_columns": "",
    "drift_share": "0.3",
    "every_minutes": "30",
    "every_rows": "1000",
    "cron": "",
    "labels_window_hours": "48",
    "retention_hours": "12",
}


PROJECT_PAGES = {"project_collectors", "snapshot_list"}


def page(name: str, collector_or_project) -> str:
    """A project's page, or a collector's (given a collector, its project's for project pages)."""
    project = getattr(collector_or_project, "project", collector_or_project)
    args = [project.organization.slug, project.pk]
    if name not in PROJECT_PAGES:
        args.append(collector_or_project.pk)
    return reverse(name, args=args)


def field_html(body: str, name: str) -> str:
    """The markup of one field of the collector form."""
    start = body.index(f'data-field="{name}"')
    end = min(
        i for i in (body.find("data-field=", start + 1), body.find("</form>", start)) if i > 0
    )
    return body[body.rindex("<div", 0, start) : end]


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def bare(scoring) -> Collector:
    """A collector without a reference."""
    return Collector.objects.create(
        project=scoring,
        name="bare",
        config={"presets": ["data_drift"], "quality_presets": [], "definition": {}},
        every_rows=500,
    )


def _csv_upload(name: str = "reference.csv") -> SimpleUploadedFile:
    data = frame(40, seed=4).drop(columns=["prediction_id", "timestamp"])
    return SimpleUploadedFile(name, data.to_csv(index=False).encode(), "text/csv")


# ---- reading -------------------------------------------------------------------------------------


def test_the_pages_render_for_members_and_viewers(client_for, collector, alice, bob, vera):
    urls = [page("project_collectors", collector), page("collector_detail", collector)]
    for user in (alice, bob):
        for url in urls:
            body = client_for(user).get(url).content.decode()
            assert "live" in body, url
    listing = client_for(bob).get(urls[0]).content.decode()
    assert "every 60 minutes" in listing
    assert "5000 rows \u00d7 4 columns" in listing
    assert "New collector" in listing
    detail = client_for(bob).get(urls[1]).content.decode()
    for offer in ("Run now", "Disable", "Upload", "Delete collector", ">Save<"):
        assert offer in detail, offer
    assert f"POST /api/v1/collectors/{collector.pk}/data" in detail
    assert "from metrics import CollectorClient" in detail
    assert f'href="{reverse("org_tokens", args=[collector.project.organization.slug])}"' in detail
    viewer = client_for(vera)
    for url in urls:
        response = viewer.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "live" in body
        assert 'enctype="multipart/form-data"' not in body
        for offer in ("New collector", "Run now", "Disable", "Delete collector", ">Save<"):
            assert offer not in body, (url, offer)
        assert body.count('method="post"') == 1  # signing out, nothing else


def test_the_navigation_leads_to_the_collectors(client_for, collector, bob):
    project = collector.project
    dashboard = client_for(bob).get(page("snapshot_list", project)).content.decode()
    assert f'href="{page("project_collectors", project)}">Collectors' in dashboard
    for url in (page("project_collectors", project), page("collector_detail", collector)):
        body = client_for(bob).get(url).content.decode()
        assert (
            f'href="{page("project_collectors", project)}" aria-current="page">Collectors' in body
        )


def test_the_detail_page_shows_the_buffer_and_the_runs(client_for, collector, bob):
    accept_rows(collector, frame(7, seed=5).to_json(orient="records").encode(), "application/json")
    snapshot = make_snapshot(collector.project)
    run = Run.objects.create(
        collector=collector,
        rows=120,
        window_start=snapshot.timestamp,
        window_end=snapshot.timestamp,
        snapshot=snapshot,
        labels_due_at=snapshot.timestamp,
        labelled_rows=80,
    )
    body = client_for(bob).get(page("collector_detail", collector)).content.decode()
    buffer = body[body.index('data-testid="buffer"') :]
    assert re.search(r"<dt>Pending rows</dt><dd>7</dd>", buffer)
    assert re.search(r"<dt>Pending batches</dt><dd>1</dd>", buffer)
    runs = body[body.index('data-testid="runs"') :]
    assert f'data-run="{run.pk}"' in runs
    assert (
        reverse(
            "snapshot_detail",
            args=[collector.project.organization.slug, collector.project.pk, snapshot.uuid],
        )
        in runs
    )
    assert '<td class="num">80</td>' in runs


# ---- creating and changing -----------------------------------------------------------------------


def test_a_member_creates_a_collector_through_the_form(client_for, scoring, bob):
    response = client_for(bob).post(page("project_collectors", scoring), FORM)
    collector = Collector.objects.get(project=scoring)
    assert response.status_code == 302
    assert response["Location"] == page("collector_detail", collector) + "#reference"
    assert collector.name == "Scoring"
    assert collector.config == {
        "presets": ["data_drift", "data_summary"],
        "quality_presets": ["classification"],
        "definition": {
            "target": "target",
            "prediction": "prediction",
            "categorical_columns": ["plan", "prediction"],
        },
        "drift_share": 0.3,
    }
    assert (collector.every_minutes, collector.every_rows, collector.cron) == (30, 1000, "")
    assert (collector.labels_window_hours, collector.retention_hours) == (48, 12)
    assert collector.enabled
    listing = client_for(bob).get(page("project_collectors", scoring)).content.decode()
    assert "every 30 minutes or every 1,000 rows, whichever comes first" in listing


def test_one_probability_column_is_a_binary_models(client_for, scoring, bob):
    form = {**FORM, "prediction": "", "prediction_probas": " score ", "cron": "*/15 * * * *"}
    client_for(bob).post(page("project_collectors", scoring), form)
    collector = Collector.objects.get(project=scoring)
    assert collector.config["definition"]["prediction_probas"] == "score"
    assert collector.cron == "*/15 * * * *"
    client_for(bob).post(
        page("collector_detail", collector), {**form, "prediction_probas": "p_a, p_b,p_c"}
    )
    collector.refresh_from_db()
    assert collector.config["definition"]["prediction_probas"] == ["p_a", "p_b", "p_c"]


def test_errors_are_shown_by_field_and_nothing_is_stored(client_for, scoring, bob):
    client = client_for(bob)
    url = page("project_collectors", scoring)
    no_trigger = client.post(url, {**FORM, "every_minutes": "", "every_rows": ""})
    assert no_trigger.status_code == 200
    body = no_trigger.content.decode()
    assert "has-error" in field_html(body, "every_minutes")
    assert "Set a trigger: every N minutes, every N rows, or a cron expression." in field_html(
        body, "every_minutes"
    )
    bad = client.post(
        url,
        {**FORM, "cron": "every tuesday", "drift_share": "2", "presets": [], "name": " "},
    ).content.decode()
    assert "Not a cron expression" in field_html(bad, "cron")
    assert "Expected a number in (0, 1]." in field_html(bad, "drift_share")
    assert "Choose at least one preset." in field_html(bad, "presets")
    assert "has-error" in field_html(bad, "name")
    assert "has-error" not in field_html(bad, "every_minutes")
    assert 'value="every tuesday"' in bad  # the input stays on the form
    unknown = client.post(url, {**FORM, "presets": ["data_drift", "astrology"]}).content.decode()
    assert "Select a valid choice" in field_html(unknown, "presets")
    too_many = client.post(url, {**FORM, "every_minutes": "0"}).content.decode()
    assert "Expected a whole number from 1 to 10,080." in field_html(too_many, "every_minutes")
    assert not Collector.objects.filter(project=scoring).exists()


def test_editing_keeps_what_the_form_does_not_show(client_for, collector, bob):
    collector.config["definition"]["text_columns"] = ["comment"]
    collector.config["pos_label"] = 1
    collector.save()
    client = client_for(bob)
    url = page("collector_detail", collector)
    form = client.get(url).content.decode()
    assert 'value="plan, prediction"' in field_html(form, "categorical_columns")
    response = client.post(
        url,
        {
            **FORM,
            "name": "live v2",
            "target": "",
            "categorical_columns": "plan",
            "every_minutes": "",
            "every_rows": "",
            "cron": "0 * * * *",
        },
    )
    assert response.status_code == 302
    collector.refresh_from_db()
    assert collector.name == "live v2"
    assert collector.config["definition"] == {
        "prediction": "prediction",
        "categorical_columns": ["plan"],
        "text_columns": ["comment"],
    }
    assert collector.config["pos_label"] == 1
    assert (collector.every_minutes, collector.every_rows, collector.cron) == (
        None,
        None,
        "0 * * * *",
    )
    page_after = client.get(url).content.decode()
    assert "on the cron schedule 0 * * * * (UTC)" in page_after
    refused = client.post(url, {**FORM, "cron": "61 * * * *"}).content.decode()
    assert "Not a cron expression" in field_html(refused, "cron")
    collector.refresh_from_db()
    assert collector.cron == "0 * * * *"


def test_a_member_disables_enables_and_deletes_with_the_name(client_for, collector, bob):
    client = client_for(bob)
    client.post(page("collector_enable", collector), {"enabled": "0"})
    collector.refresh_from_db()
    assert not collector.enabled
    client.post(page("collector_enable", collector), {"enabled": "1"})
    collector.refresh_from_db()
    assert collector.enabled
    wrong = client.post(page("collector_delete", collector), {"confirm": "Live"}, follow=True)
    assert "Type the collector&#x27;s name, live, to confirm." in wrong.content.decode()
    assert Collector.objects.filter(pk=collector.pk).exists()
    done = client.post(page("collector_delete", collector), {"confirm": "live"}, follow=True)
    assert done.redirect_chain[-1][0] == page("project_collectors", collector.project)
    assert not Collector.objects.filter(pk=collector.pk).exists()


# ---- the reference -------------------------------------------------------------------------------


def test_a_csv_reference_is_uploaded_and_summarised(client_for, bare, bob):
    response = client_for(bob).post(
        page("collector_reference", bare), {"file": _csv_upload("scores.csv")}, follow=True
    )
    (reference,) = ReferenceDataset.objects.filter(collector=bare)
    assert reference.rows == 40
    assert reference.columns == {
        "x": "numerical",
        "y": "numerical",
        "plan": "categorical",
        "prediction": "numerical",
    }
    assert "Uploaded scores.csv: 40 rows, 4 columns." in messages_of(response)
    body = response.content.decode()
    columns = body[body.index('data-testid="reference-columns"') :]
    assert "<td><code>x</code></td><td>numerical</td>" in columns
    assert "<td><code>plan</code></td><td>categorical</td>" in columns
    assert "scores.csv" in body


def test_a_parquet_reference_replaces_the_current_one(client_for, collector, bob):
    data = pd.DataFrame({"age": [31.0, 42.5, 57.0], "city": ["Oslo", "Lima", "Oslo"]})
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), sink)
    upload = SimpleUploadedFile("ages.parquet", sink.getvalue(), "application/octet-stream")
    response = client_for(bob).post(
        page("collector_reference", collector), {"file": upload}, follow=True
    )
    current = ReferenceDataset.objects.get(collector=collector, current=True)
    assert (current.filename, current.rows) == ("ages.parquet", 3)
    assert current.columns == {"age": "numerical", "city": "categorical"}
    assert ReferenceDataset.objects.filter(collector=collector).count() == 2
    body = response.content.decode()
    assert "<td><code>city</code></td><td>categorical</td>" in body
    assert "<td><code>plan</code></td>" not in body


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        (
            "broken.parquet",
            b"PAR1 not really",
            "broken.parquet: The Parquet file could not be read",
        ),
        ("empty.csv", b"", "empty.csv: The body is empty"),
        ("header.csv", b"a,b\n", "header.csv: The reference has no rows."),
        ("scores.xlsx", b"a,b\n1,2\n", "scores.xlsx: upload a .csv or a .parquet file."),
    ],
)
def test_a_bad_file_shows_the_error_and_stores_nothing(
    client_for, collector, bob, name, content, error
):
    before = list(ReferenceDataset.objects.filter(collector=collector).values_list("pk", "current"))
    upload = SimpleUploadedFile(name, content, "application/octet-stream")
    response = client_for(bob).post(
        page("collector_reference", collector), {"file": upload}, follow=True
    )
    assert error in messages_of(response)
    after = list(ReferenceDataset.objects.filter(collector=collector).values_list("pk", "current"))
    assert after == before


def test_an_oversized_or_missing_file_is_refused(client_for, bare, bob, settings):
    settings.COLLECTOR_MAX_BODY_BYTES = 100
    client = client_for(bob)
    big = client.post(page("collector_reference", bare), {"file": _csv_upload()}, follow=True)
    assert "at most 100 are accepted" in messages_of(big)
    missing = client.post(page("collector_reference", bare), {}, follow=True)
    assert "Choose a CSV or Parquet file to upload." in messages_of(missing)
    assert not ReferenceDataset.objects.filter(collector=bare).exists()


# ---- running -------------------------------------------------------------------------------------


def test_run_now_queues_a_run_of_the_pending_rows(
    client_for, collector, bob, django_capture_on_commit_callbacks
):
    accept_rows(collector, frame(25, seed=6).to_json(orient="records").encode(), "application/json")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client_for(bob).post(page("collector_run", collector), follow=True)
    assert len(queued) == 1
    assert "Queued a run over 25 pending rows" in messages_of(response)
    assert not Run.objects.filter(collector=collector).exists()  # a worker computes it


def test_run_now_refuses_politely_when_there_is_nothing_to_run(
    client_for, collector, bare, bob, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        empty = client.post(page("collector_run", collector), follow=True)
        no_reference = client.post(page("collector_run", bare), follow=True)
        collector.enabled = False
        collector.save()
        disabled = client.post(page("collector_run", collector), follow=True)
    assert not queued
    assert "No rows are waiting: send some first, then run." in messages_of(empty)
    assert "Upload a reference dataset first" in messages_of(no_reference)
    assert "live is disabled: enable it to run it." in messages_of(disabled)


# ---- who may -------------------------------------------------------------------------------------


def _every_page(collector) -> list[tuple[str, str]]:
    """(method, url) of every collector page."""
    return [
        ("get", page("project_collectors", collector)),
        ("post", page("project_collectors", collector)),
        ("get", page("collector_detail", collector)),
        ("post", page("collector_detail", collector)),
        ("post", page("collector_enable", collector)),
        ("post", page("collector_delete", collector)),
        ("post", page("collector_reference", collector)),
        ("post", page("collector_run", collector)),
    ]


def _state(collector) -> tuple:
    return (
        list(Collector.objects.values_list("pk", "name", "enabled", "config", "every_minutes")),
        list(ReferenceDataset.objects.values_list("pk", "current")),
        Run.objects.count(),
    )


def test_a_viewer_cannot_change_anything(client_for, collector, vera):
    before = _state(collector)
    client = client_for(vera)
    for method, url in _every_page(collector):
        if method == "post":
            body = {**FORM, "enabled": "0", "confirm": "live", "file": _csv_upload()}
            assert client.post(url, body).status_code == 403, url
    assert _state(collector) == before


def test_an_outsider_gets_404_for_every_page(client_for, collector, charlie, globex):
    before = _state(collector)
    client = client_for(charlie)
    for method, url in _every_page(collector):
        body = {**FORM, "enabled": "0", "confirm": "live", "file": _csv_upload()}
        response = client.get(url) if method == "get" else client.post(url, body)
        assert response.status_code == 404, (method, url)
    # Not through his own organisation's URL either.
    foreign = reverse("collector_detail", args=[globex.slug, collector.project.pk, collector.pk])
    assert client.get(foreign).status_code == 404
    assert _state(collector) == before


def test_a_member_kept_out_by_teams_gets_404(client_for, collector, alice, bob, acme):
    collector.project.teams.add(make_team(acme, "Others", [alice]))
    before = _state(collector)
    client = client_for(bob)
    for method, url in _every_page(collector):
        body = {**FORM, "enabled": "0", "confirm": "live", "file": _csv_upload()}
        response = client.get(url) if method == "get" else client.post(url, body)
        assert response.status_code == 404, (method, url)
    assert _state(collector) == before


def test_a_collector_is_not_found_under_another_project(client_for, collector, acme, alice):
    other = make_project(acme, "Other")
    url = reverse("collector_detail", args=[acme.slug, other.pk, collector.pk])
    assert client_for(alice).get(url).status_code == 404
    assert client_for(alice).get(url.replace(str(collector.pk), "not-a-uuid")).status_code == 404


def test_the_example_row_on_the_page_is_accepted_by_the_intake(
    client_for, api_for, collector, bob, ingest_secret
):
    import html
    import json

    url = reverse(
        "collector_detail",
        args=[collector.project.organization.slug, collector.project.pk, collector.pk],
    )
    page = html.unescape(client_for(bob).get(url).content.decode())
    example = re.search(r"-d '(\[\{\"prediction_id\": \"p-1\".*?\}\])'", page)
    assert example, "no curl example of rows on the page"
    rows = json.loads(example.group(1))
    response = api_for(token=ingest_secret).post(
        f"/api/v1/collectors/{collector.pk}/data", rows, format="json"
    )
    assert response.status_code == 202, response.content
