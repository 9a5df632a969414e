"""Evidently's side of the compatibility tests: its snapshot dumps (committed fixtures made by the
real client, scripts/make-evidently-fixtures) and, for the tests that run the client itself, its
own virtual environment (scripts/evidently-venv), built on first use."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
RUNS = ("drift", "summary", "classification", "regression", "tests")
SIDE = Path(__file__).parent / "evidently_side.py"


def dump(name: str) -> dict[str, Any]:
    """A committed Evidently snapshot dump (`Snapshot.dump_dict()` without widgets)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def dump_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def _index_reachable() -> bool:
    """Whether pip can fetch from its index at all (a download of a tiny package)."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, "six"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    return result.returncode == 0


@pytest.fixture(scope="session")
def evidently_python() -> Path:
    """The python of Evidently's environment; the tests are skipped only when PyPI is out of
    reach (the environment cannot be built here), and fail for any other reason."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "evidently-venv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        if not _index_reachable():
            pytest.skip("PyPI is unreachable: cannot install evidently==0.7.23")
        raise AssertionError(f"scripts/evidently-venv failed:\n{result.stderr[-4000:]}")
    return ROOT / result.stdout.strip().splitlines()[-1]


def run_side(python: Path, *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run evidently_side.py under Evidently's python; its JSON answer."""
    result = subprocess.run(
        [str(python), str(SIDE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"evidently_side.py {args[0]} failed:\n{result.stderr[-6000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])
