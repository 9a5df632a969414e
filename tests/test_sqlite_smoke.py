"""The embedded default (SQLite, tasks in-process) tested like production: on the seeded demo and a
new organisation, every page, every API GET route (with a session and with a read token) and
every HTML form answers without a server error. The pass itself is `tests/smoke_pass.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

# Create forms the pass must get through (a redirect after saving), so it cannot pass by being
# refused everywhere: new project, team, invitation, organisation, channel, rule and silence.
MUST_SAVE = {
    "project_create",
    "org_teams",
    "org_members",
    "org_list",
    "alert_channels",
    "project_alerts",
    "alert_silence_create",
}


@pytest.mark.slow
def test_every_page_route_and_form_answers_without_a_server_error_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mlplatform.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'smoke.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.smoke_pass"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    lines = result.stdout.strip().splitlines()
    out = json.loads(lines[-1])
    print(lines[-2])  # "pages N, api routes M, forms K, errors E"
    errors = [f"{e['status']} {e['method']} {e['url']} ({e['what']})" for e in out["errors"]]
    assert errors == [], "\n".join(errors) + "\n" + result.stderr[-5000:]
    assert out["unfilled"] == [], "routes the pass cannot fill: teach tests/smoke_pass.py"
    saved = {name for name, _, status in out["form_answers"] if status == 302}
    assert saved >= MUST_SAVE, out["form_answers"]
    assert out["statuses"]["page 200"] > 0
    assert out["statuses"]["api 200"] > 0
