"""Devices that are not ours: python-miio's own miIO and MIoT simulators, as its authors ship them.

Our fleet is one implementation of the device side; python-miio's developer simulators
(``miio.devtools.simulators``, on its ``PushServer``) are another, with their own habits: a
hello reply whose token field is all zeros, a real timestamp instead of 1970, the all-zero
token for every message, an error reply for a method they do not know, MIoT properties with
random starting values. Each test runs one of them unchanged (only bound to a loopback
address instead of 0.0.0.0) and takes it through what a household does: find it, add it
with its token, read what it can do, poll it, change a setting and read it back.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import miio
import pytest
import yaml
from miio import PushServer
from miio.devtools.simulators.common import create_info_response, did_and_mac_for_model
from miio.devtools.simulators.miiosimulator import MiioSimulator, SimulatedMiio
from miio.devtools.simulators.miotsimulator import MiotSimulator, SimulatedDeviceModel

from devices.discovery import discover
from devices.fleet_sim import DATA
from edu.services.inventory import Inventory

INTEGRATIONS = Path(miio.__file__).parent / "integrations"
ZERO_TOKEN = "0" * 32  # python-miio's simulators answer to this token only
PORT = 54321


def free_loopback_address() -> str:
    """Return a 127.77.0.x address whose miIO port nobody holds (other runs may hold some)."""
    for host in range(1, 255):
        address = f"127.77.0.{host}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((address, PORT))
            except OSError:
                continue
        return address
    raise RuntimeError("no free loopback address in 127.77.0.0/24")


class ForeignDevice:
    """One python-miio simulator served from its own event loop thread on *address*."""

    def __init__(self, model: str, address: str, attach: Callable[[PushServer], None]) -> None:
        self.model, self.address = model, address
        self.did, mac = did_and_mac_for_model(model)
        self.server = PushServer(device_id=self.did)
        self.server._address = address  # the simulators bind 0.0.0.0; keep it on loopback
        attach(self.server)
        self.server.add_method("miIO.info", create_info_response(model, address, mac))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> ForeignDevice:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(5)
        except OSError:  # the address was taken since we looked: end the loop, say so
            self._end_loop()
            raise
        return self

    def _end_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(5)
        self._end_loop()


def miio_simulator(model: str, sim_file: Path) -> Callable[[PushServer], None]:
    """python-miio's miIO simulator for *model*, described by one of its own YAML files."""
    device = SimulatedMiio.parse_obj(yaml.safe_load(sim_file.read_text(encoding="utf-8")))
    device._model = model

    def attach(server: PushServer) -> None:
        MiioSimulator(dev=device, server=server)

    return attach


def miot_simulator(spec_file: Path) -> Callable[[PushServer], None]:
    """python-miio's MIoT simulator for the device a MIoT spec file describes."""
    spec = spec_file.read_text(encoding="utf-8")

    def attach(server: PushServer) -> None:
        # its starting values are random (drawn while the spec is read); seeded as its own
        # CLI does, without disturbing the random numbers of anything else in the run
        saved = random.getstate()
        random.seed(1)
        try:
            simulator = MiotSimulator(device_model=SimulatedDeviceModel.parse_raw(spec))
        finally:
            random.setstate(saved)
        for method in ("action", "get_properties", "set_properties"):
            server.add_method(method, getattr(simulator, method))

    return attach


@pytest.fixture
def foreign() -> Iterator[Callable[[str, Callable[[PushServer], None]], ForeignDevice]]:
    """Start python-miio simulators on free loopback addresses; stop them afterwards."""
    started: list[ForeignDevice] = []

    def start(model: str, attach: Callable[[PushServer], None]) -> ForeignDevice:
        for _attempt in range(5):  # another test run may take the address we found free
            try:
                device = ForeignDevice(model, free_loopback_address(), attach).start()
            except OSError:
                continue
            started.append(device)
            return device
        raise RuntimeError("no loopback address stayed free for a simulator")

    yield start
    for device in started:
        device.stop()


def settle(inventory: Inventory, device: ForeignDevice, caps: list[str]) -> dict[str, Any]:
    """Find *device*, add it with its token, and check what was read; return the added row."""
    found = discover([f"{device.address}/32"], timeout=3.0)  # ends when it answers
    assert [(d.ip, d.did, d.token_known) for d in found] == [
        (device.address, device.did, False)  # an all-zero token field in the hello hides it
    ]
    row = inventory.add(device.address, ZERO_TOKEN, name="Borrowed")
    assert (row["did"], row["model"], row["status"]) == (device.did, device.model, "online")
    assert set(caps) <= set(row["capabilities"]), row["capabilities"]
    polled = inventory.poll()
    assert [(p["did"], p["status"]) for p in polled] == [(device.did, "online")]
    return row


def flip_and_read_back(
    inventory: Inventory, device: ForeignDevice, switches: dict[str, str]
) -> None:
    """Turn each on/off setting the other way through Feature Coach; the device then says so."""
    for capability, key in switches.items():
        before = inventory.read(device.did)[key]
        assert isinstance(before, bool), (capability, before)
        inventory.write_setting(device.did, capability, not before)
        assert inventory.read(device.did)[key] is (not before), capability


def test_python_miios_fan_simulator_is_found_added_read_and_changed(
    inventory: Inventory, foreign: Any
) -> None:
    fan = foreign(
        "zhimi.fan.za4", miio_simulator("zhimi.fan.za4", INTEGRATIONS / "zhimi/fan/zhimi_fan.yaml")
    )
    row = settle(inventory, fan, ["child-lock", "buzzer", "oscillation", "natural-wind"])
    assert row["implementation"] == "Fan"
    flip_and_read_back(inventory, fan, {"child-lock": "child_lock", "buzzer": "buzzer"})


def test_python_miios_roborock_simulator_is_found_added_and_read(
    inventory: Inventory, foreign: Any
) -> None:
    sim_file = INTEGRATIONS / "roborock/vacuum/simulated_roborock.yaml"
    vacuum = foreign("roborock.vacuum.a15", miio_simulator("roborock.vacuum.a15", sim_file))
    row = settle(
        inventory, vacuum, ["start-cleaning", "return-to-dock", "do-not-disturb", "consumables"]
    )
    assert row["family"] == "vacuum" and row["implementation"] == "RoborockVacuum"
    # its status says the robot is charging, its DND timer is on: what the household uses
    polled = inventory.poll()
    assert "do-not-disturb" in polled[0]["in_use"]


@pytest.mark.parametrize(
    ("model", "caps", "switches"),
    [
        (
            "zhimi.airpurifier.mb3",
            ["auto-mode", "favorite-level", "filter-life", "child-lock"],
            {"child-lock": "child_lock", "buzzer": "buzzer"},
        ),
        ("dmaker.fan.p9", ["oscillation", "natural-wind"], {"child-lock": "child_lock"}),
        ("zhimi.heater.mc2", ["target-temperature"], {"child-lock": "child_lock"}),
    ],
)
def test_python_miios_miot_simulator_is_found_added_read_and_changed(
    inventory: Inventory,
    foreign: Any,
    model: str,
    caps: list[str],
    switches: dict[str, str],
) -> None:
    device = foreign(model, miot_simulator(DATA / "specs" / f"{model}.json"))
    settle(inventory, device, caps)
    flip_and_read_back(inventory, device, switches)


def test_a_miot_model_nobody_ships_is_unsupported_until_its_spec_is_in_the_instance(
    inventory: Inventory, foreign: Any
) -> None:
    spec = DATA / "specs" / "zhimi.humidifier.ca4.json"
    device = foreign("acme.humidifier.x1", miot_simulator(spec))
    row = inventory.add(device.address, ZERO_TOKEN)
    assert row["status"] == "unsupported" and row["capabilities"] == []
    assert "acme.humidifier.x1" in row["detail"]
    # what the README tells an admin to do: put the model's spec in <instance>/specs/
    specs = inventory.settings.ensure_instance() / "specs"
    specs.mkdir(exist_ok=True)
    shutil.copy(spec, specs / "acme.humidifier.x1.json")
    row = inventory.add(device.address, ZERO_TOKEN)
    assert (row["status"], row["implementation"]) == ("online", "GenericMiot")
    assert row["capabilities"], "a GenericMiot device built from the spec has something to teach"
