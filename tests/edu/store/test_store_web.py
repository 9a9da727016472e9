"""The demo pages through Flask's test client: who may use them, the board JSON, the kiosk hold."""

from __future__ import annotations

import re
from typing import Any

from demo_fixtures import MANAGER_PIN, STAFF, STAFF_PIN, Clock
from flask import Flask
from sqlmodel import Session, select
from web_fixtures import Web

from devices.fleet import Fleet
from edu.store.models import DemoStep, KioskView, StaffAction

FAN = "Study fan"


def _did(fleet: Fleet, name: str) -> int:
    return next(d.did for d in fleet.devices if d.name == name)


def sign_in_staff(web: Web, app: Flask) -> None:
    page = web.sign_in(app, STAFF, STAFF_PIN)
    assert page.status_code == 302


def _secrets(fleet: Fleet) -> list[str]:
    return [d.token for d in fleet.devices] + [STAFF_PIN, MANAGER_PIN]


def test_staff_land_on_the_demo_board(store_web: Web, store_app: Flask) -> None:
    assert store_web.get("/demo/").status_code == 302  # signed out: to the sign-in page
    sign_in_staff(store_web, store_app)
    assert store_web.get("/").headers["Location"].endswith("/demo/")
    page = store_web.get("/demo/").get_data(as_text=True)
    assert "Demo table" in page and FAN in page and "Reset all" in page


def test_the_board_json_has_plain_states_and_no_secret(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    sign_in_staff(store_web, store_app)
    answer = store_web.get("/demo/status.json")
    data = answer.get_json()
    fan = next(d for d in data["devices"] if d["name"] == FAN)
    assert (fan["status_text"], fan["demo_text"], fan["can_reset"]) == ("Online", "Ready", False)
    text = answer.get_data(as_text=True)
    assert not [s for s in _secrets(fleet) if s in text]
    assert "token_ciphertext" not in text


def test_a_guided_demo_through_the_forms(store_web: Web, store_app: Flask, fleet: Fleet) -> None:
    sign_in_staff(store_web, store_app)
    did = _did(fleet, FAN)
    page = store_web.get(f"/demo/device/{did}").get_data(as_text=True)
    assert "Start the demo" in page and "Oscillation" in page
    store_web.post(f"/demo/device/{did}/start")
    page = store_web.get(f"/demo/device/{did}").get_data(as_text=True)
    assert page.count('class="show-it') >= 3 and "End demo" in page
    shown = store_web.client.post(
        f"/demo/device/{did}/show/fan-oscillation",
        data={"csrf_token": store_web.csrf()},
        headers={"Accept": "application/json"},
    )
    assert shown.status_code == 200
    assert (
        shown.get_json()["ok"] and "Study fan: Oscillation is now on" in shown.get_json()["message"]
    )
    refused = store_web.client.post(
        f"/demo/device/{did}/show/fan-natural-wind",
        data={"csrf_token": store_web.csrf()},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 409 and not refused.get_json()["ok"]
    ended = store_web.post(f"/demo/device/{did}/end", follow_redirects=True)
    assert "is back to normal: 1 setting put back and checked" in ended.get_data(as_text=True)


def test_forms_need_the_csrf_token(store_web: Web, store_app: Flask, fleet: Fleet) -> None:
    sign_in_staff(store_web, store_app)
    did = _did(fleet, FAN)
    assert store_web.client.post(f"/demo/device/{did}/start").status_code == 403
    assert store_web.client.post("/demo/reset-all").status_code == 403


def test_a_home_has_no_demo_pages(store_web: Web, store_app: Flask) -> None:
    from edu.models import Household

    with Session(store_app.extensions["edu.engine"]) as session, session.begin():
        session.exec(select(Household)).one().kind = "home"
    store_web.sign_in(store_app, "Manager", MANAGER_PIN)
    assert store_web.get("/demo/").status_code == 404
    assert store_web.get("/demo/kiosk").status_code == 404
    assert store_web.get("/").status_code == 200  # the household home, not the board


def test_members_cannot_use_the_board(store_web: Web, store_app: Flask) -> None:
    from edu.models import Household
    from edu.services.people import add_person

    with Session(store_app.extensions["edu.engine"]) as session, session.begin():
        shop = session.exec(select(Household)).one()
        add_person(session, shop, "Visitor", role="member", pin="9999")
    store_web.sign_in(store_app, "Visitor", "9999")
    assert store_web.get("/demo/").status_code == 403


def test_the_timeout_runs_when_the_board_refreshes(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    clock: Clock = store_app.extensions["edu.store.clock"]
    sign_in_staff(store_web, store_app)
    did = _did(fleet, FAN)
    store_web.post(f"/demo/device/{did}/start")
    store_web.post(f"/demo/device/{did}/show/fan-child-lock")
    assert fleet.by_did(did).state()["child_lock"] in ("on", True, 1)
    clock.advance(minutes=6)
    data = store_web.get("/demo/status.json").get_json()
    fan = next(d for d in data["devices"] if d["did"] == did)
    assert (fan["demo"], fan["demo_text"]) == ("ready", "Ready")
    assert "Last reset" in fan["last_reset_text"]


def _kiosk(web: Web, app: Flask) -> str:
    page = web.get("/demo/kiosk")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_kiosk_holds_the_browser_and_shows_no_staff_control(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    sign_in_staff(store_web, store_app)
    html = _kiosk(store_web, store_app)
    assert "Tap a feature" in html and FAN in html
    forms = re.findall(r"<form[^>]*>", html)
    assert forms == []
    for control in ("Reset", "Show it", "Sign out", "/demo/device", "/demo/reset", "/devices"):
        assert control not in html
    assert not [s for s in _secrets(fleet) if s in html]
    # signed out, and held: every other page leads back to the kiosk
    for path in ("/", "/demo/", "/devices/", "/signin", "/demo/analytics"):
        answer = store_web.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/demo/kiosk")
    assert store_web.get("/api/v1/devices").status_code == 403


def test_a_customer_reads_a_feature_and_it_counts(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    _kiosk(store_web, store_app)
    did = _did(fleet, FAN)
    page = store_web.get(f"/demo/kiosk/{did}/fan-child-lock")
    assert page.status_code == 200 and "Lock the buttons" in page.get_data(as_text=True)
    assert store_web.get(f"/demo/kiosk/{did}/light-brightness").status_code == 404
    with Session(store_app.extensions["edu.engine"]) as session:
        views = session.exec(select(KioskView)).all()
    assert [(v.lesson, v.capability) for v in views] == [("fan-child-lock", "child-lock")]


def test_only_a_staff_pin_leaves_the_kiosk(store_web: Web, store_app: Flask) -> None:
    _kiosk(store_web, store_app)
    exit_page = store_web.get("/demo/kiosk/exit").get_data(as_text=True)
    sam = store_web.person_id(store_app, STAFF)
    assert f'name="person" value="{sam}"' in exit_page and "Staff PIN" in exit_page
    wrong = store_web.post("/demo/kiosk/exit", {"person": sam, "pin": "0000"})
    assert wrong.status_code == 401
    assert store_web.get("/demo/").headers["Location"].endswith("/demo/kiosk")
    right = store_web.post("/demo/kiosk/exit", {"person": sam, "pin": STAFF_PIN})
    assert right.status_code == 302 and right.headers["Location"].endswith("/demo/")
    assert store_web.get("/demo/").status_code == 200
    with Session(store_app.extensions["edu.engine"]) as session:
        log = [(a.action, a.detail) for a in session.exec(select(StaffAction))]
    assert ("kiosk-exit-refused", "wrong") in log and ("kiosk-exit", "") in log
    assert not [row for row in log if STAFF_PIN in row[1] or "0000" in row[1]]


def test_analytics_and_log_pages_show_the_demo(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    sign_in_staff(store_web, store_app)
    did = _did(fleet, FAN)
    store_web.post(f"/demo/device/{did}/start")
    for _ in range(2):
        store_web.post(f"/demo/device/{did}/show/fan-oscillation")
    store_web.post(f"/demo/device/{did}/end")
    analytics = store_web.get("/demo/analytics").get_data(as_text=True)
    assert "Customers asked to see again" in analytics and "Oscillation" in analytics
    log = store_web.get("/demo/log").get_data(as_text=True)
    for words in ("Started a demo", "Showed a feature again", "Ended a demo", STAFF):
        assert words in log
    with Session(store_app.extensions["edu.engine"]) as session:
        steps: list[Any] = list(session.exec(select(DemoStep)))
    assert [s.again for s in steps] == [False, True]
