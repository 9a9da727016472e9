"""The household state holds what devices repeat once, and a change still shows on the next read."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select
from tips_fixtures import TipsDB

from edu.catalogue import catalogue
from edu.db import unit_of_work
from edu.models import Device, DeviceCapability
from edu.sharing import Shared
from edu.state import CapabilityRow, load_state

DESCRIPTOR = {"name": "Unmapped prop", "writable": True, "choices": [1, 2]}


def test_shared_hands_back_the_first_equal_value_row_and_list() -> None:
    shared = Shared()
    first, second = "zhimi.fan.za5", "".join(["zhimi.fan.", "za5"])
    assert first is not second
    assert shared.value(first) is first and shared.value(second) is first
    when = datetime(2025, 6, 2, tzinfo=UTC)
    assert shared.value(when.replace()) is shared.value(when)
    text = '{"name": "x", "writable": true}'
    one = shared.row(CapabilityRow, "Vendor.x", False, None, None, None, text, False, json_field=5)
    two = shared.row(CapabilityRow, "Vendor.x", False, None, None, None, text, False, json_field=5)
    other = shared.row(CapabilityRow, "Vendor.x", False, None, None, None, text, True, json_field=5)
    assert one is two and one is not other
    assert one.details == {"name": "x", "writable": True} and other.details is one.details
    assert shared.rows([one, other]) is shared.rows([two, other])
    assert shared.rows([other, one]) == [other, one]


def _two_fans(db: TipsDB) -> tuple[int, int, int]:
    home = db.household()
    fans = [db.device(home, "fan", did, capabilities=["power", "child-lock"]) for did in (1, 2)]
    with unit_of_work(db.engine) as session:
        for device_id in fans:
            session.add(
                DeviceCapability(
                    device_id=device_id,
                    capability="Vendor.unmapped_prop",
                    mapped=False,
                    details=DESCRIPTOR,
                )
            )
    return home, fans[0], fans[1]


def _child_lock(session: Session, device_id: int) -> DeviceCapability:
    return session.exec(
        select(DeviceCapability).where(
            col(DeviceCapability.device_id) == device_id,
            col(DeviceCapability.capability) == "child-lock",
        )
    ).one()


def test_state_shares_equal_rows_between_devices_and_shows_a_change_to_one(any_db: TipsDB) -> None:
    home, first, second = _two_fans(any_db)
    with Session(any_db.engine) as session:
        state = load_state(session, home)
    rows = state.capabilities[first]
    assert rows is state.capabilities[second]  # same model, same capabilities: one list
    assert [r.capability for r in rows] == ["Vendor.unmapped_prop", "child-lock", "power"]
    assert rows[0].details == DESCRIPTOR and rows[1].details is None
    assert state.devices[first].family is state.devices[second].family

    with unit_of_work(any_db.engine) as session:  # a poll sees the child lock on
        row = _child_lock(session, first)
        row.in_use = True
    with Session(any_db.engine) as session:
        after = load_state(session, home)
    in_use = {d: {r.capability for r in after.capabilities[d] if r.in_use} for d in (first, second)}
    assert in_use == {first: {"child-lock"}, second: set()}
    assert after.capabilities[first] is not after.capabilities[second]
    assert after.capabilities[first][0] is after.capabilities[second][0]  # the unchanged row


def test_what_is_found_from_equal_capabilities_is_found_once_and_follows_a_change(
    any_db: TipsDB,
) -> None:
    from edu.services.progress import mapped_features
    from edu.services.recommend import candidates

    home, first, second = _two_fans(any_db)
    person = any_db.person(home, "Mia")
    with Session(any_db.engine) as session:
        state = load_state(session, home)
    one, two = state.devices[first], state.devices[second]
    assert mapped_features(state, one) is mapped_features(state, two)  # one answer, shared
    assert mapped_features(state, one) == ["child-lock", "power"]
    found = [key for key in state.memo if key[0] == "mapped"]
    assert len(found) == 1
    lessons = {c.lesson.id: c.device.id for c in candidates(state, person, catalogue())}
    assert "fan-child-lock" in lessons
    assert len([key for key in state.memo if key[0] == "lessons"]) == 1

    with unit_of_work(any_db.engine) as session:  # a poll finds the first fan offline
        fan = session.get(Device, first)
        assert fan is not None
        fan.status = "offline"
    with Session(any_db.engine) as session:
        polled = load_state(session, home)
    assert polled.revision != state.revision and polled.devices[first].status == "offline"
    # the features did not change: the answers found before are the ones handed out now
    assert mapped_features(polled, polled.devices[second]) is mapped_features(state, two)
    assert len([key for key in polled.memo if key[0] == "mapped"]) == 1

    with unit_of_work(any_db.engine) as session:  # the second fan loses its child lock
        row = _child_lock(session, second)
        session.delete(row)
    with Session(any_db.engine) as session:
        after = load_state(session, home)
    one, two = after.devices[first], after.devices[second]
    assert mapped_features(after, one) == ["child-lock", "power"]
    assert mapped_features(after, two) == ["power"]
    assert len([key for key in after.memo if key[0] == "mapped"]) == 2
