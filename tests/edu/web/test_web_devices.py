"""The devices pages against the simulated fleet: scan with progress, add, import, doctor, edit."""

from __future__ import annotations

import json
import time
from io import BytesIO
from pathlib import Path

from flask import Flask
from sqlmodel import Session, select
from web_fixtures import Web, close_app, make_app, settings_for

from devices.fleet import Fleet
from edu.models import Device, Person, PersonDevice
from edu.simulated.fleet import token_file_for

STUDY_FAN = "zhimi.fan.za4"


def _device(app: Flask, did: int) -> Device | None:
    with Session(app.extensions["edu.engine"]) as session:
        return session.exec(select(Device).where(Device.did == did)).first()


def test_scan_runs_in_the_background_with_progress_and_finds_the_fleet(
    fleet: Fleet, web: Web, app: Flask, tmp_path: Path
) -> None:
    application = make_app(settings_for(tmp_path / "scan", (fleet.network,)))
    person = Web(application.test_client())
    person.setup()
    assert person.post("/devices/scan").status_code == 302
    first = person.get("/devices/scan/status").get_json()
    assert first["phase"] in ("looking", "reading", "done")
    page = person.get("/devices/").get_data(as_text=True)
    assert "Scan for devices" in page
    deadline = time.monotonic() + 20
    while person.get("/devices/scan/status").get_json()["running"] and time.monotonic() < deadline:
        application.extensions["edu.scans"].wait(0.2)
    state = person.get("/devices/scan/status").get_json()
    assert state["phase"] == "done" and state["found"] == len(fleet.devices)
    assert state["needs_token"] == sum(1 for d in fleet.devices if d.provisioned)
    page = person.get("/devices/").get_data(as_text=True)
    assert "Scan finished" in page and "Needs its token" in page and "Working" in page
    close_app(application)


def test_scan_without_networks_explains_what_to_configure(web: Web) -> None:
    web.setup()
    response = web.post("/devices/scan", follow_redirects=True)
    assert "No networks are configured" in response.get_data(as_text=True)
    assert web.api("POST", "/api/v1/devices/scan").status_code == 409


def test_adding_a_provisioned_device_with_its_token_makes_it_work(
    fleet: Fleet, tmp_path: Path
) -> None:
    application = make_app(settings_for(tmp_path / "add", (fleet.network,)))
    person = Web(application.test_client())
    person.setup()
    fan = fleet.by_model(STUDY_FAN)
    response = person.post("/devices/add", {"ip": fan.ip, "token": fan.token, "name": "Desk fan"})
    assert response.status_code == 302 and response.headers["Location"] == f"/devices/{fan.did}"
    page = person.get(f"/devices/{fan.did}").get_data(as_text=True)
    assert "Desk fan is working" in page and "Child lock" in page
    close_app(application)


def test_adding_with_a_wrong_token_says_the_token_was_rejected(
    fleet: Fleet, tmp_path: Path
) -> None:
    application = make_app(settings_for(tmp_path / "wrong", (fleet.network,)))
    person = Web(application.test_client())
    person.setup()
    fan = fleet.by_model(STUDY_FAN)
    answer = person.post("/devices/add", {"ip": fan.ip, "token": "0" * 32})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "rejected this token" in page and "reset" in page
    assert _device(application, fan.did) is None  # refused: nothing stored
    close_app(application)


def test_adding_at_an_address_where_nothing_answers_explains_why(web: Web) -> None:
    web.setup()
    page = web.post("/devices/add", {"ip": "127.0.0.2", "token": "0" * 32})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "Nothing answered at 127.0.0.2" in text
    bad = web.post("/devices/add", {"ip": "not an ip", "token": "short"})
    assert bad.status_code == 400 and "32-character token" in bad.get_data(as_text=True)


def test_importing_a_token_file_stores_the_tokens(fleet: Fleet, tmp_path: Path) -> None:
    application = make_app(settings_for(tmp_path / "import"))
    person = Web(application.test_client())
    person.setup()
    data = json.dumps(token_file_for(fleet)).encode()
    response = person.post(
        "/devices/import",
        {"file": (BytesIO(data), "tokens.json")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    provisioned = sum(1 for d in fleet.devices if d.provisioned)
    assert f"{provisioned} token(s) stored" in response.get_data(as_text=True)
    assert not list((tmp_path / "import" / "uploads").iterdir())  # the upload is not kept
    broken = person.post(
        "/devices/import",
        {"file": (BytesIO(b"\x00\x01garbage"), "t.json")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "could not be read" in broken.get_data(as_text=True)
    close_app(application)


def test_the_doctor_explains_offline_other_subnet_and_unsupported(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    gizmo = fleet.by_model("acme.gizmo.v1")
    assert "not supported yet" in fleet_web.get(f"/devices/{gizmo.did}").get_data(as_text=True)
    fan, moved = fleet.by_model(STUDY_FAN), fleet.by_model("dmaker.fan.p5")
    with Session(fleet_app.extensions["edu.engine"]) as session, session.begin():
        device = session.exec(select(Device).where(Device.did == fan.did)).one()
        device.status, device.status_detail = "offline", "no answer"
        other = session.exec(select(Device).where(Device.did == moved.did)).one()
        other.status, other.ip = "offline", "10.9.8.7"
    page = fleet_web.get(f"/devices/{fan.did}").get_data(as_text=True)
    assert "is not answering" in page and "switched off" in page
    page = fleet_web.get(f"/devices/{moved.did}").get_data(as_text=True)
    assert "another part of the network" in page and "EDU_NETWORKS" in page
    doctor = fleet_web.api("GET", f"/api/v1/devices/{moved.did}").get_json()["doctor"]
    assert doctor["code"] == "other-subnet" and doctor["steps"]


def test_the_admin_renames_a_device_and_chooses_who_uses_it(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    purifier = fleet.by_model("zhimi.airpurifier.mb3")
    assert (
        fleet_web.post(
            f"/devices/{purifier.did}", {"action": "rename", "name": "Lounge air"}
        ).status_code
        == 302
    )
    assert _device(fleet_app, purifier.did).name == "Lounge air"  # type: ignore[union-attr]
    leo, mia = fleet_web.person_id(fleet_app, "Leo"), fleet_web.person_id(fleet_app, "Mia")
    fleet_web.post(f"/devices/{purifier.did}", {"action": "people", "person": [str(leo)]})
    with Session(fleet_app.extensions["edu.engine"]) as session:
        device = session.exec(select(Device).where(Device.did == purifier.did)).one()
        assert session.get(PersonDevice, (leo, device.id)) is not None
        admin = session.get(Person, mia)
        assert admin is not None and not admin.uses_all_devices  # Mia no longer uses it
        assert session.get(PersonDevice, (mia, device.id)) is None
    page = fleet_web.get(f"/devices/{purifier.did}").get_data(as_text=True)
    assert f'value="{leo}" checked' in page and f'value="{mia}" checked' not in page


def test_the_admin_removes_a_device(fleet_web: Web, fleet_app: Flask, fleet: Fleet) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    plug = fleet.by_model("chuangmi.plug.v3")
    assert fleet_web.post(f"/devices/{plug.did}", {"action": "remove"}).status_code == 302
    assert _device(fleet_app, plug.did) is None
    assert fleet_web.get(f"/devices/{plug.did}").status_code == 404
