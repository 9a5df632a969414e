"""The apps use no PostgreSQL-only feature without a portable path: the embedded default runs on
SQLite (`make demo`), production on PostgreSQL. The SQL written by hand is listed here with the
path the other databases take; `tests/test_sqlite_smoke.py` runs every page on SQLite."""

from __future__ import annotations

import ast
import re

from tests.processes import ROOT

DJANGO_APPS = ["mlplatform", "projects", "alerts", "collector"]
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|COPY|ALTER|WITH|CREATE|DROP|PRAGMA)\s")

# Each module that writes SQL by hand, and how the other databases do without it.
PORTABLE_PATHS = {
    "mlplatform/health.py": "SELECT 1, which every database answers",
    "mlplatform/settings/local.py": "SQLite's own pragmas, set only for an sqlite:// URL",
    "projects/series.py": "read_series reads through the ORM (_read_other) unless on PostgreSQL",
    "projects/ingestion.py": "COPY on PostgreSQL only; bulk_create on the others",
    "projects/migrations/0003_series_index_covers_points.py": "autovacuum tuned on PostgreSQL only",
}


def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text())
        for app in DJANGO_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
    }


def _writes_sql(node: ast.AST) -> bool:
    first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
    return (
        isinstance(first, ast.Constant)
        and isinstance(first.value, str)
        and SQL.match(first.value) is not None
    )


def test_no_postgresql_only_query_api_is_used():
    found = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            # DISTINCT ON (fields), and the ORM's doors to raw SQL.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and (
                    (node.func.attr == "distinct" and node.args)
                    or node.func.attr in ("raw", "extra")
                )
            ):
                found.append(f"{name}:{node.lineno} .{node.func.attr}(...)")
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                modules += [alias.name for alias in node.names]
                if any(m.startswith("django.contrib.postgres") for m in modules):
                    found.append(f"{name}:{node.lineno} django.contrib.postgres")
            if isinstance(node, ast.Name) and node.id == "RawSQL":
                found.append(f"{name}:{node.lineno} RawSQL")
    assert found == []


def test_sql_written_by_hand_has_a_portable_path():
    writing = {
        name
        for name, tree in _modules().items()
        if any(_writes_sql(node) for node in ast.walk(tree))
    }
    assert writing == set(PORTABLE_PATHS)
    for name in writing - {"mlplatform/health.py", "mlplatform/settings/local.py"}:
        assert "connection.vendor" in (ROOT / name).read_text(), name
