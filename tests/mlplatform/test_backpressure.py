"""Past its limit of pushes in flight, a web process answers 503 with Retry-After at once; the
client library retries after it, and every acknowledged snapshot is stored exactly once."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from metrics.client.remote import RemoteWorkspace
from metrics.core.snapshot import Snapshot as SnapshotDocument
from mlplatform.accounts.models import TokenScope
from projects.models import Snapshot
from tests.factories import make_project, make_token, snapshot_document
from tests.processes import Process, child_environment, free_port, web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LIMIT = 2
PUSHES = 16


def _serving(base: str, process: Process) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            assert process.proc.poll() is None, process.output
            assert time.monotonic() < deadline, process.output
            time.sleep(0.2)


def _documents(count: int) -> list[dict]:
    document = snapshot_document()
    return [{**document, "id": str(uuid.uuid4())} for _ in range(count)]


def _at_once(count: int, push) -> list:
    """`push(i)` from `count` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = push(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_over_the_limit_pushes_get_a_fast_503_and_the_client_retries(acme, caplog):
    caplog.set_level(logging.WARNING, logger="metrics.client.remote")
    project = make_project(acme, "Churn")
    _, secret = make_token(acme, TokenScope.INGEST, project=project)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Process(web_server(port), child_environment(INGEST_MAX_IN_FLIGHT=str(LIMIT)))
    try:
        _serving(base, server)

        # Plain HTTP, no retries: some pushes are refused, quickly, with Retry-After.
        raw = _documents(PUSHES)

        def post(i: int) -> tuple[int, str | None, float, dict]:
            request = urllib.request.Request(
                f"{base}/api/v1/projects/{project.pk}/snapshots",
                data=json.dumps(raw[i]).encode(),
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
                method="POST",
            )
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status, None, time.monotonic() - started, json.load(response)
            except urllib.error.HTTPError as error:
                elapsed = time.monotonic() - started
                return error.code, error.headers.get("Retry-After"), elapsed, json.load(error)

        answers = _at_once(PUSHES, post)
        refused = [a for a in answers if a[0] == 503]
        assert refused, [a[0] for a in answers]
        assert {a[0] for a in answers} <= {201, 503}
        for _, retry_after, elapsed, body in refused:
            assert retry_after == "1"
            assert elapsed < 1.0
            assert body["error"] == "overloaded"
        stored = {str(u) for u in Snapshot.objects.values_list("uuid", flat=True)}
        assert stored == {raw[i]["id"] for i, a in enumerate(answers) if a[0] == 201}

        # The client library rides it out: every push succeeds, each stored once.
        documents = _documents(PUSHES)
        workspace = RemoteWorkspace(base, token=secret, retries=8, backoff=0.2)
        ids = _at_once(
            PUSHES,
            lambda i: workspace.add_snapshot(
                str(project.pk), SnapshotDocument.from_dict(documents[i])
            ),
        )
        assert ids == [d["id"] for d in documents]
        assert any("HTTP 503; retrying" in r.getMessage() for r in caplog.records)
        wanted = {d["id"] for d in documents}
        rows = [str(u) for u in Snapshot.objects.values_list("uuid", flat=True)]
        assert sorted(r for r in rows if r in wanted) == sorted(wanted)
    finally:
        server.stop()
