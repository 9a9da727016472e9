"""The worker: a database lease decides who runs the jobs; APScheduler keeps them in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, col, select
from tips_fixtures import TipsDB

from edu import jobs as scheduler
from edu.db import utcnow
from edu.jobs import Worker
from edu.lease import LEASE, acquire_lease, lease_holder, release_lease
from edu.models import SchedulerLease, SchedulerRun
from edu.tips.models import InboxItem

T0 = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)  # 10:30 in Berlin


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll *condition* until it holds or the deadline passes (no fixed sleeps in tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def runs(db: TipsDB, job: str | None = None) -> list[SchedulerRun]:
    with Session(db.engine) as session:
        query = select(SchedulerRun).order_by(col(SchedulerRun.id))
        if job is not None:
            query = query.where(col(SchedulerRun.job) == job)
        return list(session.exec(query))


def test_the_lease_goes_to_one_worker_and_passes_on_when_it_expires(any_db: TipsDB) -> None:
    engine = any_db.engine
    assert acquire_lease(engine, "a", 60, now=T0)
    assert not acquire_lease(engine, "b", 60, now=T0 + timedelta(seconds=30))
    assert acquire_lease(engine, "a", 60, now=T0 + timedelta(seconds=40))  # renewed until T0+100 s
    assert not acquire_lease(engine, "b", 60, now=T0 + timedelta(seconds=90))
    assert lease_holder(engine, now=T0 + timedelta(seconds=90)) == "a"
    assert lease_holder(engine, now=T0 + timedelta(seconds=101)) is None
    assert acquire_lease(engine, "b", 60, now=T0 + timedelta(seconds=101))
    assert not acquire_lease(
        engine, "a", 60, now=T0 + timedelta(seconds=102)
    )  # a may not renew now


def test_a_released_lease_is_free_at_once(tips_db: TipsDB) -> None:
    assert acquire_lease(tips_db.engine, "a", 600)
    release_lease(tips_db.engine, "a")
    assert lease_holder(tips_db.engine) is None
    assert acquire_lease(tips_db.engine, "b", 600)


def test_a_job_runs_only_in_the_lease_holder(tips_db: TipsDB) -> None:
    home = tips_db.household()
    tips_db.device(home, "fan", 1)
    mia = tips_db.person(home, "Mia")
    first = Worker(tips_db.engine, tips_db.settings, owner="first", clock=lambda: T0)
    second = Worker(tips_db.engine, tips_db.settings, owner="second", clock=lambda: T0)
    assert acquire_lease(tips_db.engine, "first", 60, now=T0)
    assert second.run("tips") is None
    assert runs(tips_db) == []
    result = first.run("tips")
    assert result == {"job": "tips", "ok": True, "detail": "1 tip(s) to 1 people"}
    (record,) = runs(tips_db)
    assert (record.job, record.owner, record.ok, record.started_at) == ("tips", "first", True, T0)
    with Session(tips_db.engine) as session:
        assert session.exec(select(InboxItem)).one().person_id == mia


def test_the_scheduler_keeps_its_jobs_in_the_project_database_and_runs_them(
    tips_db: TipsDB,
) -> None:
    worker = Worker(
        tips_db.engine,
        tips_db.settings,
        owner="solo",
        lease_seconds=30,
        tip_interval=3600,
        poll_interval=3600,
    )
    try:
        assert worker.tick() and worker.scheduling
        assert wait_until(
            lambda: {r.job for r in runs(tips_db) if r.finished_at} == {"poll", "tips"}, 20
        )
        assert all(r.owner == "solo" and r.ok for r in runs(tips_db))
        assert "apscheduler_jobs" in inspect(tips_db.engine).get_table_names()
        with tips_db.engine.connect() as conn:
            ids = sorted(row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs")))
        nightly = ["backup"] if tips_db.engine.dialect.name == "sqlite" else []  # pg_dump on PG
        assert ids == [*nightly, "poll", "tips"]
        assert worker.tick()  # a renewal keeps the same scheduler
    finally:
        worker.stop()
    assert not worker.scheduling
    assert lease_holder(tips_db.engine) is None


def test_stop_waits_for_a_running_job_so_none_outlives_the_worker(
    tips_db: TipsDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, release = threading.Event(), threading.Event()

    def held_tips(self: Worker) -> str:
        running.set()
        release.wait(10)
        return "held"

    monkeypatch.setattr(Worker, "_tips", held_tips)
    worker = Worker(tips_db.engine, tips_db.settings, owner="solo", lease_seconds=30)
    worker.tick()
    assert running.wait(10), "the tip run never started"
    stopper = threading.Thread(target=worker.stop)
    stopper.start()
    stopper.join(0.3)
    still_stopping = stopper.is_alive()  # a run is under way: stop() must not return yet
    release.set()
    stopper.join(10)
    assert still_stopping and not stopper.is_alive()
    # the run finished and was recorded before stop() returned
    assert [(r.ok, r.detail) for r in runs(tips_db, "tips")] == [(True, "held")]


def test_start_background_starts_once_and_never_in_the_reloader_parent(
    tips_db: TipsDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert scheduler.start_background(tips_db.engine, tips_db.settings, reloader=True) is None
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    try:
        worker = scheduler.start_background(
            tips_db.engine,
            tips_db.settings,
            reloader=True,
            lease_seconds=30,
            tip_interval=3600,
            poll_interval=3600,
        )
        assert worker is not None
        assert scheduler.start_background(tips_db.engine, tips_db.settings) is worker
        assert wait_until(lambda: lease_holder(tips_db.engine) == worker.owner, 10)
    finally:
        scheduler.stop_background()
    assert lease_holder(tips_db.engine) is None


# -- two worker processes --------------------------------------------------------------------


@pytest.fixture
def start_worker(
    tips_db: TipsDB, tmp_path: Path
) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    env = {
        **os.environ,
        "EDU_INSTANCE": str(tips_db.settings.instance),
        "EDU_DATABASE_URL": tips_db.settings.database_url,
    }

    def start(owner: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{owner}.log").open("wb")
        logs.append(log)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from edu.cli import main; main()",
                "worker",
                "--owner",
                owner,
                "--lease-seconds",
                "2",
                "--tip-interval",
                "0.3",
                "--poll-interval",
                "0.3",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    for log in logs:
        log.close()


@pytest.mark.slow
def test_two_workers_run_the_jobs_in_one_and_the_other_takes_over_when_it_dies(
    tips_db: TipsDB, start_worker: Callable[[str], subprocess.Popen[bytes]]
) -> None:
    first = start_worker("first")
    assert wait_until(lambda: lease_holder(tips_db.engine) == "first", 30), (
        "the first worker never took the lease"
    )
    second = start_worker("second")
    assert wait_until(lambda: sum(r.owner == "first" for r in runs(tips_db)) >= 10, 30)
    # Give the second worker the time to start up and bid (it logs once it is running).
    assert wait_until(lambda: len([r for r in runs(tips_db) if r.owner == "first"]) >= 20, 30)
    assert {r.owner for r in runs(tips_db)} == {"first"}

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = utcnow()
    with Session(tips_db.engine) as session:
        lease = session.get(SchedulerLease, LEASE)
        assert lease is not None and lease.owner == "first"
        first_lease_ends = lease.expires_at
    # The lease lasts 2 s and the second worker bids every 2/3 s; how soon its jobs then
    # start depends on the machine, so the test checks the order, not the seconds.
    assert wait_until(lambda: any(r.owner == "second" for r in runs(tips_db)), 15), "no takeover"
    taken_over = min(r.started_at for r in runs(tips_db) if r.owner == "second")
    assert taken_over >= first_lease_ends, "the second worker ran a job inside the first's lease"
    assert all(r.started_at < killed_at for r in runs(tips_db) if r.owner == "first")
    assert lease_holder(tips_db.engine) == "second"

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0
    assert lease_holder(tips_db.engine) is None


# The kernel may hand a process's SIGTERM to any of its threads. Python runs the handler in
# the main thread only, when that thread next runs: a main thread blocked for good in a lock
# never does. This relay takes the test's SIGUSR1 and raises SIGTERM in its own thread.
SIGTERM_IN_ANOTHER_THREAD = """
import signal, threading
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # every thread inherits the mask
def relay():
    signal.sigwait({signal.SIGUSR1})
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
threading.Thread(target=relay, daemon=True).start()
from edu.cli import main
main()
"""


@pytest.mark.slow
def test_a_worker_stops_on_sigterm_that_lands_in_another_thread(
    tips_db: TipsDB, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "EDU_INSTANCE": str(tips_db.settings.instance),
        "EDU_DATABASE_URL": tips_db.settings.database_url,
    }
    command = [sys.executable, "-c", SIGTERM_IN_ANOTHER_THREAD, "worker", "--owner", "solo"]
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: lease_holder(tips_db.engine) == "solo", 30)
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert "worker solo stopped" in (tmp_path / "worker.log").read_text()
    assert lease_holder(tips_db.engine) is None
