"""Guided demos: start (snapshot), show a step, end or reset (restore, undo, check), time out.

Every function takes ``now`` so tests drive the inactivity timeout with a fixed clock. The
device commands go through the Desk's throttle: one command per device per second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from edu.db import key, unit_of_work, utcnow
from edu.models import Device, Household, PendingRevert
from edu.services.tryit import TryItError, TryOutcome, try_lesson
from edu.store import audit, script, snapshot, undo
from edu.store.audit import Staff
from edu.store.models import DemoDevice, DemoSession, DemoStep, demo_device, restorable, running
from edu.store.throttle import DeviceBusy, Throttle

if TYPE_CHECKING:
    from edu.services.inventory import Inventory

logger = logging.getLogger(__name__)

UNREACHABLE = ("offline", "auth-failed")


class DemoError(ValueError):
    """A demo request that cannot be done; ``code`` for the page, the message in plain words."""

    def __init__(self, code: str, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(message)
        # not-found | not-store | offline | auth-failed | busy | not-running | no-step
        self.code = code
        self.retry_after = retry_after


@dataclass
class Desk:
    """What the demo services share in one process: the inventory, the throttle, the timeout."""

    inventory: Inventory
    throttle: Throttle = field(default_factory=Throttle)
    timeout: timedelta = timedelta(minutes=5)

    @classmethod
    def for_inventory(cls, inventory: Inventory) -> Desk:
        """Build the desk with the timeout from the inventory's settings (EDU_DEMO_TIMEOUT)."""
        return cls(inventory, timeout=timedelta(seconds=inventory.settings.demo_timeout))


@dataclass(frozen=True)
class Reset:
    """The outcome of putting one device back: ``ok``, or the problems that remain."""

    did: int
    device_name: str
    ok: bool
    # offline | auth-failed | differs | not-at-rest | error | busy | nothing (no snapshot)
    reason: str = ""
    problems: tuple[dict[str, Any], ...] = ()
    written: int = 0
    undone: tuple[str, ...] = ()  # the actions run to bring it back to rest, and checked

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.did,
            "device_name": self.device_name,
            "ok": self.ok,
            "reason": self.reason,
            "problems": list(self.problems),
            "written": self.written,
            "undone": list(self.undone),
        }


# -- lookups ------------------------------------------------------------------------------


def store_device(session: Session, household_id: int, did: int) -> Device:
    """Return device *did* of a store, or raise DemoError."""
    household = session.get(Household, household_id)
    if household is None or household.kind != "store":
        raise DemoError("not-store", "demo mode is for shops")
    device = session.exec(
        select(Device).where(Device.household_id == household_id, Device.did == did)
    ).first()
    if device is None:
        raise DemoError("not-found", "no such device on the demo table")
    return device


def _mark_device(session: Session, device: Device, status: str, detail: str, now: datetime) -> None:
    if status == "online":
        device.last_seen = now
        detail = ""
    if (device.status, device.status_detail) != (status, detail):
        device.status, device.status_detail = status, detail


# -- start and show ---------------------------------------------------------------------


def start(desk: Desk, staff: Staff, did: int, *, now: datetime | None = None) -> int:
    """Start a demo of *did*: snapshot its writable settings first; return the session id.

    A device already in a demo keeps it. A device that was not put back after its last
    demo keeps its old snapshot: that one holds its normal settings.
    """
    now = now or utcnow()
    with unit_of_work(desk.inventory.engine) as session:
        device = store_device(session, staff.household_id, did)
        current = running(session, key(device))
        if current is not None:
            current.last_activity = now
            return key(current)
        record = demo_device(session, key(device))
        fresh = record is None or record.state == "ready" or record.snapshot is None
    taken: dict[str, Any] | None = None
    if fresh:
        taken = _command(desk, did, lambda: snapshot.take(desk.inventory, did), staff, now)
    with unit_of_work(desk.inventory.engine) as session:
        device = store_device(session, staff.household_id, did)
        record = demo_device(session, key(device)) or DemoDevice(device_id=key(device))
        if taken is not None:
            pending = (record.snapshot or {}).get("actions", [])  # never drop an undo owed
            record.snapshot = {**taken, "actions": pending} if pending else taken
            record.snapshot_at = now
        demo = DemoSession(
            household_id=staff.household_id,
            device_id=key(device),
            person_id=staff.id,
            started_at=now,
            last_activity=now,
        )
        session.add(demo)
        session.flush()
        record.session_id, record.state = demo.id, "in-demo"
        session.add(record)
        _mark_device(session, device, "online", "", now)
        settings = len((record.snapshot or {}).get("settings", {}))
        audit.record(
            session,
            staff,
            "start-demo",
            device_id=device.id,
            now=now,
            detail=f"{settings} settings saved" if taken else "earlier snapshot kept",
        )
        return key(demo)


def _command(desk: Desk, did: int, fn: Callable[[], Any], staff: Staff, now: datetime) -> Any:
    """Run one device command under the throttle; turn failures into DemoError."""
    try:
        with desk.throttle.command(did):
            return fn()
    except DeviceBusy as exc:
        raise DemoError(
            "busy", "the device is busy; try again in a moment", retry_after=exc.retry_after
        ) from None
    except snapshot.Unreachable as exc:
        with unit_of_work(desk.inventory.engine) as session:
            device = store_device(session, staff.household_id, did)
            _mark_device(session, device, exc.status, str(exc), now)
        raise DemoError(exc.status if exc.status in UNREACHABLE else "offline", str(exc)) from None


@dataclass(frozen=True)
class Shown:
    """A step shown on the device: the try-it outcome, and whether it was asked for again."""

    outcome: TryOutcome
    again: bool


def show(
    desk: Desk,
    staff: Staff,
    did: int,
    lesson_id: str,
    *,
    lang: str = "en",
    now: datetime | None = None,
) -> Shown:
    """Run one step of the device's script (its lesson's try_it) during a running demo."""
    now = now or utcnow()
    with unit_of_work(desk.inventory.engine) as session:
        device = store_device(session, staff.household_id, did)
        demo = running(session, key(device))
        if demo is None:
            raise DemoError("not-running", "start the demo of this device first")
        steps = script.script(
            session, device, lang=lang, restorable=restorable(session, key(device))
        )
        step = next((s for s in steps if s.lesson == lesson_id), None)
        if step is None:
            raise DemoError("no-step", "this is not a step of the device's demo")
        demo.last_activity = now
        session_id = key(demo)
        record = demo_device(session, key(device))
        if record is not None:  # before the command: a crash after it must not lose the undo
            record.snapshot = undo.note(record.snapshot, step.capability)
    if staff.id is None:
        raise DemoError("not-found", "only signed-in staff can show a feature")
    person_id = staff.id
    try:
        outcome = _command(
            desk,
            did,
            lambda: try_lesson(
                desk.inventory, person_id=person_id, lesson_id=lesson_id, did=did, now=now
            ),
            staff,
            now,
        )
    except TryItError as exc:
        raise DemoError("no-step", str(exc)) from None
    with unit_of_work(desk.inventory.engine) as session:
        device = store_device(session, staff.household_id, did)
        again = (
            session.exec(
                select(DemoStep.id).where(
                    DemoStep.session_id == session_id,
                    DemoStep.lesson == lesson_id,
                    DemoStep.status != "failed",
                )
            ).first()
            is not None
        )
        session.add(
            DemoStep(
                session_id=session_id,
                device_id=key(device),
                lesson=lesson_id,
                capability=outcome.capability,
                status=outcome.status,
                again=again and outcome.ok,
                shown_at=now,
            )
        )
        demo = session.get(DemoSession, session_id)
        if demo is not None:
            demo.last_activity = now
        if outcome.status == "failed" and outcome.reason in UNREACHABLE:
            _mark_device(session, device, outcome.reason, "did not answer during a demo", now)
        elif outcome.status != "failed":
            _mark_device(session, device, "online", "", now)
        audit.record(
            session,
            staff,
            "show-again" if again else "show",
            device_id=device.id,
            detail=f"{lesson_id}: {outcome.status}",
            now=now,
        )
    return Shown(outcome, again)


# -- end, reset, timeout ----------------------------------------------------------------


def _restore(desk: Desk, staff: Staff, did: int, reason: str, now: datetime) -> Reset:
    """Put *did* back to its snapshot, record the result, end its running demo."""
    with unit_of_work(desk.inventory.engine) as session:
        device = store_device(session, staff.household_id, did)
        name = device.display_name
        record = demo_device(session, key(device))
        saved = record.snapshot if record is not None else None
        demo = running(session, key(device))
    if saved is None:
        if demo is not None:
            _finish(desk, staff, did, reason, now, None)
        return Reset(did, name, True, "nothing")
    try:
        with desk.throttle.command(did):
            result = snapshot.restore(desk.inventory, did, saved)
            undo.settle(desk.inventory, did, saved, result)
    except DeviceBusy:
        return Reset(did, name, False, "busy")
    return _finish(desk, staff, did, reason, now, result)


def _finish(
    desk: Desk, staff: Staff, did: int, reason: str, now: datetime, result: snapshot.Restore | None
) -> Reset:
    ok = result is None or result.ok
    why = result.reason if result is not None else ""
    problems = tuple(p.to_dict() for p in (result.problems if result else ()))
    with unit_of_work(desk.inventory.engine) as session:
        device = store_device(session, staff.household_id, did)
        record = demo_device(session, key(device))
        demo = running(session, key(device))
        if demo is not None:
            demo.ended_at = demo.last_activity if reason == "timeout" else now
            demo.end_reason, demo.restored = reason, ok
        if record is not None:
            record.session_id = None
            record.state = "ready" if ok else "flagged"
            record.problem, record.problems = why, list(problems)
            if ok:
                record.last_reset, record.snapshot = now, undo.cleared(record.snapshot, result)
        if result is not None:
            if result.unreachable:
                _mark_device(session, device, result.unreachable, "could not be put back", now)
            else:
                _mark_device(session, device, "online", "", now)
            _drop_reverts(session, key(device))
        action = {"ended": "end-demo", "reset-all": "reset-all", "timeout": "timeout"}.get(
            reason, "reset"
        )
        for undone in result.undone if result is not None else ():
            audit.record(
                session, staff, "undo", device_id=device.id, detail=undone.detail(), now=now
            )
        detail = "back to normal" if ok else f"not restored: {why}"
        audit.record(session, staff, action, device_id=device.id, detail=detail, now=now)
        written = len(result.written) if result else 0
        back = tuple(u.undo for u in result.undone if u.status == "done") if result else ()
        return Reset(did, device.display_name, ok, why, problems, written, back)


def _drop_reverts(session: Session, device_id: int) -> None:
    """The snapshot supersedes the reverts "try it" scheduled: they would write stale values."""
    for revert in session.exec(
        select(PendingRevert).where(
            PendingRevert.device_id == device_id, col(PendingRevert.done).is_(False)
        )
    ):
        revert.done, revert.last_error = True, "superseded by the demo reset"


def end(desk: Desk, staff: Staff, did: int, *, now: datetime | None = None) -> Reset:
    """End the demo of *did*: put every setting back and check it by reading the device."""
    return _restore(desk, staff, did, "ended", now or utcnow())


def reset(desk: Desk, staff: Staff, did: int, *, now: datetime | None = None) -> Reset:
    """Put *did* back to its snapshot (ending its demo if one runs), e.g. a flagged device."""
    return _restore(desk, staff, did, "reset", now or utcnow())


def _resettable(desk: Desk, household_id: int) -> list[int]:
    with unit_of_work(desk.inventory.engine) as session:
        rows = session.exec(
            select(Device.did, DemoDevice.state)
            .join(DemoDevice, col(DemoDevice.device_id) == Device.id)
            .where(Device.household_id == household_id)
        ).all()
    return sorted(did for did, state in rows if state in ("in-demo", "flagged"))


def reset_all(desk: Desk, staff: Staff, *, now: datetime | None = None) -> list[Reset]:
    """Put back every device in a demo or flagged, several at a time."""
    now = now or utcnow()
    dids = _resettable(desk, staff.household_id)
    if not dids:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(dids))) as pool:
        return list(pool.map(lambda d: _restore(desk, staff, d, "reset-all", now), dids))


def expire_idle(desk: Desk, *, now: datetime | None = None) -> list[Reset]:
    """Reset every device whose demo saw no activity for the timeout (default 5 minutes)."""
    now = now or utcnow()
    with unit_of_work(desk.inventory.engine) as session:
        idle = session.exec(
            select(DemoSession, Device)
            .join(Device)
            .where(
                col(DemoSession.ended_at).is_(None), DemoSession.last_activity <= now - desk.timeout
            )
        ).all()
        jobs = [(demo.household_id, device.did) for demo, device in idle]
    results = []
    for household_id, did in jobs:
        logger.info("demo of device %s timed out; putting it back", did)
        system = Staff(None, audit.SYSTEM, household_id)
        results.append(_restore(desk, system, did, "timeout", now))
    return results
