"""Kept pages stay true: every change by a poll, a person, the worker or the clock shows on the
next request, while nothing changed the kept copy answers (edu.web.fragments, edu.state).

Each test warms a page, proves the kept copy answers (drawing it afresh is made to fail, a
fault injected), then makes a real change and asks again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from fleet_fixtures import miio_client
from web_fixtures import Web

from devices.fleet import Fleet
from edu.db import utcnow
from edu.web import progress
from edu.web.fragments import Fragments

STUDY_FAN = "zhimi.fan.za4"
LESSON = "fan-child-lock"


def _cards(page: str) -> list[str]:
    return re.findall(r'href="/lessons/([a-z0-9-]+)\?device=', page)


def _in_use(page: str, did: int) -> str:
    card = page[page.index(f'id="device-{did}"') :]
    card = card[: card.index("</details>")]
    return card[card.index('class="chips in-use"') :] if 'class="chips in-use"' in card else ""


@contextmanager
def kept_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While inside, drawing the home page or a state afresh fails: only kept copies answer."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("drawn afresh although nothing changed")

    with monkeypatch.context() as patch:
        patch.setattr(progress, "home", refuse)
        patch.setattr("edu.state.read_state", refuse)
        yield


def test_home_is_kept_until_a_poll_sees_the_device_used(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Leo")
    first = fleet_web.get("/").get_data(as_text=True)
    assert LESSON in _cards(first) or 'data-capability="child-lock"' in first
    assert 'data-capability="child-lock"' not in _in_use(first, fan.did)
    with kept_only(monkeypatch):
        again = fleet_web.get("/").get_data(as_text=True)
    assert _cards(again) == _cards(first)
    miio_client(fan).set_child_lock(True)  # someone used the vendor app
    fleet_app.extensions["edu.inventory"].poll()  # what the worker's poll job runs
    after = fleet_web.get("/").get_data(as_text=True)
    assert 'data-capability="child-lock"' in _in_use(after, fan.did)
    assert LESSON not in _cards(after)
    progress_rows = fleet_web.api("GET", "/api/v1/progress").get_json()
    (row,) = [r for r in progress_rows if r["device"] == fan.did]
    assert "child-lock" in row["in_use"]


def test_recommendations_answer_kept_until_the_person_marks_a_lesson_known(
    fleet_web: Web, fleet_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    before = fleet_web.api("GET", "/api/v1/recommendations?limit=200").get_json()
    first = before[0]
    with monkeypatch.context() as patch:
        patch.setattr("edu.web.api.household.recommend", lambda *a, **k: [][0])
        assert fleet_web.api("GET", "/api/v1/recommendations?limit=200").get_json() == before
    home = fleet_web.get("/").get_data(as_text=True)
    assert first["lesson"] in _cards(home)
    marked = fleet_web.post(f"/lessons/{first['lesson']}/known", {"device": str(first["device"])})
    assert marked.status_code in (200, 302, 303)
    after = fleet_web.api("GET", "/api/v1/recommendations?limit=200").get_json()
    assert (first["lesson"], first["device"]) not in {(r["lesson"], r["device"]) for r in after}
    assert first["lesson"] not in _cards(fleet_web.get("/").get_data(as_text=True))


def test_a_snooze_ending_shows_by_the_clock_alone(
    fleet_web: Web, fleet_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    lesson = _cards(fleet_web.get("/").get_data(as_text=True))[0]
    device = re.search(
        rf'href="/lessons/{lesson}\?device=(\d+)"', fleet_web.get("/").get_data(as_text=True)
    )
    assert device is not None
    fleet_web.post(f"/lessons/{lesson}/later", {"device": device.group(1)})
    snoozed = fleet_web.get("/").get_data(as_text=True)
    assert lesson not in _cards(snoozed)
    days = fleet_app.config["EDU_SNOOZE_DAYS"]
    later = utcnow() + timedelta(days=days, hours=1)
    with kept_only(monkeypatch):  # the clock has not moved: the kept copy answers
        assert _cards(fleet_web.get("/").get_data(as_text=True)) == _cards(snoozed)
    for module in ("edu.web.fragments", "edu.web.pages.household", "edu.web.progress"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: later)  # the clock moves on
    assert lesson in _cards(fleet_web.get("/").get_data(as_text=True))


def test_a_wrong_pin_shows_on_the_admins_next_home_page(fleet_web: Web, fleet_app: Flask) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    assert "Wrong PINs in the last day" not in fleet_web.get("/").get_data(as_text=True)
    stranger = Web(fleet_app.test_client())
    refused = stranger.post(f"/signin/{stranger.person_id(fleet_app, 'Leo')}", {"pin": "0000"})
    assert refused.status_code in (200, 400, 401, 429)
    page = fleet_web.get("/").get_data(as_text=True)
    assert "Wrong PINs in the last day" in page and "Leo: 1 wrong PIN" in page


def test_the_navigation_follows_the_person_language_and_unread_tips(
    fleet_web: Web, fleet_app: Flask
) -> None:
    from edu.db import unit_of_work
    from edu.models import Person
    from edu.tips.models import InboxItem

    fleet_web.sign_in(fleet_app, "Leo")
    page = fleet_web.get("/").get_data(as_text=True)
    assert ">Tips</a>" in page and "unread" not in page
    leo = fleet_web.person_id(fleet_app, "Leo")
    with unit_of_work(fleet_app.extensions["edu.engine"]) as session:  # as a tip run does
        session.add(
            InboxItem(
                person_id=leo, lesson=LESSON, capability="child-lock", title="Lock", summary="."
            )
        )
    page = fleet_web.get("/").get_data(as_text=True)
    assert 'aria-label="1 unread">1</span>' in page
    fleet_web.post("/me", {"action": "language", "language": "zh-CN"})
    page = fleet_web.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "接下来学习" in page and "首页" in page
    with unit_of_work(fleet_app.extensions["edu.engine"]) as session:
        person = session.get(Person, leo)
        assert person is not None
        person.name = "Leonie"
    page = fleet_web.get("/").get_data(as_text=True)
    assert "Leonie" in page[page.index("<nav") : page.index("</nav>")]


def test_every_page_gets_its_own_csrf_token_from_a_kept_navigation(
    fleet_web: Web, fleet_app: Flask
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    mine = Web.csrf_in(fleet_web.get("/"))
    other = Web(fleet_app.test_client())
    other.sign_in(fleet_app, "Leo")
    theirs = Web.csrf_in(other.get("/"))
    assert mine == fleet_web.csrf() and theirs == other.csrf() and mine != theirs


def test_the_kept_parts_are_bounded_and_expire() -> None:
    store = Fragments(size=2, budget=10)
    now = utcnow()
    store.put("a", "A", now + timedelta(seconds=1))
    store.put("b", "B", None)
    assert store.get("a", now) == "A"
    assert store.get("a", now + timedelta(seconds=1)) is None  # past its moment
    store.put("c", "C", None)
    store.put("d", "D", None)
    assert len(store) == 2 and store.get("b", now) is None and store.get("d", now) == "D"
    sized = Fragments(size=10, budget=10)  # now by characters
    sized.put("a", "12345", None)
    sized.put("b", (b"1234", 200, None), None)  # an API answer: its body counts
    assert sized.held == 9
    sized.put("c", "12", None)  # 11 > 10: the least recently used goes
    assert sized.get("a", now) is None and sized.held == 6 and len(sized) == 2
    sized.put("c", "1234", None)  # the same key again: counted once
    assert sized.held == 8 and sized.get("c", now) == "1234"
    sized.put("huge", "x" * 11, None)  # bigger than the whole budget: nothing stays
    assert len(sized) == 0 and sized.held == 0


def test_a_device_that_gains_or_loses_a_feature_shows_it_next_time(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    from sqlmodel import select

    from edu.db import unit_of_work
    from edu.models import Device, DeviceCapability

    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Leo")
    before = fleet_web.get("/").get_data(as_text=True)
    card = before[before.index(f'id="device-{fan.did}"') :]
    assert 'data-capability="child-lock"' in card[: card.index("</details>")]
    fleet_web.get("/api/v1/progress")  # kept too
    with unit_of_work(fleet_app.extensions["edu.engine"]) as session:  # as a new scan would
        device = session.exec(select(Device).where(Device.did == fan.did)).one()
        lock = session.exec(
            select(DeviceCapability).where(
                DeviceCapability.device_id == device.id,
                DeviceCapability.capability == "child-lock",
            )
        ).one()
        session.delete(lock)
    after = fleet_web.get("/").get_data(as_text=True)
    card = after[after.index(f'id="device-{fan.did}"') :]
    assert 'data-capability="child-lock"' not in card[: card.index("</details>")]
    assert LESSON not in _cards(after)
    (row,) = [
        r for r in fleet_web.api("GET", "/api/v1/progress").get_json() if r["device"] == fan.did
    ]
    assert "child-lock" not in row["in_use"] + row["not_used"]
    with unit_of_work(fleet_app.extensions["edu.engine"]) as session:
        device = session.exec(select(Device).where(Device.did == fan.did)).one()
        session.add(
            DeviceCapability(
                device_id=device.id or 0, capability="child-lock", setting="child_lock"
            )
        )
    (row,) = [
        r for r in fleet_web.api("GET", "/api/v1/progress").get_json() if r["device"] == fan.did
    ]
    assert "child-lock" in row["not_used"]


def test_the_progress_pages_are_kept_until_a_poll_changes_them(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    fan = fleet.by_model(STUDY_FAN)

    def used_count(page: str) -> str:
        card = page[page.index(f'data-did="{fan.did}"') :]
        found = re.search(r"(\d+) of (\d+) features used by someone", card)
        assert found is not None
        return found.group(1)

    fleet_web.sign_in(fleet_app, "Mia")
    before = fleet_web.get("/progress").get_data(as_text=True)
    mine = fleet_web.get("/home/devices").get_data(as_text=True)
    assert 'data-capability="child-lock"' not in _in_use(mine, fan.did)
    with monkeypatch.context() as patch:  # nothing changed: the kept copies answer
        patch.setattr(progress, "adoption_page", lambda *a: [][0])
        patch.setattr(progress, "my_devices", lambda *a: [][0])
        assert fleet_web.get("/progress").get_data(as_text=True).count("<li") == before.count("<li")
        assert fleet_web.get("/home/devices").status_code == 200
    miio_client(fan).set_child_lock(True)
    fleet_app.extensions["edu.inventory"].poll()
    after = fleet_web.get("/progress").get_data(as_text=True)
    assert int(used_count(after)) == int(used_count(before)) + 1
    mine = fleet_web.get("/home/devices").get_data(as_text=True)
    assert 'data-capability="child-lock"' in _in_use(mine, fan.did)


def test_the_devices_list_and_api_are_kept_until_a_poll_finds_a_device_offline(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    lamp = fleet.by_model("yeelink.light.color1")

    def lamp_row(page: str) -> str:
        row = page[page.index(f"/devices/{lamp.did}") :]
        return row[: row.index("</li>")]

    fleet_web.sign_in(fleet_app, "Mia")
    assert "Working" in lamp_row(fleet_web.get("/devices/").get_data(as_text=True))
    listed = fleet_web.api("GET", "/api/v1/devices?limit=200").get_json()
    with monkeypatch.context() as patch:  # nothing changed: the kept copies answer
        patch.setattr("edu.web.pages.devices.device_page", lambda *a: [][0])
        patch.setattr("edu.web.api.household.devices_after", lambda *a: [][0])
        assert "Working" in lamp_row(fleet_web.get("/devices/").get_data(as_text=True))
        assert fleet_web.api("GET", "/api/v1/devices?limit=200").get_json() == listed
    lamp.fault = "no-reply"
    try:
        fleet_app.extensions["edu.inventory"].poll()
    finally:
        lamp.fault = None
    assert "Not answering" in lamp_row(fleet_web.get("/devices/").get_data(as_text=True))
    (row,) = [
        d
        for d in fleet_web.api("GET", "/api/v1/devices?limit=200").get_json()
        if d["did"] == lamp.did
    ]
    assert row["status"] == "offline"


def test_a_lesson_page_is_kept_with_each_sessions_own_csrf_token_until_a_poll(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    url = f"/lessons/{LESSON}?device={fan.did}"
    fleet_web.sign_in(fleet_app, "Leo")
    first = fleet_web.get(url).get_data(as_text=True)
    assert "Not used yet" in first and "<title>" in first and "Child lock" in first
    phone = Web(fleet_app.test_client())
    phone.sign_in(fleet_app, "Leo")
    with monkeypatch.context() as patch:  # nothing changed: the kept copy answers
        patch.setattr("edu.web.pages.lessons.lesson_context", lambda *a: [][0])
        page = phone.get(url)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)))
    assert tokens == {phone.csrf()} and phone.csrf() != fleet_web.csrf()
    assert "edu-csrf-stand-in" not in page.get_data(as_text=True)
    mine = set(re.findall(r'name="csrf_token" value="([^"]+)"', fleet_web.get(url).get_data(True)))
    assert mine == {fleet_web.csrf()}
    miio_client(fan).set_child_lock(True)
    fleet_app.extensions["edu.inventory"].poll()
    assert "In use" in phone.get(url).get_data(as_text=True)
    done = phone.post(f"/lessons/{LESSON}/known", {"device": str(fan.did)})
    assert done.status_code in (302, 303)  # the token drawn into the kept page is this session's


def test_a_device_removed_then_another_added_never_inherits_its_features(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    from sqlmodel import select

    from edu.db import unit_of_work
    from edu.models import Device

    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Mia")
    fleet_web.get("/home/devices")  # the state, its capabilities kept
    engine = fleet_app.extensions["edu.engine"]
    with unit_of_work(engine) as session:
        device = session.exec(select(Device).where(Device.did == fan.did)).one()
        household, device_id = device.household_id, device.id
        session.delete(device)  # its capability rows go by cascade in the database
    with unit_of_work(engine) as session:  # SQLite may hand the freed id to the next device
        session.add(
            Device(id=device_id, household_id=household, did=4242, ip="127.0.0.42", name="Spare")
        )
    page = fleet_web.get("/home/devices").get_data(as_text=True)
    assert f'id="device-{fan.did}"' not in page
    assert 'id="device-4242"' not in page  # no features known for it: not among the ready ones


def test_a_part_is_drawn_again_when_another_catalogue_is_loaded(
    fleet_web: Web, fleet_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edu.catalogue import catalogue, generation

    fleet_web.sign_in(fleet_app, "Leo")
    first = _cards(fleet_web.get("/").get_data(as_text=True))
    draws: list[int] = []
    real = progress.home
    monkeypatch.setattr(progress, "home", lambda *a, **k: draws.append(1) or real(*a, **k))
    assert _cards(fleet_web.get("/").get_data(as_text=True)) == first
    assert draws == []  # kept
    loaded = generation()
    monkeypatch.setattr("edu.catalogue._books", {})  # the test's end puts the first one back
    catalogue()  # the part is keyed by the catalogue it was drawn from, without loading one
    assert generation() == loaded + 1
    assert _cards(fleet_web.get("/").get_data(as_text=True)) == first
    assert draws == [1]
