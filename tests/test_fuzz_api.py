"""The fuzzing gate: schemathesis sends generated requests, valid and invalid, to every operation of
our OpenAPI schema on a real uvicorn serving the test database, with an organisation's write token
(and, where it may act, a project's ingest token). Every answer must be no 5xx, a status the schema
documents for the operation, and a body matching the schema. Path parameters name the seeded
objects three times in four, so the requests reach past the 404s into the views.

Bounded for CI (a few examples per operation, under 3 minutes on 2 busy cores); `--fuzz-long`
sends many more (docs/operations.md, "The API fuzzing gate")."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from alerts.models import Alert, AlertRule, Channel, Silence, State
from collector.intake import accept_reference
from collector.models import Collector
from mlplatform.accounts import services as account_services
from mlplatform.accounts.models import Organization, TokenScope, User
from projects.dashboards import store
from projects.models import Project, Snapshot
from tests.factories import (
    add_member,
    make_project,
    make_snapshot,
    make_team,
    make_token,
    owner_access,
)
from tests.processes import BIN, Process, child_environment, free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = 6  # per operation and generation mode: about 12 requests per operation
LONG_EXAMPLES = 200  # with --fuzz-long: about 30,000 requests
# The bounded run takes 1.5 to 3 minutes, server start and seeding included, depending on how busy
# the machine is; this guard fails only when it grows well beyond that.
BUDGET_SECONDS = 240


# ---- the seeded organisation -----------------------------------------------------------------------


@dataclass
class Seeded:
    org: Organization
    project: Project
    write: str  # the org write token's secret: every request's default credentials
    ingest: str  # the project's ingest token's secret
    ids: dict[str, list[str]]  # path parameter (or "<resource>/{id}") -> real values


def seed(alice: User, bob: User) -> Seeded:
    org = account_services.create_organization(name="Fuzz", owner=alice)
    add_member(org, bob)
    team = make_team(org, "Risk", [bob])
    project = make_project(org, "Churn")
    snapshots: list[Snapshot] = [make_snapshot(project, seed=i) for i in range(3)]
    _, write = make_token(org, TokenScope.WRITE, name="fuzz write")
    ingest_token, ingest = make_token(org, TokenScope.INGEST, project=project, name="fuzz ingest")
    spare_token, _ = make_token(org, TokenScope.INGEST, project=project, name="to revoke")
    invitation = account_services.invite(owner_access(org), email="newcomer@example.com")
    channel = Channel.objects.create(
        organization=org, kind="email", name="On call", config={"addresses": ["oncall@fuzz.test"]}
    )
    rule = AlertRule.objects.create(
        project=project, name="Tests fail", kind="tests_failed", config={"tests": "any"}
    )
    rule.channels.add(channel)
    alert = Alert.objects.create(
        rule=rule, project=project, severity=rule.severity, state=State.FIRING, value=1.0
    )
    silence = Silence.objects.create(project=project, ends_at=timezone.now() + timedelta(hours=1))
    collector = Collector.objects.create(
        project=project,
        name="live",
        config={"presets": ["data_drift"], "quality_presets": [], "definition": {}},
        every_minutes=60,
    )
    accept_reference(collector, b"age,plan\n31,a\n42,b\n53,a\n", "text/csv", "reference.csv")
    panels = [p["id"] for tab in store.dashboard_of(project).spec["tabs"] for p in tab["panels"]]
    assert panels, "ingestion made the project's default dashboard"
    ids = {
        "org_id": [str(org.pk)],
        "project_id": [str(project.pk)],
        "collector_id": [str(collector.pk)],
        "user_id": [str(bob.pk)],
        "snapshot_id": [str(s.uuid) for s in snapshots],
        "panel_id": panels[:3],
        "alert-channels/{id}": [str(channel.pk)],
        "invitations/{id}": [str(invitation.pk)],
        "teams/{id}": [str(team.pk)],
        "tokens/{id}": [str(spare_token.pk), str(ingest_token.pk)],
        "alert-rules/{id}": [str(rule.pk)],
        "alerts/{id}": [str(alert.pk)],
        "silences/{id}": [str(silence.pk)],
    }
    return Seeded(org, project, write, ingest, ids)


def real_values(seeded: Seeded, path: str, name: str) -> list[str]:
    if name == "id":
        resource = re.search(r"([\w-]+)/\{id\}", path)
        assert resource, path
        return seeded.ids[f"{resource.group(1)}/{{id}}"]
    return seeded.ids[name]


def restore(seeded: Seeded) -> None:
    """Undo what one operation's examples may have changed that the others rely on."""
    Project.objects.filter(pk=seeded.project.pk).update(archived_at=None)
    Collector.objects.filter(project=seeded.project).update(enabled=True)


# ---- the server ------------------------------------------------------------------------------------


@pytest.fixture
def server(transactional_db: None) -> Iterator[tuple[Process, str]]:
    port = free_port()
    args = [str(BIN / "uvicorn"), "mlplatform.asgi:application", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--no-access-log"]
    env = child_environment(API_RATE_LIMIT_TOKEN="1000000/min", API_RATE_LIMIT_USER="1000000/min")
    with running(args, env, ready="Uvicorn running on") as process:
        yield process, f"http://127.0.0.1:{port}"


@schemathesis.serializer("text/csv")
def _csv(ctx: Any, value: Any) -> bytes:
    # The reference upload: a generated object becomes a one-row CSV, anything else its text.
    if isinstance(value, dict):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([str(k) for k in value])
        writer.writerow([str(v) for v in value.values()])
        return out.getvalue().encode()
    return value if isinstance(value, bytes) else str(value).encode()


# ---- the run ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    operations: int = 0
    sent: int = 0
    http: float = 0.0
    real_paths: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, kind) -> one

    def report(self, seconds: float) -> str:
        return (
            f"fuzz: {self.operations} operations, {self.sent} requests "
            f"({self.real_paths} with real path ids), {self.server_errors} server errors, "
            f"{len(self.failures)} distinct failures, in {seconds:.0f}s (http {self.http:.0f}s); "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )


def _order(operation: Any) -> tuple[int, str]:
    # Deletions last, the deepest first, so that the objects the others name still exist.
    if operation.method.upper() == "DELETE":
        return (1, f"{9 - operation.path.count('/')}{operation.path}")
    return (0, operation.label)


def fuzz_operation(
    operation: Any, seeded: Seeded, base_url: str, tally: Tally, examples: int
) -> None:
    session = requests.Session()
    path_names = [p.name for p in operation.path_parameters]
    may_ingest = operation.method.upper() == "POST" and operation.path.endswith(
        ("/snapshots", "/data", "/labels")
    )

    def one(case: Any, data: Any) -> None:  # data: hypothesis st.data()
        if path_names and data.draw(st.integers(0, 3), label="real ids"):
            case.path_parameters = {
                **(case.path_parameters or {}),
                **{
                    name: data.draw(st.sampled_from(real_values(seeded, operation.path, name)))
                    for name in path_names
                },
            }
            tally.real_paths += 1
        token = seeded.write
        if may_ingest and data.draw(st.booleans(), label="ingest token"):
            token = seeded.ingest
        restore(seeded)
        t0 = time.monotonic()
        response = case.call(
            base_url=base_url,
            session=session,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        tally.sent += 1
        tally.http += time.monotonic() - t0
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, type(failure).__name__)
                tally.failures.setdefault(
                    key,
                    f"{failure}\n{response.status_code} {response.text[:300]}\n"
                    + case.as_curl_command(),
                )

    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = operation.as_strategy(generation_mode=mode)
        test = hypothesis.given(case=strategy, data=st.data())(one)
        test = hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )(test)
        strategies.append(test)
    for test in strategies:
        # Unsatisfiable: nothing to make invalid in this operation (no parameters, no body).
        with contextlib.suppress(hypothesis.errors.Unsatisfiable):
            test()
    tally.operations += 1


def test_no_operation_answers_a_server_error_or_off_schema(server, alice, bob, request):
    started = time.monotonic()
    process, base_url = server
    seeded = seed(alice, bob)
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/?format=json")
    loaded = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # our schema is valid OpenAPI
        loaded.append(result.ok())
    operations = sorted(loaded, key=_order)
    assert len(operations) >= 70
    examples = LONG_EXAMPLES if request.config.getoption("--fuzz-long") else EXAMPLES
    tally = Tally()
    for operation in operations:
        fuzz_operation(operation, seeded, base_url, tally, examples)
    seconds = time.monotonic() - started
    print("\n" + tally.report(seconds))
    for (label, kind), detail in sorted(tally.failures.items()):
        print(f"\n--- {label}: {kind}\n{detail}")
    assert tally.operations == len(operations)
    assert tally.real_paths > tally.operations  # the ids reached real objects
    assert tally.server_errors == 0, tally.report(seconds) + "\n" + process.output[-6000:]
    assert not tally.failures, tally.report(seconds)
    assert "Traceback" not in process.output, process.output[-4000:]
    if examples == EXAMPLES:
        assert seconds < BUDGET_SECONDS, tally.report(seconds)
