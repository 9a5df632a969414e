"""The runtime contracts ship inside the installed package: the snapshot schema and the word list."""

from __future__ import annotations

import importlib.resources
import json
import tomllib
from pathlib import Path

import metrics
from metrics.computations.descriptors.vocabulary import VOCABULARY_FILE
from metrics.core.snapshot import SCHEMA_FILE, SCHEMA_VERSION


def test_it_finds_the_snapshot_schema_through_importlib_resources():
    resource = importlib.resources.files("metrics").joinpath(*SCHEMA_FILE)
    assert resource.is_file()
    schema = json.loads(resource.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == metrics.snapshot_schema()


def test_it_gives_a_fresh_schema_each_call():
    first = metrics.snapshot_schema()
    first["title"] = "changed"
    assert metrics.snapshot_schema().get("title") != "changed"


def test_the_schema_describes_the_snapshot_version_the_library_writes():
    schema = metrics.snapshot_schema()
    assert "schema_version" in schema["required"]
    assert SCHEMA_VERSION == 1


def test_it_finds_the_vocabulary_through_importlib_resources():
    resource = importlib.resources.files("metrics.computations.descriptors").joinpath(
        *VOCABULARY_FILE
    )
    assert resource.is_file()


def test_the_package_data_is_declared_for_the_wheel():
    # pyproject's [tool.setuptools.package-data] must list each file, or a wheel leaves it out.
    root = Path(__file__).resolve().parents[2]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["metrics"]
    package = Path(metrics.__file__).parent
    for pattern in declared:
        assert list(package.glob(pattern)), pattern
    shipped = {
        p.relative_to(package).as_posix() for pattern in declared for p in package.glob(pattern)
    }
    assert "/".join(SCHEMA_FILE) in shipped
    assert "computations/descriptors/" + "/".join(VOCABULARY_FILE) in shipped
