"""The LAN side end to end: sweep, scan, poll and usage against the simulated fleet."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleet_fixtures import miio_client
from lan_fixtures import scanned
from sqlmodel import Session, select

from devices.discovery import discover
from devices.fleet import Fleet
from edu.cli import main
from edu.models import UsageEvent
from edu.services.inventory import Inventory
from edu.simulated.fleet import token_file_for

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

UNSUPPORTED = "acme.gizmo.v1"

# What each class must offer at least (the vocabulary maps more).
EXPECTED: dict[str, set[str]] = {
    "roborock.vacuum.s5": {
        "do-not-disturb",
        "scheduled-cleaning",
        "spot-cleaning",
        "find-robot",
        "suction-power",
        "consumables",
        "zoned-cleaning",
    },
    "dreame.vacuum.mc1808": {"find-robot", "suction-power", "consumables", "do-not-disturb"},
    "zhimi.airpurifier.v6": {
        "child-lock",
        "favorite-level",
        "filter-life",
        "auto-mode",
        "sleep-mode",
        "indicator-light",
    },
    "zhimi.airpurifier.mb3": {
        "child-lock",
        "favorite-level",
        "filter-life",
        "auto-mode",
        "sleep-mode",
        "buzzer",
    },
    "zhimi.fan.za4": {
        "child-lock",
        "buzzer",
        "indicator-light",
        "off-timer",
        "oscillation",
        "oscillation-angle",
        "natural-wind",
    },
    "dmaker.fan.p5": {
        "child-lock",
        "buzzer",
        "off-timer",
        "oscillation",
        "oscillation-angle",
        "natural-wind",
    },
    "dmaker.fan.p9": {"child-lock", "buzzer", "off-timer", "oscillation", "oscillation-angle"},
    "zhimi.humidifier.ca1": {"child-lock", "target-humidity", "buzzer", "dry-mode"},
    "zhimi.humidifier.ca4": {"child-lock", "target-humidity", "buzzer", "dry-mode"},
    "yeelink.light.color1": {"brightness", "color-temperature", "power-on-state"},
    "yeelink.light.ceiling1": {"brightness", "color-temperature", "night-light"},
    "chuangmi.plug.v3": {"power-usage", "usb-power"},
    "qmi.powerstrip.v1": {"power-usage"},
    "zhimi.heater.za1": {"child-lock", "buzzer", "off-timer", "target-temperature"},
    "zhimi.heater.mc2": {"child-lock", "buzzer", "off-timer", "target-temperature"},
    "cgllc.airmonitor.s1": {"pm25-reading", "co2-reading"},
    "zhimi.heater.nb1": {"child-lock", "off-timer", "target-temperature"},
}


def test_sweep_of_the_fleet_network_finds_every_device(fleet: Fleet) -> None:
    found = discover([fleet.network], timeout=0.8)
    assert {f.did for f in found} == {d.did for d in fleet.devices}
    for record in found:
        device = fleet.by_did(record.did)
        assert record.ip == device.ip
        assert record.token_known == (not device.provisioned)
        assert record.source == "sweep"


def test_scan_gives_each_device_its_model_family_and_capabilities(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    rows = scanned(inventory, fleet, tmp_path)
    assert set(rows) == {d.did for d in fleet.devices}
    for device in fleet.devices:
        row = rows[device.did]
        assert row["model"] == device.model
        assert row["mac"] == device.mac.lower()
        if device.model == UNSUPPORTED:
            assert row["status"] == "unsupported"
            assert row["capabilities"] == []
            continue
        assert row["status"] == "online", (device.model, row["detail"])
        assert row["family"] == device.family
        assert EXPECTED[device.model] <= set(row["capabilities"]), device.model
        assert row["firmware"]


def test_poll_marks_child_lock_used_when_the_device_reports_it(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    fan = fleet.by_model("zhimi.fan.za4")
    before = {row["did"]: row for row in inventory.poll()}
    assert "child-lock" not in before[fan.did]["in_use"]

    miio_client(fan).set_child_lock(True)  # someone used the vendor app
    after = {row["did"]: row for row in inventory.poll()}
    assert "child-lock" in after[fan.did]["in_use"]
    with Session(inventory.engine) as session:
        events = session.exec(select(UsageEvent).where(UsageEvent.capability == "child-lock")).all()
    assert [e.how for e in events] == ["state"]

    again = {row["did"]: row for row in inventory.poll()}
    assert "child-lock" in again[fan.did]["in_use"]
    with Session(inventory.engine) as session:
        assert (
            len(session.exec(select(UsageEvent).where(UsageEvent.capability == "child-lock")).all())
            == 1
        )


def test_a_setting_changed_by_feature_coach_is_not_the_households_use(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    fan = fleet.by_model("zhimi.fan.za4")
    inventory.poll()
    inventory.write_setting(fan.did, "oscillation-angle", 30)
    assert fan.state()["angle"] == 30
    ours = {row["did"]: row for row in inventory.poll()}
    assert "oscillation-angle" not in ours[fan.did]["in_use"]

    miio_client(fan).set_angle(90)  # and now a person does it with the remote
    theirs = {row["did"]: row for row in inventory.poll()}
    assert "oscillation-angle" in theirs[fan.did]["in_use"]
    with Session(inventory.engine) as session:
        events = session.exec(
            select(UsageEvent).where(UsageEvent.capability == "oscillation-angle")
        ).all()
    assert [e.how for e in events] == ["change"]


def test_a_scan_with_hostile_and_dead_devices_still_identifies_the_others(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    hostile = fleet.by_model("dmaker.fan.p5")
    hostile.fault = "malformed"
    bloated = fleet.by_model("chuangmi.plug.v3")
    bloated.fault = "oversized"
    reset = fleet.by_model("zhimi.heater.za1")
    reset.fault = "wrong-token"
    rows = scanned(inventory, fleet, tmp_path)
    troubled = {hostile.did, bloated.did, reset.did}
    for device in fleet.devices:
        if device.did in troubled or device.model == UNSUPPORTED:
            continue
        assert rows[device.did]["status"] == "online", device.model
    assert rows[hostile.did]["status"] == "offline"
    assert "malformed" in rows[hostile.did]["detail"]
    assert rows[reset.did]["status"] == "auth-failed"
    assert rows[bloated.did]["status"] == "offline"  # python-miio reads 4 KiB; the token is fine
    assert "too long" in rows[bloated.did]["detail"]


def test_offline_device_is_a_state_and_the_next_poll_recovers(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    lamp = fleet.by_model("yeelink.light.color1")
    lamp.fault = "no-reply"
    rows = {row["did"]: row for row in inventory.poll()}
    assert rows[lamp.did]["status"] == "offline"
    assert sum(1 for r in rows.values() if r["status"] == "online") == len(fleet.devices) - 2
    lamp.fault = None
    rows = {row["did"]: row for row in inventory.poll()}
    assert rows[lamp.did]["status"] == "online"


def test_a_device_with_a_new_ip_is_the_same_device(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    plug = fleet.by_model("qmi.powerstrip.v1")
    new_ip = ".".join(plug.ip.split(".")[:3]) + ".200"
    plug.move(new_ip)
    found = discover([fleet.network], timeout=0.8)
    rows = {row["did"]: row for row in inventory.scan(found)}
    assert rows[plug.did]["ip"] == new_ip
    assert rows[plug.did]["status"] == "online"
    assert len(inventory.devices()) == len(fleet.devices)
    polled = {row["did"]: row for row in inventory.poll()}
    assert polled[plug.did]["status"] == "online"


def test_a_provisioned_device_without_its_token_asks_for_it(
    fleet: Fleet, inventory: Inventory
) -> None:
    found = discover([fleet.network], timeout=0.8)
    rows = {row["did"]: row for row in inventory.scan(found)}
    for device in fleet.devices:
        if device.provisioned:
            assert rows[device.did]["status"] == "auth-failed"
            assert "edu add" in rows[device.did]["detail"]


def test_cli_scan_and_poll_never_reveal_a_token(
    fleet: Fleet, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    instance = tmp_path / "instance"
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(token_file_for(fleet)))
    runner = CliRunner()
    env = {"EDU_INSTANCE": str(instance), "EDU_DEVICE_TIMEOUT": "0.5"}
    outputs = []
    for args in (
        ["tokens", "import", str(tokens), "--json"],
        ["discover", "--network", fleet.network, "--timeout", "0.8", "--json"],
        ["scan", "--network", fleet.network, "--timeout", "0.8", "--json"],
        ["poll", "--json"],
        ["-v", "-v", "poll"],
    ):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    discovered = json.loads(outputs[1])
    assert {"ip", "did", "token_known", "source"} <= set(discovered[0])
    scanned_rows = json.loads(outputs[2])
    assert len(scanned_rows) == len(fleet.devices)
    for row in scanned_rows:
        assert {
            "ip",
            "did",
            "mac",
            "model",
            "family",
            "firmware",
            "status",
            "capabilities",
            "unmapped",
        } <= set(row)
        assert row["status"] in ("online", "offline", "auth-failed", "unsupported")
    polled = json.loads(outputs[3])
    assert all({"did", "status", "in_use"} <= set(row) for row in polled)
    haystack = "\n".join(outputs) + caplog.text
    stored = b"".join(p.read_bytes() for p in instance.rglob("*") if p.is_file())
    for device in fleet.devices:
        assert device.token not in haystack
        assert device.token.encode() not in stored
        assert bytes.fromhex(device.token) not in stored


def test_a_cleaning_schedule_on_the_robot_counts_as_scheduled_cleaning_in_use(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    robot = fleet.by_model("roborock.vacuum.s5")
    before = {row["did"]: row for row in inventory.poll()}
    assert "scheduled-cleaning" not in before[robot.did]["in_use"]
    miio_client(robot).add_timer(
        "0 9 * * 1", "start_clean", "", ""
    )  # Mondays at nine, from the app
    after = {row["did"]: row for row in inventory.poll()}
    assert "scheduled-cleaning" in after[robot.did]["in_use"]


def test_writing_a_setting_reaches_only_that_device_even_with_two_of_a_class(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    # python-miio shares status descriptors between objects of a class and rebinds their
    # setter to the last device built; Feature Coach must not write to the wrong lamp.
    scanned(inventory, fleet, tmp_path)
    bulb = fleet.by_model("yeelink.light.color1")
    ceiling = fleet.by_model("yeelink.light.ceiling1")
    ceiling_before = ceiling.state()["bright"]
    inventory.write_setting(bulb.did, "brightness", 17)
    assert int(bulb.state()["bright"]) == 17
    assert ceiling.state()["bright"] == ceiling_before
    inventory.write_setting(ceiling.did, "brightness", 42)
    assert int(ceiling.state()["bright"]) == 42
    assert int(bulb.state()["bright"]) == 17


def test_an_enum_setting_takes_a_plain_value(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    humidifier = fleet.by_model("zhimi.humidifier.ca1")
    inventory.write_setting(humidifier.did, "indicator-light", "off")
    polled = {row["did"]: row for row in inventory.poll()}
    assert polled[humidifier.did]["status"] == "online"
    assert str(humidifier.state()["led_b"]) == "2"
