"""The simulated fleet answers python-miio like the real devices: files, models, settings, identity."""

from __future__ import annotations

import json
import logging
import struct
import threading
from collections.abc import Callable
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
from fleet_fixtures import miio_client, start_on_free_block
from fleet_helpers import (
    EXPECTED,
    GENERIC_MODEL,
    HELLO,
    HOUSEHOLD,
    MODELS,
    UNKNOWN_MODEL,
    attribute,
    exchange,
    tiny_fleet,
)
from miio import DeviceFactory
from miio.exceptions import (
    DeviceError,
    UnsupportedFeatureException,
)
from miio.integrations.genericmiot.genericmiot import GenericMiot
from miio.integrations.roborock.vacuum.vacuum_enums import TimerState
from miio.integrations.zhimi.airpurifier.airpurifier_miot import (
    OperationMode as PurifierMode,
)
from miio.integrations.zhimi.humidifier.airhumidifier import LedBrightness
from miio.integrations.zimi.powerstrip.powerstrip import PowerMode
from miio.miot_models import DeviceModel

from devices.fleet import FAMILIES, Fleet, FleetBindError
from devices.fleet_sim import DATA


# -- the fleet files ----------------------------------------------------------------------
def test_household_holds_the_models_the_product_is_built_for() -> None:
    assert len(MODELS) >= 18 and len(set(MODELS)) == len(MODELS)
    assert {entry["family"] for entry in HOUSEHOLD["devices"]} <= set(FAMILIES)
    assert DeviceFactory.class_for_model(GENERIC_MODEL) is GenericMiot
    assert (DATA / "specs" / f"{GENERIC_MODEL}.json").is_file()
    assert not (DATA / "specs" / f"{UNKNOWN_MODEL}.json").exists()


def test_bench50_gives_fifty_devices_with_unique_did_mac_and_token() -> None:
    bench = Fleet.load("bench50")
    assert len(bench.devices) == 50
    assert len({d.did for d in bench.devices}) == 50
    assert len({d.mac for d in bench.devices}) == 50
    assert len({d.token for d in bench.devices}) == 50
    assert all(0 < d.did < 2**32 and len(d.token) == 32 for d in bench.devices)


def test_a_seed_makes_tokens_reproducible_and_no_seed_makes_them_random() -> None:
    first, again = Fleet.load("household", seed=7), Fleet.load("household", seed=7)
    assert [d.token for d in first.devices] == [d.token for d in again.devices]
    assert [d.did for d in first.devices] == [d.did for d in Fleet.load("household").devices]
    assert Fleet.load("household").devices[0].token != Fleet.load("household").devices[0].token


def test_unknown_fleet_name_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="household"):
        Fleet.load("no-such-fleet")


@pytest.mark.parametrize("model", [m for m in MODELS if m != UNKNOWN_MODEL])
def test_shipped_miot_specs_match_python_miio_mappings(model: str) -> None:
    cls = DeviceFactory.class_for_model(model)
    spec_file = DATA / "specs" / f"{model}.json"
    if not spec_file.exists():
        assert not getattr(cls, "_mappings", None), f"{model} is MIoT but ships no spec"
        return
    spec = DeviceModel.parse_obj(json.loads(spec_file.read_text()))
    known = {(s.siid, p.piid) for s in spec.services for p in s.properties}
    actions = {(s.siid, a.aiid) for s in spec.services for a in s.actions}
    # The 3H has no buzzer volume: the real device answers -4001 for it, so does ours.
    absent = {("zhimi.airpurifier.mb3", "buzzer_volume")}
    for name, where in getattr(cls, "_mappings", {}).get(model, {}).items():
        if (model, name) in absent:
            continue
        if "aiid" in where:
            assert (where["siid"], where["aiid"]) in actions, f"{model}: action {name}"
        else:
            assert (where["siid"], where["piid"]) in known, f"{model}: property {name}"


# -- python-miio against every device ------------------------------------------------------
@pytest.mark.parametrize("model", [m for m in MODELS if m != UNKNOWN_MODEL])
def test_python_miio_reads_info_and_status_of_every_model(fleet: Fleet, model: str) -> None:
    device = fleet.by_model(model)
    client = miio_client(device)
    info = client.info()
    assert info.model == model
    assert info.mac_address == device.mac
    assert info.network_interface["localIp"] == device.ip
    assert info.firmware_version and info.hardware_version
    status = client.status()
    for path, expected in EXPECTED[model].items():
        assert attribute(status, path) == expected, f"{model}: {path}"


def test_info_carries_the_real_token_like_a_real_device(fleet: Fleet) -> None:
    device = fleet.by_model("zhimi.fan.za4")
    assert miio_client(device).info().data["token"] == device.token


def test_an_unknown_model_answers_info_and_nothing_else(fleet: Fleet) -> None:
    device = fleet.by_model(UNKNOWN_MODEL)
    client = miio_client(device)
    assert client.info().model == UNKNOWN_MODEL
    for method, params in (
        ("get_properties", [{"did": "x", "siid": 2, "piid": 1}]),
        ("get_prop", ["power"]),
    ):
        with pytest.raises(DeviceError) as caught:
            client.send(method, params)
        assert caught.value.code == -32601
    assert client.supports_miot() is False


def test_roborock_answers_unknown_methods_like_roborock_does(fleet: Fleet) -> None:
    client = miio_client(fleet.by_model("roborock.vacuum.s5"))
    with pytest.raises(UnsupportedFeatureException):
        client.child_lock()


# -- settings written through python-miio ---------------------------------------------------
SETTINGS: list[tuple[str, Callable[[Any], Any], str, Any]] = [
    ("zhimi.fan.za4", lambda d: d.set_child_lock(True), "child_lock", True),
    ("zhimi.fan.za4", lambda d: d.delay_off(30), "delay_off_countdown", 30),
    ("dmaker.fan.p5", lambda d: d.set_child_lock(True), "child_lock", True),
    ("dmaker.fan.p9", lambda d: d.set_child_lock(True), "child_lock", True),
    ("dmaker.fan.p9", lambda d: d.delay_off(45), "delay_off_countdown", 45),
    ("dmaker.fan.p9", lambda d: d.set_angle(150), "angle", 150),
    ("zhimi.airpurifier.v6", lambda d: d.set_child_lock(True), "child_lock", True),
    ("zhimi.airpurifier.v6", lambda d: d.set_favorite_level(5), "favorite_level", 5),
    ("zhimi.airpurifier.mb3", lambda d: d.set_child_lock(True), "child_lock", True),
    ("zhimi.airpurifier.mb3", lambda d: d.set_mode(PurifierMode.Favorite), "mode.name", "Favorite"),
    ("zhimi.humidifier.ca1", lambda d: d.set_child_lock(True), "child_lock", True),
    (
        "zhimi.humidifier.ca1",
        lambda d: d.set_led_brightness(LedBrightness.Off),
        "led_brightness",
        LedBrightness.Off,
    ),
    ("zhimi.humidifier.ca4", lambda d: d.set_child_lock(True), "child_lock", True),
    ("zhimi.humidifier.ca4", lambda d: d.set_target_humidity(60), "target_humidity", 60),
    ("yeelink.light.color1", lambda d: d.set_brightness(42), "brightness", 42),
    ("yeelink.light.color1", lambda d: d.set_color_temperature(3000), "color_temp", 3000),
    ("yeelink.light.color1", lambda d: d.set_rgb((0, 0, 255)), "rgb", (0, 0, 255)),
    ("yeelink.light.color1", lambda d: d.set_developer_mode(True), "developer_mode", True),
    ("yeelink.light.ceiling1", lambda d: d.toggle(), "is_on", False),
    ("chuangmi.plug.v3", lambda d: d.off(), "is_on", False),
    ("chuangmi.plug.v3", lambda d: d.usb_on(), "usb_power", True),
    ("qmi.powerstrip.v1", lambda d: d.set_power_mode(PowerMode.Eco), "mode", PowerMode.Eco),
    ("zhimi.heater.za1", lambda d: d.set_child_lock(True), "child_lock", True),
    ("zhimi.heater.za1", lambda d: d.delay_off(3600), "delay_off_countdown", 3600),
    ("zhimi.heater.mc2", lambda d: d.set_child_lock(True), "child_lock", True),
    # HeaterMiot writes whole hours and reads them back as its "seconds" countdown.
    ("zhimi.heater.mc2", lambda d: d.set_delay_off(7200), "delay_off_countdown", 2),
    ("dreame.vacuum.mc1808", lambda d: d.start(), "device_status.name", "Sweeping"),
    ("dreame.vacuum.mc1808", lambda d: d.set_fan_speed(3), "cleaning_mode.name", "Strong"),
    ("roborock.vacuum.s5", lambda d: d.set_fan_speed(77), "fanspeed", 77),
    ("roborock.vacuum.s5", lambda d: d.start(), "state_code", 5),
    ("roborock.vacuum.s5", lambda d: d.spot(), "state", "Spot cleaning"),
    # What a store demo relies on to put a vacuum back: home() leaves it returning (6).
    ("roborock.vacuum.s5", lambda d: (d.spot(), d.home()), "state", "Returning home"),
    ("dreame.vacuum.mc1808", lambda d: (d.start(), d.home()), "device_status.name", "GoCharging"),
    ("roborock.vacuum.s5", lambda d: d.set_dnd(22, 30, 7, 0), "dnd_status.enabled", True),
    (
        GENERIC_MODEL,
        lambda d: d.change_setting("physical-controls-locked:physical-controls-locked", True),
        "physical_controls_locked_physical_controls_locked",
        True,
    ),
    (
        GENERIC_MODEL,
        lambda d: d.change_setting("countdown:countdown-time", 3),
        "countdown_countdown_time",
        3,
    ),
]


@pytest.mark.parametrize(
    ("model", "change", "path", "expected"), SETTINGS, ids=[f"{m}-{p}" for m, _, p, _ in SETTINGS]
)
def test_a_setting_written_through_python_miio_shows_in_the_next_status(
    fleet: Fleet, model: str, change: Callable[[Any], Any], path: str, expected: Any
) -> None:
    client = miio_client(fleet.by_model(model))
    assert attribute(client.status(), path) != expected
    change(client)
    assert attribute(client.status(), path) == expected


def test_roborock_do_not_disturb_round_trip(fleet: Fleet) -> None:
    vacuum = miio_client(fleet.by_model("roborock.vacuum.s5"))
    assert vacuum.dnd_status().enabled is False
    vacuum.set_dnd(23, 15, 6, 45)
    dnd = vacuum.dnd_status()
    assert (dnd.enabled, dnd.start, dnd.end) == (True, clock(23, 15), clock(6, 45))
    vacuum.disable_dnd()
    assert vacuum.dnd_status().enabled is False
    assert fleet.by_model("roborock.vacuum.s5").state()["dnd_start_hour"] == 23


def test_roborock_timers_can_be_added_switched_off_and_deleted(fleet: Fleet) -> None:
    vacuum = miio_client(fleet.by_model("roborock.vacuum.s5"))
    assert vacuum.timer() == []
    vacuum.add_timer("30 9 * * 1", "", "", "1700000000000")
    (timer,) = vacuum.timer()
    assert (timer.id, timer.enabled, timer.cron) == ("1700000000000", True, "30 9 * * 1")
    vacuum.update_timer("1700000000000", TimerState.Off)
    assert vacuum.timer()[0].enabled is False
    vacuum.delete_timer("1700000000000")
    assert vacuum.timer() == []


def test_miot_devices_refuse_bad_values_and_read_only_properties(fleet: Fleet) -> None:
    device = fleet.by_model("zhimi.airpurifier.mb3")
    client = miio_client(device)
    assert client.set_property_by(2, 4, 9)[0]["code"] == -4005
    assert client.set_property_by(3, 6, 5)[0]["code"] == -4002
    assert client.set_property_by(99, 1, 5)[0]["code"] == -4003
    assert device.state()["air-purifier:fan-level"] == 1


def test_a_button_press_on_the_device_is_seen_by_the_next_poll(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    fan.set_state("child_lock", "on")
    assert miio_client(fan).status().child_lock is True
    purifier = fleet.by_model("zhimi.airpurifier.mb3")
    purifier.set_state("7.1", True)
    assert purifier.state()["physical-controls-locked:physical-controls-locked"] is True
    assert miio_client(purifier).status().child_lock is True
    with pytest.raises(KeyError):
        fan.set_state("no_such_thing", 1)


def test_requests_are_counted_by_method(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    miio_client(fan).status()
    # python-miio asks a ZA4 for one property per request.
    assert fan.requests["get_prop"] == 12
    assert fan.requests["hello"] >= 1


def test_reset_restores_state_faults_and_counters(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    miio_client(fan).set_child_lock(True)
    fan.fault, fan.slow_seconds, fan.provisioned = "slow", 3.0, False
    fleet.reset()
    assert fan.state()["child_lock"] == "off"
    assert (fan.fault, fan.slow_seconds, fan.provisioned) == (None, 1.0, True)
    assert sum(fan.requests.values()) == 0


# -- hello, identity, secrets ---------------------------------------------------------------
def test_hello_shows_the_token_only_when_the_device_is_fresh(fleet: Fleet) -> None:
    fresh, provisioned = fleet.by_model("yeelink.light.color1"), fleet.by_model("zhimi.fan.za4")
    assert not fresh.provisioned and provisioned.provisioned
    for device, checksum in ((fresh, bytes.fromhex(fresh.token)), (provisioned, b"\xff" * 16)):
        reply = exchange(device.ip, HELLO)
        assert reply is not None and len(reply) == 32
        magic, length, unknown, did, stamp, token = struct.unpack(">HHIII16s", reply)
        assert (magic, length, unknown, did) == (0x2131, 32, 0, device.did)
        assert stamp > 0 and token == checksum


def test_no_token_in_reprs_or_fleet_log_lines(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="devices")
    for device in fleet.devices:
        assert device.token not in repr(device)
    assert all(d.token not in repr(fleet) for d in fleet.devices)
    fan = fleet.by_model("zhimi.fan.za4")
    miio_client(fan).info()
    home = fan.ip
    fan.move(home.rsplit(".", 1)[0] + ".201")
    fan.move(home)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("devices")]
    assert not [line for line in ours for d in fleet.devices if d.token in line]


def test_move_rebinds_the_same_device_on_another_address(fleet: Fleet) -> None:
    fan = fleet.by_model("dmaker.fan.p5")
    home, did, mac = fan.ip, fan.did, fan.mac
    new_ip = home.rsplit(".", 1)[0] + ".200"
    fan.move(new_ip)
    assert (fan.ip, fan.did, fan.mac) == (new_ip, did, mac)
    assert fleet.by_ip(new_ip) is fan and fleet.by_did(did) is fan
    assert exchange(home, HELLO, timeout=0.1) is None
    assert miio_client(fan).info().network_interface["localIp"] == new_ip
    fleet.reset()
    assert fan.ip == home and exchange(home, HELLO) is not None


def test_moving_outside_loopback_is_refused(fleet: Fleet) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        fleet.by_model("dmaker.fan.p5").move("192.0.2.10")


def test_starting_on_a_taken_address_is_a_one_line_oserror(fleet: Fleet, tmp_path: Path) -> None:
    other = tiny_fleet(tmp_path)
    with pytest.raises(FleetBindError) as caught:
        other.start(base=fleet.devices[0].ip)
    assert isinstance(caught.value, OSError)
    assert "address already in use" in str(caught.value) and "\n" not in str(caught.value)
    assert not other.running_now
    start_on_free_block(other)
    try:
        assert exchange(other.devices[0].ip, HELLO) is not None
    finally:
        other.stop()


def test_serve_forever_runs_until_stopped(tmp_path: Path) -> None:
    tiny = tiny_fleet(tmp_path, count=1)
    start_on_free_block(tiny)
    worker = threading.Thread(target=tiny.serve_forever)
    worker.start()
    assert exchange(tiny.devices[0].ip, HELLO) is not None
    tiny.stop()
    worker.join(5)
    assert not worker.is_alive() and not tiny.running_now
