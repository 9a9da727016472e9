"""The holes the security review found stay closed: a wrong token, the mute list, an upload's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

from flask import Flask
from sqlmodel import Session, select
from web_fixtures import MEMBER_DEVICES, PINS, Web

from devices.fleet import Fleet
from edu.models import Device, Person
from edu.tips.models import TipMute


def _stored(app: Flask, did: int) -> tuple[str, str | None]:
    inventory = app.extensions["edu.inventory"]
    with Session(app.extensions["edu.engine"]) as session:
        device = session.exec(select(Device).where(Device.did == did)).one()
        return device.status, inventory.token_of(device)


def test_a_wrong_token_for_a_working_device_is_refused_and_changes_nothing(
    fleet: Fleet, fleet_app: Flask, fleet_web: Web
) -> None:
    fan, other = fleet.devices[0], fleet.devices[1]
    assert _stored(fleet_app, fan.did) == ("online", fan.token)
    fleet_web.sign_in(fleet_app, "Mia")
    answer = fleet_web.api("POST", "/api/v1/devices", {"ip": fan.ip, "token": other.token})
    body = answer.get_json()
    assert answer.status_code == 422 and body["error"] == "token-rejected"
    assert "rejected this token" in body["message"] and "\n" not in body["message"]
    assert other.token not in answer.get_data(as_text=True)
    page = fleet_web.post("/devices/add", {"ip": fan.ip, "token": other.token})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "rejected this token" in text
    assert other.token not in text and fan.token not in text
    assert _stored(fleet_app, fan.did) == ("online", fan.token)  # not marked auth-failed
    doctor = fleet_web.get(f"/devices/{fan.did}").get_data(as_text=True)
    assert "rejected its token" not in doctor


def test_a_members_mute_list_holds_only_the_devices_they_use(
    fleet: Fleet, fleet_app: Flask, fleet_web: Web
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    page = fleet_web.get("/tips/settings").get_data(as_text=True)
    mine = MEMBER_DEVICES["Leo"]
    others = [d.name for d in fleet.devices if d.name not in mine]
    assert all(name in page for name in mine)
    assert [name for name in others if name in page] == []
    # Posting another person's device id does not mute it either.
    ana_only = next(d for d in fleet.devices if d.name == "Bedroom purifier")
    fleet_web.post("/tips/settings", {"action": "policy", "mute": str(ana_only.did)})
    with Session(fleet_app.extensions["edu.engine"]) as session:
        assert session.exec(select(TipMute)).all() == []


def test_a_token_file_error_names_the_users_file_not_the_servers(
    fleet_web: Web, fleet_app: Flask
) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    page = fleet_web.post(
        "/devices/import",
        {"file": (BytesIO(b"\x00\x01garbage"), "mytokens.json")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "mytokens.json: not a text file" in page
    assert "tokens-" not in page and "uploads" not in page and fleet_app.instance_path not in page


def _browser(app: Flask, address: str) -> Web:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address  # who the server thinks is asking
    return Web(client)


def test_wrong_pins_slow_the_guessing_client_not_the_owner_elsewhere(fleet_app: Flask) -> None:
    guesser, owner = _browser(fleet_app, "127.0.0.66"), _browser(fleet_app, "127.0.0.77")
    for _ in range(5):
        assert guesser.sign_in(fleet_app, "Mia", "0000").status_code == 401
    limited = guesser.sign_in(fleet_app, "Mia", PINS["Mia"])
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 30
    assert "Wait" in limited.get_data(as_text=True)
    assert owner.sign_in(fleet_app, "Mia").status_code == 302  # the admin still gets in
    page = owner.get("/").get_data(as_text=True)
    assert "Wrong PINs in the last day" in page and "Mia: 5 wrong PINs" in page
    assert "from 1 device" in page
    leo = _browser(fleet_app, "127.0.0.78")
    leo.sign_in(fleet_app, "Leo")
    assert "Wrong PINs" not in leo.get("/").get_data(as_text=True)  # for the admin only


def test_the_wait_doubles_with_each_wrong_pin_and_a_crowd_locks_the_profile(
    fleet_app: Flask,
) -> None:
    from edu.services import accounts, pin_guard

    engine = fleet_app.extensions["edu.engine"]
    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    with Session(engine) as session:
        leo = session.exec(select(Person).where(Person.name == "Leo")).one()
        assert leo.id is not None

        def attempt(client: str, at: datetime, pin: str = "0000") -> accounts.SignIn:
            return accounts.sign_in(session, leo.id or 0, pin, client=client, now=at)

        for i in range(5):
            assert attempt("127.0.0.5", t0 + timedelta(seconds=i)).result == "wrong"
        first = attempt("127.0.0.5", t0 + timedelta(seconds=5))
        assert first.result == "limited" and first.retry_after == 30 - 1
        assert attempt("127.0.0.5", t0 + timedelta(seconds=35)).result == "wrong"
        second = attempt("127.0.0.5", t0 + timedelta(seconds=36))
        assert second.result == "limited" and second.retry_after == 60 - 1
        # Many wrong PINs from many clients lock the profile, for a newcomer too.
        at = t0 + timedelta(minutes=1)
        clients = [f"127.0.1.{n}" for n in range(pin_guard.CROWD_CLIENTS)]
        tries = 0
        while tries < pin_guard.CROWD_FAILURES:
            for client in clients:
                attempt(client, at)
                tries += 1
            at += timedelta(minutes=2)
        locked = attempt("127.0.9.9", at, PINS["Leo"])
        assert locked.result == "limited" and locked.retry_after > 60
        later = at + pin_guard.CROWD_LOCK + pin_guard.WINDOW
        assert attempt("127.0.9.9", later, PINS["Leo"]).result == "ok"


def test_a_limited_kiosk_exit_says_when_to_try_again(store_app: Flask) -> None:
    from demo_fixtures import STAFF, STAFF_PIN

    kiosk = _browser(store_app, "127.0.0.70")
    assert kiosk.sign_in(store_app, STAFF, STAFF_PIN).status_code == 302
    assert kiosk.get("/demo/kiosk").status_code == 200
    sam = str(kiosk.person_id(store_app, STAFF))
    for _ in range(5):
        assert kiosk.post("/demo/kiosk/exit", {"person": sam, "pin": "0000"}).status_code == 401
    limited = kiosk.post("/demo/kiosk/exit", {"person": sam, "pin": STAFF_PIN})
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 30
    # staff at the board's tablet are not kept out by the kiosk's guesses
    assert _browser(store_app, "127.0.0.71").sign_in(store_app, STAFF, STAFF_PIN).status_code == 302
