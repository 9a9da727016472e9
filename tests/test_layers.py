"""The house plan holds: layers import only downwards, no module circles, no oversized modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("devices", "lessons", "edu")
FORBIDDEN = {
    "devices": {"edu", "lessons", "flask", "sqlmodel", "sqlalchemy", "apscheduler", "flask_babel"},
    "lessons": {
        "edu",
        "devices",
        "miio",
        "flask",
        "sqlmodel",
        "sqlalchemy",
        "apscheduler",
        "flask_babel",
    },
}
MAX_LINES = 400
MAX_FLAT_MODULES = 15
GENERATED = ("edu/migrations/versions/",)


def imported_roots(path: Path) -> set[str]:
    """Return the top-level package of every import in *path*."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def module_name(path: Path, root: Path) -> str:
    """Return the dotted module name of *path* (a package's ``__init__`` is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Return every module of the project's *packages* under *root*, by dotted name."""
    return {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
        if not any(str(path.relative_to(root)).startswith(g) for g in GENERATED)
    }


def import_edges(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Return the project modules that module *name* imports, deferred imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in modules else base)
    return {m for m in found if m in modules and m != name}


def circles(modules: dict[str, Path]) -> list[list[str]]:
    """Return each group of modules that import each other (Tarjan's strongly connected sets)."""
    graph = {name: sorted(import_edges(path, name, modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layer_never_imports_upwards(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in {package}/"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in files
        if imported_roots(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_no_two_modules_of_the_project_import_each_other() -> None:
    modules = project_modules(ROOT)
    assert len(modules) > 50
    assert circles(modules) == []


def test_every_module_stays_under_the_size_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in project_modules(ROOT, (*PACKAGES, "tests", "bench")).values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_folder_of_edu_holds_more_than_fifteen_modules_flat() -> None:
    crowded = {
        str(folder.relative_to(ROOT)): n
        for folder in [ROOT / "edu", *(ROOT / "edu").rglob("*/")]
        if folder.is_dir() and "__pycache__" not in folder.parts
        if (n := len([p for p in folder.glob("*.py") if p.name != "__init__.py"]))
        > MAX_FLAT_MODULES
    }
    assert crowded == {}


def test_every_module_says_what_it_is_for() -> None:
    silent = [
        str(path.relative_to(ROOT))
        for path in project_modules(ROOT).values()
        if path.stat().st_size
        and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert silent == []


def test_the_walker_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from edu.models import Device\n    import flask\n")
    assert imported_roots(sample) == {"edu", "flask"}


def test_the_circle_finder_sees_deferred_and_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "edu"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from edu.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import c\n")
    (pkg / "c.py").write_text("import edu.a\n")
    (pkg / "d.py").write_text("from edu import a\n")
    modules = project_modules(tmp_path, ("edu",))
    assert circles(modules) == [["edu.a", "edu.c", "edu.sub.b"]]
    (pkg / "c.py").write_text("x = 1\n")
    assert circles(modules) == []
