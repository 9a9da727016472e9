"""The nightly backup job: run by the lease holder, keeps the newest EDU_BACKUP_KEEP, off when asked."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from tips_fixtures import TipsDB
from tzlocal import get_localzone

from edu.backups.backup import create_backup, nightly_trigger
from edu.config import Settings
from edu.jobs import Worker
from edu.lease import acquire_lease
from edu.models import SchedulerRun

# SQLite's nightly backup (PostgreSQL has none: the last test says so), in either suite mode
pytestmark = pytest.mark.default_database
T0 = datetime(2025, 6, 2, 1, 30, tzinfo=UTC)


def test_the_nightly_backup_keeps_the_newest_and_never_a_manual_one(tips_db: TipsDB) -> None:
    tips_db.person(tips_db.household(), "Mia")
    settings = replace(tips_db.settings, backup_keep=3)
    manual = Path(create_backup(settings, now=T0 - timedelta(days=30)).path)
    clock = [T0]
    worker = Worker(tips_db.engine, settings, owner="night", clock=lambda: clock[0])
    for night in range(5):
        clock[0] = T0 + timedelta(days=night)
        assert acquire_lease(tips_db.engine, "night", 60, now=clock[0])
        result = worker.run("backup")
        assert result is not None and result["ok"], result
    folder = settings.instance / "backups"
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [
        manual.name,
        "nightly-20250604T013000Z.tar.gz",
        "nightly-20250605T013000Z.tar.gz",
        "nightly-20250606T013000Z.tar.gz",
    ]
    assert all(stat.S_IMODE((folder / name).stat().st_mode) == 0o600 for name in kept)
    with Session(tips_db.engine) as session:
        runs = list(session.exec(select(SchedulerRun).where(col(SchedulerRun.job) == "backup")))
    assert len(runs) == 5 and all(run.ok for run in runs)
    assert runs[-1].detail.endswith("; 1 old one(s) removed")


def _scheduled(db: TipsDB, settings: Settings) -> object:
    worker = Worker(db.engine, settings, owner="sched", lease_seconds=600, quick_jobs=False)
    assert worker.tick()
    try:
        return worker._scheduler.get_job("backup")
    finally:
        worker.stop()


def test_the_scheduler_runs_the_backup_nightly_at_edu_backup_at_until_turned_off(
    tips_db: TipsDB,
) -> None:
    settings = replace(tips_db.settings, backup_at="02:45")
    job = _scheduled(tips_db, settings)
    assert job is not None
    trigger = job.trigger  # type: ignore[attr-defined]
    fields = {f.name: str(f) for f in trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "45")
    assert str(trigger.timezone) == str(get_localzone())
    # EDU_BACKUP_KEEP=0 turns it off, and takes away the job the database kept
    assert _scheduled(tips_db, replace(settings, backup_keep=0)) is None


def test_there_is_no_nightly_backup_on_postgresql(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"EDU_INSTANCE": str(tmp_path), "EDU_DATABASE_URL": "postgresql://coach@127.0.0.1:9/coach"}
    )
    assert settings.backup_keep == 7 and nightly_trigger(settings) is None
    assert nightly_trigger(Settings.from_env({"EDU_INSTANCE": str(tmp_path)})) is not None


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("EDU_BACKUP_KEEP", "-1", "whole number"),
        ("EDU_BACKUP_KEEP", "seven", "whole number"),
        ("EDU_BACKUP_AT", "25:00", "time of day"),
        ("EDU_BACKUP_AT", "3pm", "time of day"),
    ],
)
def test_a_bad_backup_setting_is_named_in_one_line(
    tmp_path: Path, name: str, value: str, said: str
) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a .*{said}"):
        Settings.from_env({"EDU_INSTANCE": str(tmp_path), name: value})
