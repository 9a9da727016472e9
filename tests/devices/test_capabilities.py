"""extract() maps real python-miio devices of the fleet to capability ids, without any I/O."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from capability_fixtures import (
    ABSENT,
    DATA,
    EXPECTED,
    FLEET,
    TOKEN,
    UNMAPPED,
    FakeProtocol,
    device_class,
    live_status,
)

from devices.capabilities import CapabilityReport, extract, snapshot

pytestmark = pytest.mark.usefixtures("no_device_io")


@pytest.mark.parametrize("model", sorted(FLEET))
def test_fleet_device_maps_to_the_capabilities_it_really_has(
    report_for: Callable[[str], CapabilityReport], model: str
) -> None:
    report = report_for(model)
    assert EXPECTED[model] <= set(report.capabilities)
    assert not ABSENT.get(model, set()) & set(report.capabilities)
    assert report.capabilities == sorted(report.capabilities)
    assert set(report.settings) | set(report.actions) <= set(report.capabilities)
    json.dumps(report.to_dict())


@pytest.mark.parametrize("model", sorted(UNMAPPED))
def test_descriptors_without_a_mapping_are_reported_as_unmapped(
    report_for: Callable[[str], CapabilityReport], model: str
) -> None:
    report = report_for(model)
    assert report.unmapped == UNMAPPED[model]
    for descriptor_id in report.unmapped:
        assert report.descriptors[descriptor_id]["reported"] is True


def test_descriptors_the_model_does_not_report_are_kept_but_not_unmapped(
    report_for: Callable[[str], CapabilityReport],
) -> None:
    report = report_for("zhimi.fan.za4")  # the ZA4 has no humidity sensor and no LED on/off
    assert report.descriptors["FanStatus.humidity"]["reported"] is False
    assert "FanStatus.humidity" not in report.unmapped
    angle = report.descriptors["FanStatus.angle"]
    assert (
        angle["writable"] is True and angle["kind"] == "setting" and angle["setter"] == "set_angle"
    )
    assert report.descriptors["FanStatus.led_brightness"]["choices"] == ["Bright", "Dim", "Off"]


def test_try_it_gets_a_descriptor_or_a_method_for_each_setting(
    report_for: Callable[[str], CapabilityReport],
) -> None:
    fan = report_for("zhimi.fan.za4")
    assert fan.settings["child-lock"] == "FanStatus.child_lock"
    assert fan.methods["child-lock"] == "set_child_lock"
    assert fan.methods["off-timer"] == "delay_off"
    purifier = report_for("zhimi.airpurifier.v6")  # no descriptors in this class
    assert "child-lock" not in purifier.settings
    assert purifier.methods["child-lock"] == "set_child_lock"
    vacuum = report_for("roborock.vacuum.s5")
    assert vacuum.actions["find-robot"] == "identify:identify"
    assert vacuum.actions["spot-cleaning"] == "vacuum:spot-cleaning"
    assert vacuum.methods["do-not-disturb"] == "set_dnd"
    light = report_for("yeelink.light.color1")
    assert light.settings["rgb-color"] == "light:color"
    assert light.settings["color-temperature"] == "light:color-temperature"


def test_embedded_statuses_count_roborock_consumables_and_dnd(
    report_for: Callable[[str], CapabilityReport],
) -> None:
    report = report_for("roborock.vacuum.s5")
    assert report.descriptors["ConsumableStatus.main_brush"]["reported"] is True
    assert report.descriptors["DNDStatus.enabled"]["reported"] is True
    assert "DNDStatus.enabled" not in report.unmapped


def test_python_miio_descriptors_call_would_handshake_so_extract_avoids_it() -> None:
    from miio import Fan

    fan = Fan("127.0.0.1", TOKEN, model="zhimi.fan.za4")
    with pytest.raises(AssertionError, match="must not talk"):
        fan.descriptors()  # inspect.getmembers reads Device.device_id -> handshake
    report = extract(fan, None, family="fan")
    assert {"child-lock", "oscillation", "natural-wind"} <= set(report.capabilities)


@pytest.mark.usefixtures("keep_yeelight_bindings")
def test_an_initialised_device_gives_the_same_report(
    report_for: Callable[[str], CapabilityReport],
) -> None:
    from miio import Yeelight

    light = Yeelight("127.0.0.1", TOKEN, model="yeelink.light.color1")
    light._protocol._device_id = b"\x00\x00\x00\x01"  # as after a handshake
    light.descriptors()
    report = extract(light, live_status("yeelink.light.color1"), family="light")
    assert report.capabilities == report_for("yeelink.light.color1").capabilities


def test_family_defaults_to_the_model_pattern() -> None:
    from miio import Heater

    heater = Heater("127.0.0.1", TOKEN, model="zhimi.heater.za1")
    report = extract(heater, live_status("zhimi.heater.za1"), family=None)
    assert report.family == "heater"
    assert "oscillation" not in report.capabilities


def generic_miot(spec_file: str, model: str) -> Any:
    from miio.integrations.genericmiot.genericmiot import GenericMiot
    from miio.miot_models import DeviceModel

    device = GenericMiot("127.0.0.1", TOKEN, model=model)
    device._miot_model = DeviceModel.parse_obj(json.loads((DATA / spec_file).read_text()))
    device._create_descriptors()
    return device


def miot_status(device: Any, values: dict[str, Any]) -> Any:
    from miio.integrations.genericmiot.status import GenericMiotStatus

    reply = []
    for query in device._status_query:
        if query["did"] in values:
            reply.append({**query, "code": 0, "value": values[query["did"]]})
    return GenericMiotStatus(reply, device)


def test_generic_miot_fan_maps_spec_types_without_touching_the_cloud() -> None:
    device = generic_miot("miot_fan_spec.json", "coach.fan.spec1")
    values = {
        "fan:on": True,
        "fan:mode": 1,
        "physical-controls-locked:physical-controls-locked": True,
    }
    report = extract(device, miot_status(device, values), family=None)
    assert report.family == "fan"  # from the spec's device type
    expected = {"child-lock", "buzzer", "indicator-light", "off-timer", "oscillation",
                "oscillation-angle", "natural-wind", "speed-level", "sleep-mode",
                "nudge-direction", "remote-power"}  # fmt: skip
    assert expected <= set(report.capabilities)
    assert report.settings["child-lock"] == "physical-controls-locked:physical-controls-locked"
    assert report.settings["buzzer"] == "alarm:alarm"
    assert report.settings["off-timer"] == "fan:off-delay-time"
    assert report.actions["remote-power"] == "fan:toggle"
    assert report.unmapped == ["extras:breeze-memory", "extras:motor-speed"]
    assert report.descriptors["fan:mode"]["choices"] == ["Straight Wind", "Natural Wind", "Sleep"]
    assert report.descriptors["extras:motor-speed"]["range"] == [0, 3000, 1]


def test_generic_miot_purifier_maps_filter_light_and_lock() -> None:
    device = generic_miot("miot_purifier_spec.json", "coach.airpurifier.spec1")
    report = extract(device, None, family="air-purifier")
    expected = {"child-lock", "indicator-light", "filter-life", "pm25-reading", "auto-mode",
                "sleep-mode", "favorite-level", "manual-fan-level", "remote-power"}  # fmt: skip
    assert expected <= set(report.capabilities)
    assert report.settings["indicator-light"] == "indicator-light:brightness"
    assert report.actions["filter-life"] == "filter:reset-filter-life"
    assert report.unmapped == []


def test_generic_miot_without_a_spec_is_mapped_from_nothing_rather_than_the_cloud() -> None:
    from miio.integrations.genericmiot.genericmiot import GenericMiot

    device = GenericMiot("127.0.0.1", TOKEN, model="acme.gizmo.x1")
    report = extract(device, None, family=None)
    assert report.family is None
    assert report.capabilities == [] and report.unmapped == [] and report.descriptors == {}


def test_snapshot_of_every_fleet_status_is_json() -> None:
    for model in FLEET:
        snap = snapshot(live_status(model))
        assert json.loads(json.dumps(snap)) == snap
        assert snap, model


@pytest.mark.usefixtures("keep_yeelight_bindings")
def test_setters_are_named_because_python_miio_binds_shared_descriptors_to_the_last_device(
    report_for: Callable[[str], CapabilityReport],
) -> None:
    from miio import Yeelight

    written: list[str] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name, self._device_id = name, b"\x00\x00\x00\x01"

        def send(self, command: str, parameters: Any = None, *args: Any, **kwargs: Any) -> Any:
            written.append(self.name)
            return ["ok"]

    first, second = (
        Yeelight(ip, TOKEN, model="yeelink.light.color1") for ip in ("127.0.0.1", "127.0.0.2")
    )
    first._protocol, second._protocol = Recorder("first"), Recorder("second")  # type: ignore[assignment]
    first.descriptors()
    second.descriptors()
    first.change_setting("light:brightness", 50)
    assert written == ["second"]  # python-miio: status descriptors are class-level objects
    report = report_for("yeelink.light.color1")
    setter = report.descriptors[report.settings["brightness"]]["setter"]
    getattr(first, setter)(50)
    assert written == ["second", "first"]


def test_a_mode_the_class_cannot_name_still_offers_the_modes_it_declares() -> None:
    # a p9 in sleep mode reports mode 2, which python-miio's FanMiot has no name for: the
    # status then holds the raw number, and natural wind (a mode of the same property)
    # must not vanish from the device because of what it is doing right now
    cls_name, replies = FLEET["dmaker.fan.p9"]
    replies = copy.deepcopy(replies)
    replies["props"]["mode"] = 2
    source = device_class(cls_name)("127.0.0.1", TOKEN, model="dmaker.fan.p9")
    source._protocol = FakeProtocol(replies)
    status = source.status()
    assert not isinstance(snapshot(status).get("mode"), str)  # python-miio could not name it
    report = extract(source, status, family="fan")
    assert {"natural-wind", "sleep-mode"} <= set(report.capabilities)
