"""The try-it contract for a stored device: shared by the lesson page, "Try it now" and the CLI.

``contract_for_device`` answers whether a lesson's try-it is offered on one device, from its
model's class (examined offline once per model), its stored capabilities and its latest
status; ``live_check`` runs every offered try-it on every device and puts each one back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from devices.trycontract import Contract, Target
from edu.state import CapabilityLike, CapabilityRow

if TYPE_CHECKING:
    from edu.services.inventory import Inventory
    from lessons.catalogue import Lesson

logger = logging.getLogger(__name__)

NO_CLASS = "no python-miio class or MIoT spec speaks for this model here"


def device_target(
    specs: Any,
    model: str | None,
    caps: Iterable[CapabilityLike],
    snapshot: Mapping[str, Any] | None,
) -> tuple[Target | None, dict[str, Any] | None]:
    """The contract target of a stored device (None when its model has no python-miio class)."""
    from devices.identify import implementation_for
    from devices.offline import view_of
    from devices.vocabulary import Vocabulary

    if not model:
        return None, None
    try:
        cls, spec, _ = implementation_for(model, specs)
    except Exception as exc:  # a broken spec file must not break a page
        logger.debug("no class for %s: %s", model, exc)
        return None, None
    if cls is None:
        return None, None
    view = view_of(model, cls, Vocabulary.load(), spec)
    mapped = [c for c in caps if c.mapped]
    target = Target(
        model,
        cls,
        frozenset(c.capability for c in mapped),
        {c.capability: c.setting for c in mapped if c.setting},
        {c.capability: c.action for c in mapped if c.action},
        {c.capability: c.method for c in mapped if c.method},
        view.report.descriptors if view.report is not None else {},
        # not read yet: what the model's class declares it shows
        dict(snapshot) if snapshot else dict(view.target.keys if view.target else {}),
        live=bool(snapshot),
    )
    return target, spec


def contract_for_device(
    specs: Any,
    model: str | None,
    caps: Iterable[CapabilityLike],
    snapshot: Mapping[str, Any] | None,
    lesson: Lesson,
) -> Contract:
    """Is *lesson*'s try-it offered on this device, and how is it done?"""
    from devices.offline import contract_for
    from devices.vocabulary import Vocabulary

    try_it = lesson.try_it
    cap_id = (try_it.setting or try_it.action) if try_it is not None else None
    if try_it is None or not cap_id:
        return Contract(lesson.capability, False, "this lesson has nothing to try on a device")
    if cap_id != lesson.capability:
        return Contract(cap_id, False, "the try-it changes another feature than the lesson's")
    target, spec = device_target(specs, model, caps, snapshot)
    if target is None:
        return Contract(cap_id, False, NO_CLASS)
    contract, failure = contract_for(
        Vocabulary.load(), try_it.setting, try_it.value, target, action=try_it.action, spec=spec
    )
    if failure:  # the class should take it but does not: never offer a failing button
        return Contract(cap_id, False, failure)
    return contract


def same_value(shown: Any, wanted: Any) -> bool:
    """Compare a device's reported value with a lesson's plain value, loosely."""
    if shown == wanted:
        return True
    if isinstance(wanted, bool) or isinstance(shown, bool):
        from devices.detectors import _truthy

        return _truthy(shown) == _truthy(wanted)
    try:
        return float(shown) == float(wanted)
    except (TypeError, ValueError):
        pass
    return str(shown).strip().casefold() == str(wanted).strip().casefold()


def revert_writer(
    inventory: Inventory, session: Any, device_id: int, lesson_id: str, key: str, value: Any
) -> str | None:
    """The setter the try-it used, so the previous value goes back the same way (None: stored)."""
    from sqlmodel import select

    from edu.catalogue import catalogue
    from edu.models import Device, DeviceCapability

    device = session.get(Device, device_id)
    lesson = catalogue().get(lesson_id)
    if device is None or lesson is None:
        return None
    rows = session.exec(select(DeviceCapability).where(DeviceCapability.device_id == device_id))
    contract = contract_for_device(
        inventory.coordinator.specs,
        device.model,
        [CapabilityRow.of(row) for row in rows],
        {key: value},
        lesson,
    )
    return writer_of(contract) if contract.offered else None


def _rows_for_device(
    inventory: Inventory, did: int, model: str | None, caps: list[Any], lessons: list[Lesson]
) -> list[dict[str, Any]]:
    from devices.link import LinkError
    from edu.services.inventory import InventoryError

    errors = (LinkError, InventoryError, KeyError, TimeoutError, OSError)
    rows: list[dict[str, Any]] = []
    for lesson in lessons:
        row: dict[str, Any] = {"lesson": lesson.id, "device": did, "model": model, "ok": False}
        row.update(before=None, after=None, restored=False, reason="")
        try:
            snapshot = inventory.read(did)
        except errors as exc:
            rows.append({**row, "reason": f"cannot read the device: {exc}"})
            continue
        contract = contract_for_device(inventory.coordinator.specs, model, caps, snapshot, lesson)
        if not contract.offered:
            continue  # not offered on this device: nothing is promised
        try:
            rows.append({**row, **run_contract(inventory, did, contract, snapshot)})
        except errors as exc:
            rows.append({**row, "reason": f"{type(exc).__name__}: {exc}"})
    return rows


def run_contract(
    inventory: Inventory, did: int, contract: Contract, snapshot: Mapping[str, Any]
) -> dict[str, Any]:
    """Write the try-it, read it back, put the previous value back and read that back too."""
    cap = contract.capability
    if contract.via == "action":
        return _run_action(inventory, did, cap)
    key = contract.key or ""
    before = snapshot.get(key)
    inventory.write_setting(did, cap, contract.value, method=writer_of(contract))
    after = inventory.read(did).get(key)
    inventory.write_setting(did, cap, before, method=writer_of(contract))
    back = inventory.read(did).get(key)
    took = same_value(after, contract.value) or (after != before)
    restored = back == before or same_value(back, before)
    reason = "" if took and restored else ("not restored" if took else "the device did not change")
    if took and restored and same_value(before, contract.value):
        reason = "it already showed that value: written again, nothing to see change"
    return {
        "ok": took and restored,
        "before": before,
        "after": after,
        "restored": restored,
        "value": contract.value,
        "reason": reason,
    }


def _run_action(inventory: Inventory, did: int, cap: str) -> dict[str, Any]:
    """Run an action, then its vocabulary undo; restored when the device is back at rest."""
    from devices.vocabulary import Vocabulary

    inventory.run_action(did, cap)
    undo = Vocabulary.load().undo_of(cap)
    if undo is None or undo.how != "run" or undo.run is None:
        return {"ok": True, "restored": True, "reason": ""}
    inventory.run_action(did, undo.run, undo.params)
    snapshot = inventory.read(did)
    at_rest = undo.at_rest is None or undo.at_rest(snapshot)
    return {"ok": at_rest, "restored": at_rest, "reason": "" if at_rest else "not back at rest"}


def writer_of(contract: Contract) -> str | None:
    """The setter method a contract writes through (None: the stored one, or a descriptor)."""
    return contract.writer if contract.via in ("method", "switch") else None


def live_check(
    inventory: Inventory, lessons: Iterable[Lesson], *, model: str | None = None
) -> list[dict[str, Any]]:
    """On every stored device with a token (of models matching *model*), run every offered
    try-it and put it back."""
    from fnmatch import fnmatchcase

    from sqlmodel import col, select

    from edu.db import unit_of_work
    from edu.models import Device, DeviceCapability

    with unit_of_work(inventory.engine) as session:
        household = inventory.household(session)
        devices = list(
            session.exec(
                select(Device)
                .where(Device.household_id == household.id)
                .where(col(Device.token_ciphertext).is_not(None))
                .order_by(col(Device.did))
            )
        )
        plan = []
        for device in devices:
            found = session.exec(
                select(DeviceCapability).where(DeviceCapability.device_id == device.id)
            )
            plan.append(
                (device.did, device.model, device.family, [CapabilityRow.of(c) for c in found])
            )
    wanted = [lesson for lesson in lessons if lesson.try_it is not None]
    rows: list[dict[str, Any]] = []
    plan = [p for p in plan if model is None or fnmatchcase(p[1] or "", model)]
    for did, device_model, family, caps in plan:
        have = {c.capability for c in caps if c.mapped}
        mine = [
            lesson
            for lesson in wanted
            if lesson.capability in have
            and lesson.applies_to(family, device_model)
            and (family is not None or not lesson.families)
        ]
        rows.extend(_rows_for_device(inventory, did, device_model, caps, mine))
    return rows
