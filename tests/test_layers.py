"""The layers import only downwards: devices/ and lessons/ never reach up or sideways."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


def test_the_walker_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from edu.models import Device\n    import flask\n")
    assert imported_roots(sample) == {"edu", "flask"}
