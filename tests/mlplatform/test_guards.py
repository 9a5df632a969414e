"""Guards on the layout: no package shadows the standard library, metrics stays free of Django,
ruff is clean."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.processes import BIN, ROOT

APPS = ["mlplatform", "metrics", "projects", "alerts", "collector"]


def test_no_top_level_package_takes_a_standard_library_name():
    top_level = {
        path.stem if path.suffix == ".py" else path.name
        for path in ROOT.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py"
    }
    assert set(APPS) <= top_level
    assert not top_level & set(sys.stdlib_module_names), top_level & set(sys.stdlib_module_names)


def test_the_metrics_library_imports_no_django():
    code = (
        "import pkgutil, importlib, sys, metrics\n"
        "for m in pkgutil.walk_packages(metrics.__path__, 'metrics.'):\n"
        "    importlib.import_module(m.name)\n"
        "leaked = sorted(n for n in sys.modules if n == 'django' or n.startswith('django.'))\n"
        "print(leaked); sys.exit(1 if leaked else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [str(BIN / "ruff"), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr


def _imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def test_tenancy_imports_none_of_the_apps_built_on_it():
    # projects, alerts and collector import accounts; accounts never imports them (only the URL
    # configuration and the demo seed, in the shell, gather every app).
    for path in (ROOT / "mlplatform" / "accounts").rglob("*.py"):
        if "migrations" not in path.parts:
            assert not _imported_modules(path) & {"projects", "alerts", "collector"}, path
