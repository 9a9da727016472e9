"""Every device fault ends in the right status and doctor advice, and the next poll recovers."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlmodel import Session, select

from devices.fleet import Fleet
from edu.models import Device
from edu.web.doctor import diagnose

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

# fault -> (stored status, doctor code, words the detail must contain)
FAULTS = {
    "no-reply": ("offline", "offline", "did not answer"),
    "slow": ("offline", "offline", "did not answer"),
    "wrong-token": ("auth-failed", "wrong-token", "token"),
    "malformed": ("error", "error", "malformed"),
    "oversized": ("error", "error", "too long"),
}


def row_of(app: Flask, did: int) -> Device:
    with Session(app.extensions["edu.engine"]) as session:
        device = session.exec(select(Device).where(Device.did == did)).one()
        session.expunge(device)
        return device


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_device_fault_has_its_status_and_advice_and_the_next_poll_recovers(
    fault: str, fleet: Fleet, fleet_app: Flask
) -> None:
    status, code, words = FAULTS[fault]
    inventory = fleet_app.extensions["edu.inventory"]
    fan = fleet.by_model("zhimi.fan.za4")
    fan.fault = fault
    fan.slow_seconds = 3.0  # longer than the 0.5 s device timeout of the tests
    polled = {row["did"]: row for row in inventory.poll()}
    assert polled[fan.did]["status"] == ("offline" if status == "error" else status)
    device = row_of(fleet_app, fan.did)
    assert device.status == status
    assert words in device.status_detail
    with fleet_app.test_request_context():
        assert diagnose(device, inventory.settings.networks).code == code
    others = [r for did, r in polled.items() if did != fan.did and r["status"] == "online"]
    assert len(others) >= len(fleet.devices) - 3  # the rest of the household is unaffected
    fan.fault = None
    polled = {row["did"]: row for row in inventory.poll()}
    assert polled[fan.did]["status"] == "online"
    device = row_of(fleet_app, fan.did)
    with fleet_app.test_request_context():
        assert diagnose(device, inventory.settings.networks).code == "ok"
