"""Schema migrations: new databases, databases from before migrations, and the models agree.

Each test runs on a SQLite file and on a PostgreSQL database of its own (127.0.0.1:5432).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import BigInteger, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from tips_fixtures import create_postgres_database, postgres_available

from edu.db import unit_of_work, utcnow
from edu.migrations import config, current, head, metadata, migrating, revisions
from edu.models import Device, DeviceCapability, Household
from edu.schema import create_schema, make_engine

LATER_TABLES = {"tipdelivery", "inboxitem", "demo_step"}  # as if added after the database
ID_COLUMNS = (("device", "did"), ("tipdelivery", "device_did"), ("inboxitem", "device_did"))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coach.sqlite3'}"
        return
    if not postgres_available():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    database, drop = create_postgres_database("edu_migrate")
    yield database
    drop()


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    built = make_engine(url)
    yield built
    built.dispose()


def differences(engine: Engine) -> list[object]:
    """What Alembic's autogenerate sees between the database and the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata()))


def old_database(engine: Engine, *, without: set[str] = LATER_TABLES) -> None:
    """A database as an earlier Feature Coach left it: tables, no migration record, rows."""
    tables = [t for name, t in metadata().tables.items() if name not in without]
    metadata().create_all(engine, tables=tables)
    with unit_of_work(engine) as session:
        home = Household(name="Old flat", timezone="Europe/Berlin")
        session.add(home)
        session.flush()
        device = Device(household_id=home.id or 0, did=12345, ip="127.0.0.9", name="Fan")
        session.add(device)
        session.flush()
        session.add(DeviceCapability(device_id=device.id or 0, capability="child-lock"))


def test_the_migrations_alone_build_the_schema_the_models_describe(engine: Engine) -> None:
    # every revision run from nothing (not the create_all short cut): a model changed
    # without a revision fails here, with the difference in the message
    with engine.begin() as connection:
        command.upgrade(config(connection), "head")
    assert current(engine) == head()
    assert differences(engine) == []


def test_a_new_database_gets_every_table_and_starts_at_the_newest_revision(
    engine: Engine,
) -> None:
    create_schema(engine)
    assert current(engine) == head()
    assert differences(engine) == []
    create_schema(engine)  # every start runs it again: nothing changes
    assert current(engine) == head()


def test_a_database_from_before_migrations_keeps_its_rows_and_gains_what_it_lacks(
    engine: Engine,
) -> None:
    old_database(engine)
    assert current(engine) is None
    assert {d[1].name for d in differences(engine) if d[0] == "add_table"} == LATER_TABLES
    create_schema(engine)
    assert current(engine) == head()
    assert set(inspect(engine).get_table_names()) >= LATER_TABLES
    assert differences(engine) == []
    with Session(engine) as session:
        assert [(d.name, d.did) for d in session.exec(select(Device))] == [("Fan", 12345)]


def test_32_bit_device_id_columns_are_widened_for_real_device_ids(engine: Engine) -> None:
    old_database(engine, without=set())
    if engine.dialect.name == "postgresql":  # what PostgreSQL databases had before the fix
        with engine.begin() as connection:
            for table, column in ID_COLUMNS:
                connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE INTEGER"))
            with pytest.raises(Exception, match="out of range"), connection.begin_nested():
                connection.execute(text("UPDATE device SET did = 3000000000"))
        assert differences(engine)  # the models want BIGINT
    create_schema(engine)
    assert differences(engine) == []
    for table, column in ID_COLUMNS:
        found = next(c for c in inspect(engine).get_columns(table) if c["name"] == column)
        if engine.dialect.name == "postgresql":
            assert isinstance(found["type"], BigInteger), (table, column)
    with unit_of_work(engine) as session:
        device = session.exec(select(Device)).one()
        device.did, device.last_seen = 3_000_000_000, utcnow()  # above 2**31, as real ids are
    with Session(engine) as session:
        assert session.exec(select(Device.did)).one() == 3_000_000_000


def test_a_table_rebuilt_by_a_migration_keeps_the_rows_that_point_at_it(engine: Engine) -> None:
    # Alembic's batch mode (how a revision changes a table on SQLite) copies the table and
    # drops the old one; with foreign keys on, the drop would cascade into devicecapability
    old_database(engine)
    create_schema(engine)
    with migrating(engine) as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        recreate = "always" if engine.dialect.name == "sqlite" else "auto"
        with Operations(context).batch_alter_table("device", recreate=recreate) as batch:
            batch.add_column(sa.Column("colour", sa.String(), nullable=True))
    with Session(engine) as session:
        assert [c.capability for c in session.exec(select(DeviceCapability))] == ["child-lock"]
        assert session.exec(select(Device.name)).one() == "Fan"
    if engine.dialect.name == "sqlite":  # and foreign keys are back on for everything else
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_processes_starting_together_migrate_one_at_a_time(url: str) -> None:
    engines = [make_engine(url) for _ in range(3)]
    start, errors = threading.Barrier(len(engines)), []

    def migrate(engine: Engine) -> None:
        start.wait()
        try:
            create_schema(engine)
        except Exception as exc:  # the test reports what went wrong in any of them
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=migrate, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert not any(thread.is_alive() for thread in threads), "a start never got the lock"
        assert errors == []
        assert current(engines[0]) == head()
        assert differences(engines[0]) == []
    finally:
        for engine in engines:
            engine.dispose()


def test_the_revisions_read_without_alembic_are_alembics_own() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(config())
    assert revisions() == {s.revision: s.down_revision for s in scripts.walk_revisions()}
    assert head() == scripts.get_current_head()


def test_the_revision_a_database_is_at_is_read_as_alembic_reads_it(engine: Engine) -> None:
    assert current(engine) is None  # an empty database: no revision table yet
    create_schema(engine)
    with engine.connect() as connection:
        assert current(engine) == MigrationContext.configure(connection).get_current_revision()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    assert current(engine) is None


def test_a_second_head_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    newest = head()
    branched = {**revisions(), "9999": "0001"}  # a second line of revisions from the baseline
    monkeypatch.setattr("edu.migrations.revisions", lambda: branched)
    head.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=rf"2 heads, not one: \['{newest}', '9999'\]"):
            head()
    finally:
        head.cache_clear()


def test_revision_files_are_read_as_alembic_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    files = {
        "0001_base.py": 'revision: str = "a"\ndown_revision = None\n',
        "0002_left.py": 'revision = "b"\ndown_revision = "a"\nSQL = """\nrevision = "z"\n"""\n',
        "0003_right.py": 'revision = "c"\ndown_revision: str | None = "a"\n',
        "0004_merge.py": 'revision = "d"\ndown_revision = ("b", "c")\n',
        ".#0005_draft.py": "an editor's lock file, not Python",
        "__init__.py": "",
    }
    for name, source in files.items():
        (versions / name).write_text(source)
    monkeypatch.setattr("edu.migrations.HERE", tmp_path)
    revisions.cache_clear()
    head.cache_clear()
    try:
        assert revisions() == {"a": None, "b": "a", "c": "a", "d": ("b", "c")}
        assert head() == "d"
    finally:
        revisions.cache_clear()
        head.cache_clear()
