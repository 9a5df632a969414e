"""Guards on the layout: no package shadows the standard library, metrics stays free of Django,
ruff is clean."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.processes import BIN, ROOT

APPS = ["mlplatform", "metrics", "projects", "alerts", "collector", "evidently_compat"]


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


def _first_party_imports(path) -> list[tuple[str, list[str]]]:
    """(module, imported names) for each absolute `from x import a, b` and `import x.y` in a file."""
    imports: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            imports.extend((alias.name, []) for alias in node.names)
    return imports


def _source_files(app: str):
    return (p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def test_projects_imports_neither_alerts_nor_the_collector():
    # projects announces a stored snapshot with a signal; alerts and the collector subscribe to it.
    for path in _source_files("projects"):
        assert not _imported_modules(path) & {"alerts", "collector"}, path


def test_no_app_imports_another_apps_underscore_names():
    # A name with a leading underscore is private to its module: another app that needs it gets a
    # public helper instead (the shared ones live at the tenant edge, in mlplatform.accounts).
    offences = []
    for app in APPS:
        for path in _source_files(app):
            for module, names in _first_party_imports(path):
                other = module.split(".")[0]
                if other not in APPS or other == app:
                    continue
                private = [part for part in module.split(".") if part.startswith("_")]
                private += [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private:
                    offences.append(f"{path.relative_to(ROOT)}: {module} {private}")
    assert not offences, "\n".join(offences)


def test_services_never_import_tasks():
    # Tasks call services; services announce work with on_commit callbacks or signals that the
    # tasks module connects. A deferred import inside a function counts too.
    for app in ("projects", "alerts", "collector", "mlplatform"):
        for path in _source_files(app):
            if path.name == "tasks.py" or path.name == "apps.py":
                continue
            tasks = [m for m, _ in _first_party_imports(path) if m.split(".")[-1] == "tasks"]
            tasks += [
                f"{m}.{n}" for m, names in _first_party_imports(path) for n in names if n == "tasks"
            ]
            assert not tasks, f"{path.relative_to(ROOT)} imports {tasks}"


def _module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Each first-party module and the first-party modules it imports, deferred imports included."""
    files = {_module_name(p): p for app in APPS for p in _source_files(app)}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges = graph.setdefault(name, set())
        for module, names in _first_party_imports(path):
            if module.split(".")[0] not in APPS:
                continue
            submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in files]
            # `from package import submodule` reaches the submodule; other names, the module itself.
            edges.update(submodules)
            if len(submodules) < len(names) or not names:
                edges.add(module)
        edges.discard(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_our_modules():
    # A loop (often hidden as an import inside a function) means two modules are one concern or
    # that one should announce work instead of calling the other; see docs/architecture.md.
    cycles = _cycles(_import_graph())
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)
