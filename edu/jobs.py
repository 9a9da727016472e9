"""All background work: one APScheduler of jobs (device polls, tip runs, try-it reverts, store-demo
timeouts, the nightly backup, the weekly community report) that runs in one process only, by lease.

Every worker process competes for one lease row in the database (owner, expires_at). The
holder renews it every third of its lifetime and runs an APScheduler 3 BackgroundScheduler
whose jobs live in the project database (SQLAlchemyJobStore); the others only keep trying
the lease. When the holder dies, its lease runs out and another worker takes over, with the
persisted jobs: missed runs are coalesced into one. Each job checks the lease again before
doing anything, so a holder that stalled past its lease never runs a job beside the new one.
The quick jobs (due try-it reverts every 2 s, store demos left idle every 5 s, the hourly
check for the weekly community report) keep their schedule in memory and no run history: their work is rows in the database, so whichever
process holds the lease does it.

`start_background(engine, settings)` is what `edu serve` calls; `edu worker` runs the same in
the foreground. Neither the app factory nor an import ever starts a scheduler.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from edu.config import Settings
from edu.db import unit_of_work, utcnow
from edu.lease import acquire_lease, lease_holder, release_lease
from edu.models import SchedulerRun

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 60.0
POLL_JOB_SECONDS = 60.0
REVERT_JOB_SECONDS = 2.0
STORE_JOB_SECONDS = 5.0
COMMUNITY_JOB_SECONDS = 3600.0  # checks hourly; the report goes once a week, while joined
RECORDED = ("poll", "tips", "backup")  # jobs whose runs are kept in the history (SchedulerRun)
RUN_HISTORY = timedelta(days=7)
Clock = Callable[[], datetime]


# -- the worker ------------------------------------------------------------------------------


class Worker:
    """One process's bid to run the scheduled jobs."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        owner: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        tip_interval: float | None = None,
        poll_interval: float | None = None,
        clock: Clock = utcnow,
        inventory: Any = None,
        desk: Any = None,
        quick_jobs: bool = True,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_seconds = lease_seconds
        self.tip_interval = tip_interval or settings.tip_interval
        self.poll_interval = poll_interval or min(settings.poll_interval, POLL_JOB_SECONDS)
        self.clock = clock
        self._scheduler: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # one Inventory (one coordinator, one handle per device) per process: the app's
        # when the web page runs beside the scheduler, else our own
        self._inventory: Any = inventory
        self._desk: Any = (
            desk  # the store demo desk (its per-device throttle), the app's when given
        )
        self.quick_jobs = quick_jobs
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Worker({self.owner!r})"

    @property
    def scheduling(self) -> bool:
        """Is this worker's scheduler running (it holds the lease)?"""
        return self._scheduler is not None

    def holds_lease(self) -> bool:
        """Does this worker hold an unexpired lease right now?"""
        return lease_holder(self.engine, now=self.clock()) == self.owner

    def tick(self) -> bool:
        """Take or renew the lease; start or stop the scheduler to match. Return whether held."""
        try:
            held = acquire_lease(self.engine, self.owner, self.lease_seconds, now=self.clock())
        except OperationalError as exc:  # the database is busy or away: try again next tick
            logger.warning(
                "worker %s could not renew its lease: %s", self.owner, type(exc).__name__
            )
            held = False
        with self._lock:
            if held and self._scheduler is None and not self._stop.is_set():
                logger.info("worker %s holds the lease; starting the jobs", self.owner)
                self._scheduler = self._start_scheduler()
            elif not held and self._scheduler is not None:
                logger.info("worker %s lost the lease; stopping the jobs", self.owner)
                self._stop_scheduler()
        return held

    def start(self) -> Worker:
        """Keep bidding for the lease in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name=f"edu-worker-{self.owner}", daemon=True
            )
            self._thread.start()
        return self

    def _loop(self) -> None:
        every = max(self.lease_seconds / 3, 0.05)
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(every)

    def stop(self) -> None:
        """Stop the jobs and hand the lease back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.lease_seconds)
        with self._lock:
            # wait for a job that is running: it must not outlive the worker (or its database)
            self._stop_scheduler(wait=True)
        with _current_lock:
            if self in _current:
                _current.remove(self)
        try:
            release_lease(self.engine, self.owner)
        except OperationalError:
            logger.warning(
                "worker %s could not release its lease; it expires by itself", self.owner
            )

    def _start_scheduler(self) -> Any:
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        _register(self)
        scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.engine),
                "memory": MemoryJobStore(),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        scheduler.start(paused=True)
        jobs = {
            "poll": (self.poll_interval, min(self.poll_interval / 6, 30.0)),
            "tips": (self.tip_interval, min(self.tip_interval / 10, 30.0)),
        }
        for job_id, (seconds, jitter) in jobs.items():
            existing = scheduler.get_job(job_id)
            trigger = IntervalTrigger(seconds=seconds, jitter=jitter or None, timezone="UTC")
            if (
                existing is not None
                and getattr(existing.trigger, "interval", None) == trigger.interval
            ):
                continue  # keep the persisted schedule: missed runs coalesce into one
            scheduler.add_job(
                f"{__name__}:run_job",
                trigger,
                args=[job_id],
                id=job_id,
                name=job_id,
                replace_existing=True,
                misfire_grace_time=max(int(seconds), 1),
                next_run_time=self.clock(),
            )
        self._schedule_backup(scheduler)
        if self.quick_jobs:
            quick = (
                ("reverts", REVERT_JOB_SECONDS),
                ("store", STORE_JOB_SECONDS),
                ("community", COMMUNITY_JOB_SECONDS),
            )
            for job_id, seconds in quick:
                scheduler.add_job(
                    f"{__name__}:run_job",
                    IntervalTrigger(seconds=seconds, timezone="UTC"),
                    args=[job_id],
                    id=job_id,
                    name=job_id,
                    jobstore="memory",
                    misfire_grace_time=max(int(seconds), 1),
                )
        scheduler.resume()
        return scheduler

    def _schedule_backup(self, scheduler: Any) -> None:
        """The nightly backup (EDU_BACKUP_AT); none on PostgreSQL or with EDU_BACKUP_KEEP=0."""
        from edu.backups.backup import nightly_trigger

        trigger = nightly_trigger(self.settings)
        if trigger is None:
            if scheduler.get_job("backup") is not None:
                scheduler.remove_job("backup")
            return
        scheduler.add_job(
            f"{__name__}:run_job",
            trigger,
            args=["backup"],
            id="backup",
            name="backup",
            replace_existing=True,
            misfire_grace_time=3600,  # a server that was off at the hour backs up within the hour
        )

    def _stop_scheduler(self, *, wait: bool = False) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None

    # -- the jobs ----------------------------------------------------------------------------

    def run(self, job: str) -> dict[str, Any] | None:
        """Run one job now if this worker holds the lease; record the run. None when it does not."""
        if not self.holds_lease():
            logger.info("worker %s skipped %s: not the lease holder", self.owner, job)
            return None
        if job not in RECORDED:
            try:
                return {"job": job, "ok": True, "detail": self._quick(job)}
            except Exception as exc:  # a bad row must not end the worker: next round retries
                logger.exception("job %s failed in worker %s", job, self.owner)
                return {"job": job, "ok": False, "detail": type(exc).__name__}
        started = self.clock()
        with unit_of_work(self.engine) as session:
            record = SchedulerRun(job=job, owner=self.owner, started_at=started)
            session.add(record)
            session.flush()
            run_id = record.id
        ok, detail = False, ""
        try:
            result = {"poll": self._poll, "tips": self._tips, "backup": self._backup}[job]()
            ok, detail = True, result
        except Exception as exc:  # a failed run is recorded and retried next time
            logger.exception("job %s failed in worker %s", job, self.owner)
            detail = f"{type(exc).__name__}"
        with unit_of_work(self.engine) as session:
            stored = session.get(SchedulerRun, run_id)
            if stored is not None:
                stored.finished_at, stored.ok, stored.detail = self.clock(), ok, detail[:500]
            if job == "tips":
                old = col(SchedulerRun.started_at) < started - RUN_HISTORY
                session.execute(delete(SchedulerRun).where(old))
        return {"job": job, "ok": ok, "detail": detail}

    def inventory(self) -> Any:
        """This process's Inventory: the app's when the page runs beside the jobs, else our own."""
        from edu.services.inventory import Inventory

        if self._inventory is None:
            self._inventory = Inventory.open(self.engine, self.settings)
        return self._inventory

    def _quick(self, job: str) -> str:
        if job == "reverts":
            from edu.services.tryit import run_due_reverts

            return f"{len(run_due_reverts(self.inventory(), now=self.clock()))} revert(s)"
        if job == "community":
            from edu.community.link import send_if_due

            return send_if_due(self.engine, self.settings, clock=self.clock)
        from edu.store.sessions import Desk, expire_idle

        if self._desk is None:
            self._desk = Desk.for_inventory(self.inventory())
        return f"{len(expire_idle(self._desk, now=self.clock()))} idle demo(s) put back"

    def _poll(self) -> str:
        rows = self.inventory().poll(due_only=True, now=self.clock())
        return f"{len(rows)} device(s) polled"

    def _backup(self) -> str:
        from edu.backups.backup import nightly_backup

        return nightly_backup(self.settings, now=self.clock())

    def _tips(self) -> str:
        from edu.tips.run import run_tips

        report = run_tips(self.engine, self.settings, self.clock(), collect=False)
        return f"{report.sent} tip(s) to {report.people} people"


# -- one worker per process ------------------------------------------------------------------

_current: list[Worker] = []
_current_lock = threading.Lock()


def _register(worker: Worker) -> None:
    with _current_lock:
        if worker not in _current:
            _current[:] = [worker]


def run_job(job: str) -> None:
    """The scheduler's entry point (by reference, so the job store holds no engine or secret)."""
    with _current_lock:
        worker = _current[0] if _current else None
    if worker is None:
        logger.warning("job %s fired with no worker in this process", job)
        return
    worker.run(job)


def start_background(
    engine: Engine, settings: Settings, *, reloader: bool = False, **options: Any
) -> Worker | None:
    """Start this process's worker (once); `edu serve` calls it.

    Under Werkzeug's reloader the watching parent process starts nothing: only the child
    that serves (``WERKZEUG_RUN_MAIN=true``) does, so two schedulers never start together.
    """
    if reloader and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _current_lock:
        if _current:
            return _current[0]
    worker = Worker(engine, settings, **options)
    _register(worker)
    return worker.start()


def stop_background() -> None:
    """Stop this process's worker, if one was started."""
    with _current_lock:
        worker = _current[0] if _current else None
    if worker is not None:
        worker.stop()
