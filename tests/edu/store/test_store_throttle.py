"""One command per device per second: queued briefly, refused when they pile up; fake clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from demo_fixtures import T0, FakeTime, Store

from edu.store import sessions
from edu.store.sessions import DemoError
from edu.store.throttle import DeviceBusy, Throttle


def test_a_second_command_within_a_second_waits_for_its_turn() -> None:
    ticks = FakeTime()
    throttle = Throttle(clock=ticks, sleep=ticks.sleep)
    starts = []
    for advance in (0.0, 0.3, 2.0):
        ticks.now += advance
        with throttle.command(7):
            starts.append(ticks.now)
    assert ticks.slept == [pytest.approx(0.7)]
    assert starts[1] - starts[0] == pytest.approx(1.0)
    assert starts[2] - starts[1] == pytest.approx(2.0)


def test_commands_to_different_devices_never_wait_for_each_other() -> None:
    ticks = FakeTime()
    throttle = Throttle(clock=ticks, sleep=ticks.sleep)
    for did in (1, 2, 3):
        with throttle.command(did):
            pass
    assert ticks.slept == []


def test_a_command_that_would_wait_too_long_is_refused() -> None:
    ticks = FakeTime()
    throttle = Throttle(interval=1.0, max_wait=0.5, clock=ticks, sleep=ticks.sleep)
    with throttle.command(7):
        pass
    ticks.now += 0.2
    with pytest.raises(DeviceBusy) as busy, throttle.command(7):
        pass
    assert busy.value.retry_after == pytest.approx(0.8)


def test_commands_never_pile_up_behind_a_running_one() -> None:
    ticks = FakeTime()
    throttle = Throttle(max_queued=0, clock=ticks, sleep=ticks.sleep)
    with throttle.command(7), pytest.raises(DeviceBusy), throttle.command(7):
        pass
    with throttle.command(8):  # another device is free
        pass


def test_a_queued_command_runs_after_the_running_one() -> None:
    ticks = FakeTime()
    throttle = Throttle(clock=ticks, sleep=ticks.sleep)
    entered, release, order = threading.Event(), threading.Event(), []

    def first() -> None:
        with throttle.command(7):
            entered.set()
            release.wait(5)
            order.append("first")

    worker = threading.Thread(target=first)
    worker.start()
    assert entered.wait(5)
    queued = threading.Thread(target=lambda: _run(throttle, order))
    queued.start()
    release.set()
    worker.join(5)
    queued.join(5)
    assert order == ["first", "second"]


def _run(throttle: Throttle, order: list[str]) -> None:
    with throttle.command(7):
        order.append("second")


def test_a_busy_device_gets_a_plain_message_from_the_demo(store: Store) -> None:
    did = store.did("Study fan")
    sessions.start(store.desk, store.staff, did, now=T0)
    store.desk.throttle.max_queued = 0
    with store.desk.throttle.command(did), pytest.raises(DemoError) as refused:
        sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0)
    assert refused.value.code == "busy" and "busy" in str(refused.value)
    sessions.show(store.desk, store.staff, did, "fan-oscillation", now=T0 + timedelta(seconds=5))
