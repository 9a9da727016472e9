"""The holes the security review found stay closed: a wrong token, the mute list, an upload's name."""

from __future__ import annotations

from io import BytesIO

from flask import Flask
from sqlmodel import Session, select
from web_fixtures import MEMBER_DEVICES, Web

from devices.fleet import Fleet
from edu.models import Device
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
