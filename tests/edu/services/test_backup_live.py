"""Backups while the household works: during a scan of the fleet and during a tip run, then restored."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from backup_fixtures import table_rows
from database_mode import postgres_mode
from lan_fixtures import import_fleet_tokens
from sqlmodel import Session, select
from tips_fixtures import ARRIVED, family_capabilities
from web_fixtures import settings_for

from devices.fleet import Fleet
from devices.vault import TokenVault
from edu.backups.backup import create_backup
from edu.backups.restore import restore_backup
from edu.db import key, unit_of_work
from edu.models import Device, DeviceCapability, Household, Person
from edu.schema import create_schema, make_engine
from edu.services.inventory import Inventory
from edu.services.scans import scan_networks
from edu.tips.run import run_tips

pytestmark = pytest.mark.skipif(postgres_mode(), reason="archives hold a SQLite database")

DB = "feature-coach.sqlite3"
HOUSEHOLDS = 300  # each with one person and one fan: the tip run commits 5 at a time
NOW = datetime(2025, 6, 2, 10, 30)  # 10:30 in each household's own time: tips are due


def seed_households(engine: Any) -> None:
    """Add many small households in one go, so the tip run has many commits to make."""
    fan = family_capabilities("fan")
    with unit_of_work(engine) as session:
        homes = [Household(name=f"Flat {n}", timezone="Europe/Berlin") for n in range(HOUSEHOLDS)]
        session.add_all(homes)
        session.flush()
        devices = [
            Device(
                household_id=key(home),
                did=9_000_000 + n,
                ip="127.0.0.1",
                family="fan",
                status="online",
                name="Fan",
                first_seen=ARRIVED,
            )
            for n, home in enumerate(homes)
        ]
        session.add_all(devices)
        session.add_all(
            Person(household_id=key(home), name=f"P{n}") for n, home in enumerate(homes)
        )
        session.flush()
        session.add_all(
            DeviceCapability(device_id=key(device), capability=cap)
            for device in devices
            for cap in fan
        )


def count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608


def with_capabilities(database: Path) -> int:
    """How many devices outside the seeded households have capabilities stored (by a scan)."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT count(DISTINCT device.id) FROM device JOIN devicecapability "
            "ON devicecapability.device_id = device.id WHERE device.did NOT BETWEEN ? AND ?",
            (9_000_000, 9_000_000 + HOUSEHOLDS),
        ).fetchone()
    return int(row[0])


def restored_copy(archive: Path, instance: Path) -> Path:
    """Restore *archive* into a fresh *instance*; check the copy is whole; return its database."""
    result = restore_backup(settings_for(instance), archive)
    database = Path(result.database)
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    return database


def test_backups_during_a_scan_and_a_tip_run_restore_whole_and_every_token_works(
    fleet: Fleet, tmp_path: Path
) -> None:
    instance = tmp_path / "home"
    settings = settings_for(instance, (fleet.network,))
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    inventory = Inventory.open(engine, settings)
    import_fleet_tokens(inventory, fleet, tmp_path)
    seed_households(engine)
    for device in fleet.devices:  # replies take a while: the scan is busy on the network
        device.fault, device.slow_seconds = "slow", 0.05

    errors: list[BaseException] = []

    def work(name: str, job: Any) -> threading.Thread:
        def run() -> None:
            try:
                job()
            except BaseException as exc:  # reported by the test below
                errors.append(exc)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    scan = work("scan", lambda: scan_networks(inventory, settings.networks, poll=True))
    tips = work("tips", lambda: run_tips(engine, settings, NOW, collect=False, chunk=5))
    during: list[tuple[Path, set[str]]] = []
    while scan.is_alive() or tips.is_alive():
        busy = {t.name for t in (scan, tips) if t.is_alive()}
        made = create_backup(settings, tmp_path / f"during-{len(during)}.tar.gz")
        busy &= {t.name for t in (scan, tips) if t.is_alive()}  # busy for the whole backup
        during.append((Path(made.path), busy))
    scan.join(30)
    tips.join(30)
    assert errors == []
    assert any("scan" in busy for _, busy in during), "no backup was taken during the scan"
    assert any("tips" in busy for _, busy in during), "no backup was taken during the tip run"

    # every copy taken meanwhile is a whole database as of one moment
    final_inbox = count(instance / DB, "inboxitem")
    assert final_inbox == HOUSEHOLDS
    seen, partial_tips = 0, False
    final_scanned = with_capabilities(instance / DB)
    assert final_scanned >= len(fleet.devices) - 1
    for n, (archive, _) in enumerate(during):
        database = restored_copy(archive, tmp_path / f"restored-{n}")
        inbox = count(database, "inboxitem")
        assert seen <= inbox <= final_inbox  # a later copy never holds less
        assert inbox == count(database, "tipdelivery")  # a chunk's inbox and ledger commit together
        seen = inbox
        partial_tips |= 0 < inbox < final_inbox
        scanned = with_capabilities(database)
        assert scanned in (0, final_scanned)  # a scan stores all it read in one commit

    assert partial_tips, "no copy was taken between two commits of the tip run"

    # the last copy, taken at rest, holds every row; every token in it works on the fleet
    fleet.reset()
    last = Path(create_backup(settings, tmp_path / "last.tar.gz").path)
    database = restored_copy(last, tmp_path / "restored")
    assert table_rows(database) == table_rows(instance / DB)
    engine.dispose()
    fleet_dids = {d.did for d in fleet.devices}
    restored = settings_for(tmp_path / "restored", (fleet.network,))
    engine = make_engine(restored.database_url)
    create_schema(engine)
    try:
        vault = TokenVault(restored.instance)
        with Session(engine) as session:
            mine = [d for d in session.exec(select(Device)) if d.did in fleet_dids]
        assert len(mine) == len(fleet.devices)
        assert all(
            vault.decrypt(d.token_ciphertext or "") == fleet.by_did(d.did).token for d in mine
        )
        polled = Inventory.open(engine, restored).poll(now=datetime.now(UTC))
    finally:
        engine.dispose()
    online = [row for row in polled if row["did"] in fleet_dids]
    assert len(online) >= len(fleet.devices) - 1  # the household has one unsupported model
    assert {row["status"] for row in online} == {"online"}
