"""Store demo services on the simulated fleet: snapshot, guided steps, restore, timeout, log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from demo_fixtures import MANAGER_PIN, STAFF_PIN, T0, Store, store_settings
from sqlmodel import col, select

from edu.models import Device, Household
from edu.store import board, script, sessions, snapshot
from edu.store.models import DemoDevice, DemoSession, DemoStep, StaffAction
from edu.store.sessions import DemoError, Desk

FAN, LIGHT, PURIFIER = "Study fan", "Kitchen ceiling light", "Bedroom purifier"


def _row(store: Store, name: str) -> board.BoardRow:
    with store.session() as session:
        rows = board.board(session, store.staff.household_id, timeout=store.desk.timeout)
    return next(r for r in rows if r.name == name)


def _snapshot(store: Store, name: str) -> dict:
    with store.session() as session:
        device = session.exec(select(Device).where(Device.did == store.did(name))).one()
        record = session.exec(select(DemoDevice).where(DemoDevice.device_id == device.id)).one()
        assert record.snapshot is not None
        return record.snapshot


def assert_back_to_snapshot(store: Store, name: str) -> None:
    """Every setting in the snapshot reads back equal through python-miio itself."""
    saved = _snapshot(store, name)["settings"]
    now = store.read_back(name)
    assert saved, "the snapshot holds no settings"
    assert {k: now.get(k) for k in saved} == {k: e["value"] for k, e in saved.items()}


def test_snapshot_keeps_every_writable_setting_that_can_be_written_back(store: Store) -> None:
    taken = snapshot.take(store.inventory, store.did(FAN))
    caps = taken["capabilities"]
    assert {"child-lock", "oscillation", "buzzer", "indicator-light", "speed-level"} <= set(caps)
    assert taken["settings"][caps["child-lock"]] == {"capability": "child-lock", "value": False}
    purifier = snapshot.take(store.inventory, store.did(PURIFIER))
    # its power switch is `on()`, which takes no value: it could not be put back
    assert "remote-power" not in purifier["capabilities"]
    # it reports its light only as on/off, and the setter wants a brightness: left out
    assert "indicator-light" not in purifier["capabilities"]
    other = snapshot.take(store.inventory, store.did("Living room purifier"))
    assert other["capabilities"]["indicator-light"] == "led_brightness"


def test_end_demo_puts_every_setting_back_and_python_miio_reads_the_snapshot(
    store: Store,
) -> None:
    before = store.read_back(FAN)
    did = store.did(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    for lesson in ("fan-oscillation", "fan-child-lock"):
        shown = sessions.show(store.desk, store.staff, did, lesson, now=T0 + timedelta(seconds=30))
        assert shown.outcome.status == "changed"
    assert store.read_back(FAN)["child_lock"] is True
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert result.ok and result.written == 2
    assert_back_to_snapshot(store, FAN)
    assert store.read_back(FAN) == before
    row = _row(store, FAN)
    assert (row.demo, row.last_reset, row.problem) == ("ready", T0 + timedelta(minutes=2), "")


def test_a_device_that_cannot_be_put_back_is_flagged_and_keeps_its_snapshot(store: Store) -> None:
    did, sim = store.did(FAN), store.fleet_device(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    sessions.show(store.desk, store.staff, did, "fan-child-lock", now=T0)
    sim.fault = "no-reply"
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=1))
    assert (result.ok, result.reason) == (False, "offline")
    row = _row(store, FAN)
    assert (row.demo, row.problem, row.status) == ("flagged", "offline", "offline")
    sim.fault = None
    # a new demo on the flagged device keeps the snapshot of its normal settings
    sessions.start(store.desk, store.staff, did, now=T0 + timedelta(minutes=2))
    assert _snapshot(store, FAN)["settings"]["FanStatus.child_lock"]["value"] is False
    assert sessions.reset(store.desk, store.staff, did, now=T0 + timedelta(minutes=3)).ok
    assert _row(store, FAN).demo == "ready"
    assert_back_to_snapshot(store, FAN)


def test_a_setting_that_reads_back_wrong_is_flagged_with_what_the_device_says(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    did = store.did(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    sessions.show(store.desk, store.staff, did, "fan-child-lock", now=T0)
    # the write is accepted but lost: the read-back must notice
    monkeypatch.setattr(store.inventory, "write_setting", lambda *args, **kwargs: None)
    result = sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=1))
    assert not result.ok and result.reason == "differs"
    assert result.problems[0]["capability"] == "child-lock"
    assert (result.problems[0]["wanted"], result.problems[0]["shown"]) == (False, True)
    assert _row(store, FAN).demo == "flagged"


def test_inactivity_timeout_resets_the_device_with_a_fixed_clock(store: Store) -> None:
    did = store.did(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0 + timedelta(minutes=1))
    assert sessions.expire_idle(store.desk, now=T0 + timedelta(minutes=5, seconds=59)) == []
    [result] = sessions.expire_idle(store.desk, now=T0 + timedelta(minutes=6))
    assert result.ok
    assert_back_to_snapshot(store, FAN)
    with store.session() as session:
        demo = session.exec(select(DemoSession)).one()
        log = session.exec(select(StaffAction).where(StaffAction.action == "timeout")).one()
    # the demo ended when the staff stopped, not when the timer noticed
    assert (demo.end_reason, demo.ended_at) == ("timeout", T0 + timedelta(minutes=1))
    assert (log.who, log.person_id) == ("system", None)


def test_the_timeout_comes_from_edu_demo_timeout(tmp_path, store: Store) -> None:
    settings = store_settings(tmp_path / "other", EDU_DEMO_TIMEOUT="90")
    assert settings.demo_timeout == 90
    assert Desk.for_inventory(store.inventory).timeout == timedelta(minutes=5)


def test_script_puts_demo_ranks_first_and_keeps_only_lessons_with_a_try_it(store: Store) -> None:
    with store.session() as session:
        fan = session.exec(select(Device).where(Device.did == store.did(FAN))).one()
        light = session.exec(select(Device).where(Device.did == store.did(LIGHT))).one()
        fan_steps = script.script(session, fan)
        light_steps = script.script(session, light)
        every = script.features(session, fan)
    assert [s.lesson for s in fan_steps[:2]] == ["fan-oscillation", "fan-child-lock"]
    assert fan_steps[0].points and fan_steps[0].rank == 2
    assert light_steps[0].lesson == "light-color-temperature"
    # natural wind ranks first but has nothing to try: the kiosk tells it, the script skips it
    assert every[0].lesson == "fan-natural-wind" and not every[0].can_show
    unranked = [s for s in fan_steps if s.rank is None]
    assert unranked and all(s.can_show for s in unranked)


def test_script_without_ranks_follows_the_vocabulary_and_levels(store: Store) -> None:
    from edu.catalogue import catalogue
    from lessons.catalogue import Catalogue

    plain = Catalogue(
        les.__class__(**{**les.__dict__, "demo": None}) for les in catalogue().lessons("en")
    )
    with store.session() as session:
        fan = session.exec(select(Device).where(Device.did == store.did(FAN))).one()
        first = script.script(session, fan, book=plain)
        again = script.script(session, fan, book=plain)
    assert first == again
    levels = [plain.get(s.lesson).level_rank for s in first]  # type: ignore[union-attr]
    assert levels == sorted(levels)


def test_only_steps_of_the_script_can_be_shown(store: Store) -> None:
    did = store.did(FAN)
    with pytest.raises(DemoError) as not_started:
        sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0)
    assert not_started.value.code == "not-running"
    sessions.start(store.desk, store.staff, did, now=T0)
    for lesson in ("fan-natural-wind", "light-brightness", "no-such-lesson"):
        with pytest.raises(DemoError) as refused:
            sessions.show(store.desk, store.staff, did, lesson, now=T0)
        assert refused.value.code == "no-step"


def test_a_device_offline_mid_demo_fails_plainly_and_the_other_demo_goes_on(store: Store) -> None:
    fan, light = store.did(FAN), store.did(LIGHT)
    for did in (fan, light):
        sessions.start(store.desk, store.staff, did, now=T0)
    store.fleet_device(FAN).fault = "no-reply"
    failed = sessions.show(store.desk, store.staff, fan, "fan-oscillation", now=T0)
    assert (failed.outcome.status, failed.outcome.reason) == ("failed", "offline")
    shown = sessions.show(store.desk, store.staff, light, "light-color-temperature", now=T0)
    assert shown.outcome.status == "changed"
    assert _row(store, FAN).status == "offline" and _row(store, LIGHT).status == "online"
    assert sessions.end(store.desk, store.staff, light, now=T0).ok
    assert_back_to_snapshot(store, LIGHT)


def test_reset_all_puts_back_every_device_in_a_demo(store: Store) -> None:
    names = (FAN, LIGHT, PURIFIER)
    for name, lesson in zip(
        names, ("fan-child-lock", "light-brightness", "air-purifier-child-lock"), strict=True
    ):
        sessions.start(store.desk, store.staff, store.did(name), now=T0)
        sessions.show(store.desk, store.staff, store.did(name), lesson, now=T0)
    results = sessions.reset_all(store.desk, store.staff, now=T0 + timedelta(minutes=1))
    assert sorted(r.device_name for r in results) == sorted(names)
    assert all(r.ok for r in results)
    for name in names:
        assert_back_to_snapshot(store, name)
    assert sessions.reset_all(store.desk, store.staff, now=T0) == []


def test_showing_a_feature_again_counts_for_the_analytics(store: Store) -> None:
    did = store.did(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    first = sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0)
    second = sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0)
    assert (first.again, second.again) == (False, True)
    sessions.show(store.desk, store.staff, did, "fan-child-lock", now=T0 + timedelta(minutes=1))
    sessions.end(store.desk, store.staff, did, now=T0 + timedelta(minutes=3))
    with store.session() as session:
        figures = board.analytics(session, store.staff.household_id, now=T0)
    assert (figures["demos"], figures["features_shown"]) == (1, 3)
    assert figures["asked_again"] == [("Oscillation", 1)]
    [fan] = figures["devices"]
    assert (fan.name, fan.seconds, fan.per_day[-1]) == (FAN, 180.0, 1)


def test_staff_actions_are_logged_without_secrets(store: Store) -> None:
    did = store.did(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0)
    sessions.end(store.desk, store.staff, did, now=T0)
    with store.session() as session:
        rows = session.exec(select(StaffAction).order_by(col(StaffAction.id))).all()
    assert [(r.who, r.action) for r in rows] == [
        ("Sam", "start-demo"),
        ("Sam", "show"),
        ("Sam", "end-demo"),
    ]
    text = " ".join(r.detail for r in rows)
    secrets = [d.token for d in store.fleet.devices] + [STAFF_PIN, MANAGER_PIN]
    assert not [s for s in secrets if s in text]


def test_demo_mode_is_for_shops_only(store: Store) -> None:
    with store.session() as session, session.begin():
        session.exec(select(Household)).one().kind = "home"
    with pytest.raises(DemoError) as refused:
        sessions.start(store.desk, store.staff, store.did(FAN), now=T0)
    assert refused.value.code == "not-store"


def test_steps_are_recorded_with_their_outcome(store: Store) -> None:
    did = store.did(LIGHT)
    sessions.start(store.desk, store.staff, did, now=T0)
    sessions.show(store.desk, store.staff, did, "light-color-temperature", now=T0)
    with store.session() as session:
        step = session.exec(select(DemoStep)).one()
    assert (step.lesson, step.capability, step.status) == (
        "light-color-temperature",
        "color-temperature",
        "changed",
    )


def test_the_job_worker_applies_the_timeout_in_the_background(store: Store) -> None:
    import time

    from edu.jobs import Worker

    did = store.did(FAN)
    sessions.start(store.desk, store.staff, did, now=T0)
    sessions.show(store.desk, store.staff, did, "fan-child-lock", now=T0)
    later = T0 + timedelta(minutes=10)
    worker = Worker(
        store.inventory.engine,
        store.inventory.settings,
        inventory=store.inventory,
        desk=store.desk,
        clock=lambda: later,
        lease_seconds=30,
    )
    worker.start()
    try:
        deadline = time.monotonic() + 20  # the store job runs every 5 s once the lease is held
        while _row(store, FAN).demo != "ready" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.scheduling
    finally:
        worker.stop()
    assert _row(store, FAN).demo == "ready"
    assert_back_to_snapshot(store, FAN)
