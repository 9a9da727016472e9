""" "Try it now": run a lesson's try_it on a device, read it back, and put it back later.

Independent of Flask: the household page and the store demo call the same service.
Pending reverts are rows in the database, so a restart still restores them; the "reverts" job
of edu.jobs runs them every two seconds, and tests call `run_due_reverts` with a fixed clock.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from edu.db import key, unit_of_work, utcnow
from edu.models import (
    Device,
    DeviceCapability,
    Household,
    PendingRevert,
    Person,
)
from edu.services.people import uses_device
from edu.services.recommend import find_lesson
from edu.services.trylive import contract_for_device, revert_writer, same_value, writer_of
from edu.services.usage import record_usage
from edu.state import CapabilityRow

if TYPE_CHECKING:
    from devices.trycontract import Contract
    from edu.services.inventory import Inventory
    from lessons.catalogue import Lesson

logger = logging.getLogger(__name__)

MAX_REVERT_ATTEMPTS = 5


class TryItError(ValueError):
    """The lesson cannot be tried on this device (no try_it, not your device ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TryOutcome:
    """What happened when a person tried a lesson on a device.

    ``status`` is one of: ``changed`` (the device now shows the new value), ``already``
    (it showed it before), ``done`` (an action the device accepted), ``unconfirmed`` (the
    write went through but the state does not show it), ``failed`` (nothing changed).
    """

    status: str
    lesson: str
    capability: str
    device: int
    device_name: str
    value: Any = None
    before: Any = None
    after: Any = None
    revert_at: datetime | None = None
    recorded: bool = False
    reason: str = ""  # for failures: offline | auth-failed | error
    key: str = ""  # the status key read back

    @property
    def ok(self) -> bool:
        return self.status in ("changed", "already", "done")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["revert_at"] = self.revert_at.isoformat() if self.revert_at else None
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class _Plan:
    device_id: int
    did: int
    device_name: str
    capability: str
    setting: str | None
    method: str | None
    action: str | None
    model: str | None = None
    caps: tuple[Any, ...] = ()


def _plan(session: Session, person_id: int, lesson_id: str, did: int) -> tuple[_Plan, Lesson]:
    person = session.get(Person, person_id)
    if person is None:
        raise TryItError("not-found", "no such person")
    household = session.get(Household, person.household_id)
    assert household is not None
    device = session.exec(
        select(Device).where(Device.household_id == household.id, Device.did == did)
    ).first()
    if device is None or not uses_device(session, person, device):
        raise TryItError("not-found", "no such device among yours")
    lesson = find_lesson(session, key(household), lesson_id)
    if lesson is None:
        raise TryItError("not-found", f"no lesson {lesson_id!r}")
    if lesson.try_it is None:
        raise TryItError("no-try", "this lesson has nothing to try on a device")
    capability = lesson.try_it.setting or lesson.try_it.action or lesson.capability
    cap = session.exec(
        select(DeviceCapability).where(
            DeviceCapability.device_id == device.id, DeviceCapability.capability == capability
        )
    ).first()
    method = getattr(cap, "method", None) if cap is not None else None
    if cap is None or not cap.mapped:
        raise TryItError("unsupported", f"{device.display_name} does not have this feature")
    if lesson.try_it.setting and not (cap.setting or method):
        raise TryItError("unsupported", f"{device.display_name} cannot change this from here")
    if lesson.try_it.action and not (cap.action or method):
        raise TryItError("unsupported", f"{device.display_name} cannot do this from here")
    if device.token_ciphertext is None:
        raise TryItError("no-token", f"the token of {device.display_name} is not known yet")
    assert device.id is not None
    rows = session.exec(select(DeviceCapability).where(DeviceCapability.device_id == device.id))
    plan = _Plan(
        device.id,
        device.did,
        device.display_name,
        capability,  # type: ignore[arg-type]
        cap.setting,
        method,
        cap.action,
        device.model,
        tuple(CapabilityRow.of(row) for row in rows),
    )
    return plan, lesson


def check(engine: Any, *, person_id: int, lesson_id: str, did: int) -> Lesson:
    """Validate that *person* can try *lesson_id* on device *did*; return the lesson."""
    with unit_of_work(engine) as session:
        return _plan(session, person_id, lesson_id, did)[1]


def _read(inventory: Inventory, did: int) -> dict[str, Any]:
    from edu.services.inventory import InventoryError

    try:
        return inventory.read(did)
    except InventoryError as exc:
        raise TryItError("not-found", str(exc)) from None


def _in_use(capability: str, snap: dict[str, Any]) -> bool:
    from devices.vocabulary import Vocabulary

    vocabulary = Vocabulary.load()
    rule = vocabulary[capability].detect if capability in vocabulary else None
    return bool(rule is not None and rule(snap))


def _failed(plan: _Plan, value: Any, exc: BaseException) -> TryOutcome:
    reason = getattr(exc, "status", None) or "error"
    logger.info("try it on device %s failed: %s", plan.did, reason)
    return TryOutcome(
        "failed", "", plan.capability, plan.did, plan.device_name, value=value, reason=reason
    )


def try_lesson(
    inventory: Inventory,
    *,
    person_id: int,
    lesson_id: str,
    did: int,
    now: datetime | None = None,
    revert_after: int | None = None,
) -> TryOutcome:
    """Run the lesson's try_it on device *did* for *person_id*, read back, schedule the revert.

    Raises TryItError when the lesson cannot be tried there; a device that fails returns a
    ``failed`` outcome and nothing else changes.
    """
    from devices.link import LinkError
    from edu.services.inventory import InventoryError

    with unit_of_work(inventory.engine) as session:
        plan, lesson = _plan(session, person_id, lesson_id, did)
    try_it = lesson.try_it
    assert try_it is not None
    errors = (LinkError, InventoryError, KeyError, TimeoutError, OSError)
    if try_it.action:
        return _run_action(inventory, plan, lesson, person_id, now)
    value = try_it.value
    try:
        before = _read(inventory, did)
    except errors as exc:
        return _with_lesson(_failed(plan, value, exc), lesson)
    contract = _contract(inventory, plan, before, lesson)
    value = contract.value  # the lesson's meaning in this model's terms
    key = contract.key or ""
    previous = before.get(key) if key else None
    try:
        inventory.write_setting(did, plan.capability, value, method=writer_of(contract))
        after = _read(inventory, did)
    except errors as exc:
        return _with_lesson(_failed(plan, value, exc), lesson)
    shown = after.get(key) if key else None
    already = key != "" and same_value(previous, value)
    changed = key != "" and shown != previous
    confirmed = (
        (key != "" and same_value(shown, value))
        or changed
        or (_in_use(plan.capability, after) and not _in_use(plan.capability, before))
    )
    now = now or utcnow()
    revert_at = None
    with unit_of_work(inventory.engine) as session:
        device = session.get(Device, plan.device_id)
        if device is None:
            raise TryItError("not-found", "the device was removed")
        if confirmed or already:
            record_usage(
                session,
                device,
                plan.capability,
                "tried",
                person_id=person_id,
                when=now,
                detail=lesson.id,
            )
        delay = try_it.revert_after if revert_after is None else revert_after
        if delay is not None and key and changed and previous is not None:
            revert_at = now + timedelta(seconds=int(delay))
            session.add(
                PendingRevert(
                    device_id=plan.device_id,
                    person_id=person_id,
                    lesson=lesson.id,
                    capability=plan.capability,
                    key=key,
                    value=previous,
                    due_at=revert_at,
                    created_at=now,
                )
            )
    status = "already" if already and not changed else ("changed" if confirmed else "unconfirmed")
    return TryOutcome(
        status,
        lesson.id,
        plan.capability,
        did,
        plan.device_name,
        value=value,
        before=previous,
        after=shown,
        revert_at=revert_at,
        recorded=confirmed or already,
        key=key,
    )


def _contract(
    inventory: Inventory, plan: _Plan, snapshot: dict[str, Any], lesson: Lesson
) -> Contract:
    """The try-it contract on this device now; raises TryItError when it is not offered."""
    contract = contract_for_device(
        inventory.coordinator.specs, plan.model, plan.caps, snapshot, lesson
    )
    if not contract.offered:
        raise TryItError("unsupported", f"{plan.device_name}: {contract.reason}")
    return contract


def _with_lesson(outcome: TryOutcome, lesson: Lesson) -> TryOutcome:
    return TryOutcome(**{**asdict(outcome), "lesson": lesson.id})


def _run_action(
    inventory: Inventory, plan: _Plan, lesson: Lesson, person_id: int, now: datetime | None
) -> TryOutcome:
    from devices.link import LinkError

    try_it = lesson.try_it
    assert try_it is not None
    try:
        # makes sure the link is up, and that the device answers
        _contract(inventory, plan, _read(inventory, plan.did), lesson)
        inventory.run_action(plan.did, plan.capability, try_it.params)
    except (LinkError, KeyError, TimeoutError, OSError) as exc:
        return _with_lesson(_failed(plan, None, exc), lesson)
    with unit_of_work(inventory.engine) as session:
        device = session.get(Device, plan.device_id)
        assert device is not None
        record_usage(
            session,
            device,
            plan.capability,
            "tried",
            person_id=person_id,
            when=now or utcnow(),
            detail=lesson.id,
        )
    return TryOutcome("done", lesson.id, plan.capability, plan.did, plan.device_name, recorded=True)


def pending_reverts(engine: Any, *, device_id: int | None = None) -> list[PendingRevert]:
    """Return the reverts not done yet (of one device, or all), soonest first."""
    with unit_of_work(engine) as session:
        query = select(PendingRevert).where(col(PendingRevert.done).is_(False))
        if device_id is not None:
            query = query.where(PendingRevert.device_id == device_id)
        return list(session.exec(query.order_by(PendingRevert.due_at)))  # type: ignore[arg-type]


def run_due_reverts(inventory: Inventory, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Put back every setting whose revert is due; return what was done.

    A revert that fails is retried on the next run, up to MAX_REVERT_ATTEMPTS times.
    Only the oldest pending revert of a device and capability is applied: it holds the value
    from before the first try, so trying twice still restores the original setting.
    """
    from devices.link import LinkError
    from edu.services.inventory import InventoryError

    now = now or utcnow()
    with unit_of_work(inventory.engine) as session:
        due = list(
            session.exec(
                select(PendingRevert, Device)
                .join(Device)
                .where(col(PendingRevert.done).is_(False), col(PendingRevert.due_at) <= now)
                .order_by(col(PendingRevert.created_at), col(PendingRevert.id))
            )
        )
        jobs = [(r.id, d.did, r.capability, r.value, r.device_id, r.lesson, r.key) for r, d in due]
        writers = {
            job[0]: revert_writer(inventory, session, job[4], job[5], job[6], job[3])
            for job in jobs
        }
    results: list[dict[str, Any]] = []
    seen: set[tuple[int, str]] = set()
    for revert_id, did, capability, value, device_id, _, _ in jobs:
        if (device_id, capability) in seen:
            _finish(inventory, revert_id, None)  # superseded by the older revert
            continue
        seen.add((device_id, capability))
        error: str | None = None
        try:
            inventory.write_setting(did, capability, value, method=writers[revert_id])
        except (LinkError, InventoryError, KeyError, TimeoutError, OSError) as exc:
            error = getattr(exc, "status", None) or type(exc).__name__
            logger.warning("could not restore %s on device %s: %s", capability, did, error)
        _finish(inventory, revert_id, error)
        results.append(
            {"device": did, "capability": capability, "ok": error is None, "error": error}
        )
    return results


def _finish(inventory: Inventory, revert_id: int | None, error: str | None) -> None:
    with unit_of_work(inventory.engine) as session:
        row = session.get(PendingRevert, revert_id)
        if row is None:
            return
        row.attempts += 1
        row.last_error = error or ""
        row.done = error is None or row.attempts >= MAX_REVERT_ATTEMPTS
