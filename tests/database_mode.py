"""Run the suite on PostgreSQL: with EDU_TEST_DATABASE=postgresql each instance gets its own database.

Tests build their settings with ``Settings.from_env``; in PostgreSQL mode a setting without
an explicit database URL gets a fresh database on the server at EDU_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test), one per instance folder, dropped when
the test (or, for session fixtures, the session) ends. ``clone_instance`` copies an instance
folder and, in PostgreSQL mode, its database too.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from edu.config import Settings

SERVER = os.environ.get("EDU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_names = itertools.count()
_databases: dict[str, str] = {}  # instance folder -> database URL
_scopes: list[list[str]] = [[]]  # database names to drop, innermost scope last
_bypass: list[bool] = [False]


def postgres_mode() -> bool:
    """Is the suite running against PostgreSQL?"""
    return os.environ.get("EDU_TEST_DATABASE", "sqlite").lower() in ("postgresql", "postgres", "pg")


def _admin(statement: str) -> None:
    engine = create_engine(
        SERVER.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _new_database(instance: str, template: str | None = None) -> str:
    name = f"edu_test_{os.getpid()}_{next(_names)}"
    _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    _scopes[-1].append(name)
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    _databases[instance] = url
    return url


def _drop(names: list[str]) -> None:
    for name in names:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for instance, url in list(_databases.items()):
        if url.rsplit("/", 1)[1] in names:
            del _databases[instance]


def clone_instance(source: Path, target: Path) -> None:
    """Copy an instance folder (and, on PostgreSQL, its database) for one test."""
    shutil.copytree(source, target)
    if postgres_mode() and str(source) in _databases:
        _new_database(str(target), template=_databases[str(source)].rsplit("/", 1)[1])


@pytest.fixture(scope="session", autouse=True)
def database_mode_session() -> Iterator[None]:
    """In PostgreSQL mode, give every instance folder's settings a database of its own."""
    if not postgres_mode():
        yield
        return
    original = Settings.from_env.__func__  # type: ignore[attr-defined]

    def from_env(cls: type[Settings], env: Any = None, **overrides: Any) -> Settings:
        settings: Settings = original(cls, env, **overrides)
        default = f"sqlite:///{settings.instance / 'feature-coach.sqlite3'}"
        if _bypass[0] or settings.database_url != default:
            return settings  # a test that chose its own database keeps it
        url = _databases.get(str(settings.instance)) or _new_database(str(settings.instance))
        return Settings(**{**settings.__dict__, "database_url": url})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Settings, "from_env", classmethod(from_env))
        yield
    _drop(_scopes[0])


@pytest.fixture(autouse=True)
def database_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    """Drop the databases a test created; leave tests marked default_database on SQLite."""
    _bypass[0] = bool(request.node.get_closest_marker("default_database"))
    _scopes.append([])
    yield
    _bypass[0] = False
    if postgres_mode():
        _drop(_scopes.pop())
    else:
        _scopes.pop()
