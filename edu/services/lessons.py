"""A lesson as a person meets it: the device it is shown for, whether they use it, whether they can try it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlmodel import Session

from edu.db import key
from edu.models import Device, Household, Person
from edu.services.people import NotFound
from edu.services.recommend import find_lesson, load_state
from edu.services.trylive import contract_for_device


@lru_cache(maxsize=512)
def rendered(body: str, family: str | None) -> str:
    """Render a lesson body to sanitised HTML (cached: lessons do not change while running)."""
    from lessons.render import render

    return render(body, family=family)


def lesson_context(
    session: Session,
    home: Household,
    person: Person,
    lesson_id: str,
    did: int | None,
    specs: Any,
) -> dict[str, Any]:
    """Find the lesson, the device it is shown for, and whether the person uses the feature.

    *specs* are the MIoT specs the device's try-it contract is read from (the coordinator's).
    Raises NotFound when the household has no such lesson.
    """
    lesson = find_lesson(session, key(home), lesson_id, person.language)
    if lesson is None:
        raise NotFound(f"no lesson {lesson_id}")
    state = load_state(session, home)
    mine = [state.devices[i] for i in sorted(state.devices_of.get(person.id, ()))]  # type: ignore[arg-type]
    having = [
        d
        for d in mine
        if any(
            c.capability == lesson.capability and c.mapped for c in state.capabilities.get(d.id, ())
        )
    ]  # type: ignore[call-overload]
    if did is not None:
        device = next((d for d in having if d.did == did), None)
    else:
        device = next(
            (d for d in having if lesson.applies_to(d.family, d.model)),
            having[0] if having else None,
        )
    assert person.id is not None
    in_use = device is not None and (device.id, lesson.capability) in state.used.get(
        person.id, set()
    )
    can_try = False
    if device is not None and lesson.try_it is not None and device.token_known:
        # the same contract `edu lessons check` proves: offered only where it can run,
        # be read back and be put back
        row = session.get(Device, device.id)
        snapshot = row.last_snapshot if row is not None else None
        caps = state.capabilities.get(device.id, [])
        contract = contract_for_device(specs, device.model, caps, snapshot, lesson)
        can_try = contract.offered
    return {
        "lesson": lesson,
        "device": device,
        "in_use": in_use,
        "can_try": can_try,
        "others": [d for d in having if device is None or d.did != device.did],
        "body": rendered(lesson.body, lesson.families[0] if lesson.families else None),
    }
