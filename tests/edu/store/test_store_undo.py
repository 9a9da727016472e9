"""A store demo leaves a device at rest after the actions it showed: a vacuum goes home."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from demo_fixtures import STAFF, STAFF_PIN, T0, Store
from flask import Flask
from sqlmodel import Session, col, select
from web_fixtures import Web

from devices.fleet import Fleet
from edu.models import Device, DeviceCapability, Household, Person
from edu.store import board, script, sessions
from edu.store.models import DemoDevice, StaffAction

VACUUM, SPOT, HOME = "Living room vacuum", "vacuum-spot-cleaning", "vacuum-return-to-dock"
# python-miio's Roborock state codes for a robot that is cleaning somewhere
CLEANING = {5, 7, 11, 16, 17, 18}


def _row(store: Store, name: str) -> board.BoardRow:
    with store.session() as session:
        rows = board.board(session, store.staff.household_id, timeout=store.desk.timeout)
    return next(r for r in rows if r.name == name)


def _log(store: Store) -> list[tuple[str, str, str]]:
    with store.session() as session:
        rows = session.exec(select(StaffAction).order_by(col(StaffAction.id))).all()
    return [(r.who, r.action, r.detail) for r in rows]


def _spot_clean(store: Store) -> int:
    did = store.did(VACUUM)
    sessions.start(store.desk, store.staff, did, now=T0)
    shown = sessions.show(store.desk, store.staff, did, SPOT, now=T0 + timedelta(seconds=20))
    assert shown.outcome.status == "done"
    assert store.read_back(VACUUM)["state_code"] == 11  # spot cleaning, in the middle of the shop
    return did


def test_end_demo_sends_a_spot_cleaning_robot_home_and_python_miio_reads_it_not_cleaning(
    store: Store,
) -> None:
    did = _spot_clean(store)
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert (result.ok, result.undone) == (True, ("return-to-dock",))
    now = store.read_back(VACUUM)
    assert now["state_code"] not in CLEANING
    assert (now["state"], now["state_code"]) == ("Returning home", 6)
    assert store.fleet_device(VACUUM).requests["app_charge"] == 1
    assert _row(store, VACUUM).demo == "ready"
    assert _log(store)[-2:] == [
        ("Sam", "undo", "spot-cleaning: return-to-dock, back at rest (Returning home)"),
        ("Sam", "end-demo", "back to normal"),
    ]


def test_the_inactivity_timeout_sends_the_robot_home_with_a_fixed_clock(store: Store) -> None:
    did = _spot_clean(store)
    assert sessions.expire_idle(store.desk, now=T0 + timedelta(minutes=5)) == []
    assert store.read_back(VACUUM)["state_code"] == 11
    [result] = sessions.expire_idle(store.desk, now=T0 + timedelta(minutes=5, seconds=20))
    assert result.ok and result.did == did and result.undone == ("return-to-dock",)
    assert store.read_back(VACUUM)["state_code"] not in CLEANING
    assert [(who, action) for who, action, _ in _log(store)[-2:]] == [
        ("system", "undo"),
        ("system", "timeout"),
    ]


def test_a_robot_that_ignores_being_sent_home_is_flagged_until_a_reset_brings_it_back(
    store: Store,
) -> None:
    did, sim = _spot_clean(store), store.fleet_device(VACUUM)
    sim.fault = "stuck"  # it answers "ok" to home() and keeps cleaning
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=1))
    assert (result.ok, result.reason, result.undone) == (False, "not-at-rest", ())
    [problem] = result.problems
    assert (problem["capability"], problem["undo"], problem["shown"]) == (
        "spot-cleaning",
        "return-to-dock",
        "Spot cleaning",
    )
    row = _row(store, VACUUM)
    assert (row.demo, row.problem, row.status) == ("flagged", "not-at-rest", "online")
    assert row.problems == [problem]
    assert _log(store)[-1] == ("Sam", "end-demo", "not restored: not-at-rest")
    assert store.read_back(VACUUM)["state_code"] == 11
    sim.fault = None
    # the flagged device keeps the action to undo until a reset brings it back
    back = sessions.reset(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert (back.ok, back.undone) == (True, ("return-to-dock",))
    assert store.read_back(VACUUM)["state_code"] not in CLEANING
    assert _row(store, VACUUM).demo == "ready"
    with store.session() as session:
        record = session.exec(select(DemoDevice)).one()
        assert record.snapshot is not None and record.snapshot["actions"] == []


def test_a_robot_already_sent_home_in_the_demo_gets_no_second_command(store: Store) -> None:
    did = _spot_clean(store)
    sessions.show(store.desk, store.staff, did, HOME, now=T0 + timedelta(seconds=40))
    sessions.show(store.desk, store.staff, did, "vacuum-find-robot", now=T0 + timedelta(minutes=1))
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert result.ok and result.undone == ()  # nothing had to be run: it was at rest already
    assert store.fleet_device(VACUUM).requests["app_charge"] == 1  # the lesson's own
    assert _log(store)[-2][1:] == (
        "undo",
        "spot-cleaning: return-to-dock, already at rest (Returning home)",
    )


def _noted(fn: Callable[..., Any], calls: list[str]) -> Callable[..., Any]:
    """Wrap a device command so that the test sees the order they went out in."""

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(fn.__name__)
        return fn(*args, **kwargs)

    return call


def test_putting_the_robot_back_is_one_throttled_command_after_the_settings(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = store.fleet_device(VACUUM)
    sim.set_state("fan_power", 102)  # "Standard", a preset of an S5
    did = _spot_clean(store)
    sim.set_state("fan_power", 104)  # and someone turned the suction up on the robot
    calls: list[str] = []
    for name in ("write_setting", "run_action"):
        monkeypatch.setattr(store.inventory, name, _noted(getattr(store.inventory, name), calls))
    store.ticks.slept.clear()
    # ended within a second of the last step: it waits its turn once, for both
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(seconds=20))
    assert (result.ok, result.written, result.undone) == (True, 1, ("return-to-dock",))
    assert calls == ["write_setting", "run_action"]  # the settings first, then it goes home
    assert store.ticks.slept == [1.0]
    now = store.read_back(VACUUM)
    assert (now["fan_power"], now["state"]) == (102, "Returning home")


def test_an_action_is_noted_for_undo_before_it_is_sent(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the robot starts spot cleaning, then the process dies before it writes what it did
    real = sessions.try_lesson

    def acts_then_dies(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    did = store.did(VACUUM)
    sessions.start(store.desk, store.staff, did, now=T0)
    monkeypatch.setattr(sessions, "try_lesson", acts_then_dies)
    with pytest.raises(KeyboardInterrupt):
        sessions.show(store.desk, store.staff, did, SPOT, now=T0 + timedelta(seconds=20))
    assert store.read_back(VACUUM)["state_code"] in CLEANING
    monkeypatch.undo()
    result = sessions.reset(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert (result.ok, result.undone) == (True, ("return-to-dock",))
    assert store.read_back(VACUUM)["state_code"] not in CLEANING


def test_a_suction_in_percent_is_put_back_as_it_was(store: Store) -> None:
    # an S5 reporting its suction in percent (60, as in python-miio's own status samples),
    # not as one of its presets (101-105), which set_fan_speed_preset alone would refuse
    sim = store.fleet_device(VACUUM)
    sim.set_state("fan_power", 60)
    did = _spot_clean(store)
    sim.set_state("fan_power", 104)  # someone turned it up to Max on the robot
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert (result.ok, result.problems) == (True, ())
    assert store.read_back(VACUUM)["fan_power"] == 60


def test_a_demo_never_shows_an_action_it_could_not_undo_on_the_device(store: Store) -> None:
    with store.session() as session:
        vacuum = session.exec(select(Device).where(Device.did == store.did(VACUUM))).one()
        assert SPOT in [s.lesson for s in script.script(session, vacuum)]
    with store.session() as session, session.begin():
        home = session.exec(
            select(DeviceCapability).where(
                DeviceCapability.device_id == vacuum.id,
                DeviceCapability.capability == "return-to-dock",
            )
        ).one()
        session.delete(home)
    with store.session() as session:
        steps = script.features(session, vacuum)
    # without a way home, spot cleaning is only told about; finding the robot needs no undo
    assert not next(s for s in steps if s.lesson == SPOT).can_show
    assert next(s for s in steps if s.lesson == "vacuum-find-robot").can_show


def test_the_board_says_in_plain_words_and_in_chinese_which_action_did_not_stop(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    did = next(d.did for d in fleet.devices if d.name == VACUUM)
    store_web.sign_in(store_app, STAFF, STAFF_PIN)
    store_web.post(f"/demo/device/{did}/start")
    store_web.post(f"/demo/device/{did}/show/{SPOT}")
    fleet.by_model("roborock.vacuum.s5").fault = "stuck"
    ended = store_web.post(f"/demo/device/{did}/end", follow_redirects=True)
    text = ended.get_data(as_text=True)
    assert "did not stop what the demo showed" in text
    assert "Spot cleaning did not stop (after “Send it home” it shows Spot cleaning)" in text
    log = store_web.get("/demo/log").get_data(as_text=True)
    assert "Brought back to rest after a feature" in log
    with Session(store_app.extensions["edu.engine"]) as session, session.begin():
        session.exec(select(Household)).one().language = "zh-CN"
        session.exec(select(Person).where(Person.name == STAFF)).one().language = "zh-CN"
    board_page = store_web.get("/demo/").get_data(as_text=True)
    assert "局部清扫 没有停下（执行“回充”后仍显示 Spot cleaning）" in board_page
    fleet.by_model("roborock.vacuum.s5").fault = None
    back = store_web.post(f"/demo/device/{did}/reset", follow_redirects=True)
    assert "已恢复原样：已执行 “回充” 并核对。" in back.get_data(as_text=True)
