"""What the fleet tests share: the status each model must report, raw packets, a tiny fleet."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from miio.protocol import Message

from devices.fleet import Fleet, SimulatedDevice
from devices.fleet_sim import DATA

# python-miio opens a UDP socket per request and never closes it.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


HELLO = bytes.fromhex("21310020" + "ff" * 28)
HOUSEHOLD = yaml.safe_load((DATA / "fleets" / "household.yaml").read_text())
MODELS = [entry["model"] for entry in HOUSEHOLD["devices"]]
GENERIC_MODEL = "zhimi.heater.nb1"
UNKNOWN_MODEL = "acme.gizmo.v1"

# What python-miio's status() must report for each model, straight after a reset.
EXPECTED: dict[str, dict[str, Any]] = {
    "roborock.vacuum.s5": {"battery": 100, "state_code": 8, "fanspeed": 60, "error_code": 0},
    "dreame.vacuum.mc1808": {
        "battery_level": 100,
        "device_status.name": "Charging",
        "cleaning_mode.name": "Default",
        "filter_life_level": 67,
    },
    "zhimi.airpurifier.v6": {
        "is_on": True,
        "aqi": 7,
        "child_lock": False,
        "favorite_level": 10,
        "filter_life_remaining": 52,
        "led": True,
        "buzzer": None,
    },
    "zhimi.airpurifier.mb3": {
        "is_on": True,
        "aqi": 12,
        "child_lock": False,
        "mode.name": "Auto",
        "filter_life_remaining": 72,
        "buzzer_volume": None,
    },
    "zhimi.fan.za4": {
        "is_on": True,
        "child_lock": False,
        "angle": 120,
        "speed": 277,
        "delay_off_countdown": 0,
    },
    "dmaker.fan.p5": {
        "is_on": True,
        "speed": 35,
        "child_lock": False,
        "angle": 140,
        "delay_off_countdown": 0,
    },
    "dmaker.fan.p9": {
        "is_on": True,
        "speed": 25,
        "angle": 90,
        "child_lock": False,
        "delay_off_countdown": 0,
    },
    "zhimi.humidifier.ca1": {
        "is_on": True,
        "humidity": 33,
        "target_humidity": 40,
        "child_lock": False,
        "temperature": 29.4,
        "water_level": 50,
    },
    "zhimi.humidifier.ca4": {
        "is_on": True,
        "target_humidity": 50,
        "humidity": 39,
        "child_lock": False,
        "temperature": 22.7,
    },
    "yeelink.light.color1": {
        "is_on": True,
        "brightness": 80,
        "color_temp": 4000,
        "developer_mode": False,
        "delay_off": 0,
    },
    "yeelink.light.ceiling1": {"is_on": True, "brightness": 80, "moonlight_mode": False},
    "chuangmi.plug.v3": {"is_on": True, "temperature": 38, "load_power": 45.0, "usb_power": False},
    "qmi.powerstrip.v1": {"is_on": True, "load_power": 57.71, "voltage": 229.98},
    "zhimi.heater.za1": {
        "is_on": False,
        "target_temperature": 24,
        "child_lock": False,
        "delay_off_countdown": 0,
    },
    "zhimi.heater.mc2": {
        "is_on": False,
        "target_temperature": 20,
        "child_lock": False,
        "delay_off_countdown": 0,
        "temperature": 19.6,
    },
    "cgllc.airmonitor.s1": {"co2": 695, "pm25": 19.4, "battery": 100, "temperature": 27.4},
    GENERIC_MODEL: {
        "heater_on": False,
        "environment_temperature": 18.4,
        "physical_controls_locked_physical_controls_locked": False,
    },
}


def attribute(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def exchange(ip: str, packet: bytes, timeout: float = 0.3, bufsize: int = 65535) -> bytes | None:
    """Send one datagram to a device and return its reply, or None by the deadline."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (ip, 54321))
        try:
            return sock.recv(bufsize)
        except TimeoutError:
            return None


def raw_request(
    device: SimulatedDevice, method: str, params: Any = None, token: str | None = None
) -> bytes:
    header = {
        "length": 0,
        "unknown": 0,
        "device_id": device.did.to_bytes(4, "big"),
        "ts": datetime.now(tz=UTC),
    }
    payload = {"id": 4242, "method": method, "params": params or []}
    return Message.build(
        {"data": {"value": payload}, "header": {"value": header}, "checksum": 0},
        token=bytes.fromhex(token or device.token),
    )


def wait_for(condition: Callable[[], bool], deadline: float = 2.0) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def tiny_fleet(tmp_path: Path, model: str = "zhimi.fan.za4", count: int = 2) -> Fleet:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {"name": "tiny", "devices": [{"model": model, "family": "fan", "count": count}]}
        )
    )
    return Fleet.load(str(path))
