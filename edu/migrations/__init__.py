"""Schema migrations (Alembic): every database, new or old, is brought to the current schema.

``upgrade(engine)`` is what ``edu.schema.create_schema`` runs at start-up:

- an empty database gets every table at once (``create_all``) and is stamped as current;
- any other database is upgraded to the newest revision; one from before migrations existed
  (tables, no ``alembic_version``) starts at the baseline, which creates only the tables it
  lacks.

A database already at the newest revision is left alone. Otherwise the whole step holds a
lock (``migrating``: an advisory lock on PostgreSQL, the write lock on SQLite, where foreign
keys are off while tables are rebuilt), so two processes starting together (``edu serve``
and ``edu worker``) never migrate at once.

A change to a table is a new revision in ``versions/``::

    .venv/bin/python -m edu.migrations revision "add a colour to devices"

(written by comparing the models with a database at the newest revision; read and edit it).
``tests/edu/test_migrations.py`` fails while the models and the migrations disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, MetaData
    from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
_LOCK_ID = 0x6564755F736368  # "edu_sch": the advisory lock of a schema change on PostgreSQL
# the revision files Alembic reads: not editors' lock files (.#0008.py), not __init__.py
_SCRIPT_FILE = re.compile(r"(?!\.#|__init__)[^/]*\.py$")


def metadata() -> MetaData:
    """Every table of the project, registered by importing the model modules."""
    from sqlmodel import SQLModel

    from edu import models  # noqa: F401  (households, devices, people, progress, API tokens, job lease)
    from edu.community import data as community_data  # noqa: F401  (community hub link and table)
    from edu.store import models as demo_models  # noqa: F401  (store demo)
    from edu.tips import models as tip_models  # noqa: F401  (tip policy, ledger, inbox)

    return SQLModel.metadata


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code (no alembic.ini), on *connection* when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def revisions() -> dict[str, str | tuple[str, ...] | None]:
    """Every revision shipped, with the one it revises (None for the baseline).

    Read from the module-level ``revision`` and ``down_revision`` of each file in
    ``versions/`` (the files Alembic itself reads), without importing Alembic: a server whose
    database is already current never loads it (about 10 MB of a small box's memory).
    ``tests/edu/test_migrations.py`` checks that this reading and Alembic's agree.
    """
    import ast

    found: dict[str, str | tuple[str, ...] | None] = {}
    for path in sorted((HERE / "versions").glob("*.py")):
        if not _SCRIPT_FILE.match(path.name):
            continue
        names: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                names[target.id] = ast.literal_eval(value)
        revision, down = names.get("revision"), names.get("down_revision")
        if not isinstance(revision, str):
            raise RuntimeError(f"migration {path.name} names no revision")
        # a merge revises a tuple of revisions at once
        found[revision] = tuple(down) if isinstance(down, list) else down
    return found


@cache
def head() -> str:
    """The newest revision (read once per process: the revisions ship with the code)."""
    chain = revisions()
    revised = {
        r for down in chain.values() for r in ((down,) if isinstance(down, str) else down or ())
    }
    heads = set(chain) - revised
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


def current(engine: Engine) -> str | None:
    """The revision the database at *engine* is at (None before migrations)."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(versions) > 1:
        raise RuntimeError(f"the database is at {len(versions)} revisions at once")
    return versions[0][0] if versions else None


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection holding the database's write lock for a schema change, committed at the end.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: ``BEGIN IMMEDIATE`` (another
    process waits out the busy timeout), with foreign keys off for the change: Alembic's
    batch mode rebuilds a table by copying and dropping it, which with foreign keys on
    would cascade into every table that points at it. They are checked before the commit
    and switched on again after.
    """
    from sqlalchemy import text

    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
            connection.commit()
        try:
            with connection.begin():
                if sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
                yield connection
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the schema change left rows pointing at nothing")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade(engine: Engine) -> None:
    """Bring the database at *engine* to the newest revision (see the module docstring)."""
    if current(engine) == head():
        return  # the usual start: nothing to change, no lock to take, no Alembic to load
    from alembic import command
    from sqlalchemy import inspect

    tables = metadata()
    with migrating(engine) as connection:
        cfg = config(connection)
        if not set(inspect(connection).get_table_names()) & {"alembic_version", *tables.tables}:
            tables.create_all(connection)  # an empty database: everything at once
            command.stamp(cfg, "head")
        else:  # the baseline creates only what a database from before migrations lacks
            command.upgrade(cfg, "head")


def revision(message: str) -> Path:
    """Write a new revision for what the models changed (compared with a migrated database)."""
    import tempfile

    from alembic import command

    from edu.db import build_engine as make_engine

    with tempfile.TemporaryDirectory(prefix="edu-revision-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/head.db")
        try:
            with engine.begin() as connection:
                cfg = config(connection)
                command.upgrade(cfg, "head")
                script = command.revision(
                    cfg, message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}"
                )
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
