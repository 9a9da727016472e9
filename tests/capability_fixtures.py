"""The fleet's models as python-miio builds them offline, what each must map to, and no device I/O."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.capabilities import CapabilityReport, Vocabulary, extract

DATA = Path(__file__).parent / "devices" / "data" / "capabilities"
TOKEN = "0" * 32

# Status payloads from python-miio's own tests (integrations/**/test_*.py), one per fleet model.
ROBOROCK = {
    "get_status": [
        {
            "state": 8,
            "dnd_enabled": 1,
            "clean_time": 0,
            "msg_ver": 4,
            "map_present": 1,
            "error_code": 0,
            "in_cleaning": 0,
            "clean_area": 0,
            "battery": 100,
            "fan_power": 60,
            "msg_seq": 320,
            "water_box_status": 1,
        }
    ],
    "get_consumable": [
        {
            "filter_work_time": 32454,
            "sensor_dirty_time": 3798,
            "side_brush_work_time": 32454,
            "main_brush_work_time": 32454,
        }
    ],
    "get_dnd_timer": [
        {"enabled": 1, "start_minute": 0, "end_minute": 0, "start_hour": 22, "end_hour": 8}
    ],
    "get_clean_summary": [174145, 2410150000, 82, [1488240000, 1488153600]],
    "get_clean_record": [[1488347071, 1488347123, 16, 0, 0, 0]],
}
MIIO_INFO = {"model": "zhimi.humidifier.ca1", "fw_ver": "1.6.6", "hw_ver": "MW300", "token": TOKEN}
FLEET: dict[str, tuple[str, dict[str, Any]]] = {
    "roborock.vacuum.s5": ("RoborockVacuum", ROBOROCK),
    "dreame.vacuum.mc1808": ("DreameVacuum", {"props": {
        "battery_level": 42, "charging_state": 1, "device_fault": 0, "device_status": 3,
        "brush_left_time": 235, "brush_life_level": 85, "filter_life_level": 66,
        "filter_left_time": 154, "brush_left_time2": 187, "brush_life_level2": 57,
        "operating_mode": 2, "cleaning_mode": 2, "delete_timer": 12, "life_sieve": "9000-9000",
        "life_brush_side": "12000-12000", "life_brush_main": "18000-18000",
        "timer_enable": "true", "start_time": "22:00", "stop_time": "8:00", "map_view": "tmp",
        "frame_info": 3, "volume": 4, "voice_package": "DE", "timezone": "Europe/London",
        "cleaning_time": 10, "cleaning_area": 20, "first_clean_time": 1640854830,
        "total_clean_time": 1000, "total_clean_times": 15, "total_clean_area": 500}}),
    "zhimi.airpurifier.v6": ("AirPurifier", {"props": {
        "power": "on", "aqi": 10, "average_aqi": 8, "humidity": 62, "temp_dec": 186,
        "mode": "auto", "favorite_level": 10, "filter1_life": 80, "f1_hour_used": 682,
        "use_time": 2457000, "motor1_speed": 354, "motor2_speed": 800, "purify_volume": 25262,
        "f1_hour": 3500, "led": "off", "led_b": 2, "bright": 83, "buzzer": "off",
        "child_lock": "off", "volume": 50, "rfid_product_id": "0:0:41:30",
        "rfid_tag": "10:20:30:40:50:60:7", "act_sleep": "close", "sleep_mode": "idle",
        "sleep_time": 83890, "sleep_data_num": 22, "app_extra": 1, "act_det": "off",
        "button_pressed": "power"}}),
    "zhimi.airpurifier.mb3": ("AirPurifierMiot", {"props": {
        "power": True, "aqi": 10, "average_aqi": 8, "humidity": 62, "temperature": 18.6,
        "fan_level": 2, "mode": 0, "led": True, "led_brightness": 1, "buzzer": False,
        "buzzer_volume": 0, "child_lock": False, "favorite_level": 10,
        "filter_life_remaining": 80, "filter_hours_used": 682, "use_time": 2457000,
        "purify_volume": 25262, "motor_speed": 354, "filter_rfid_product_id": "0:0:41:30",
        "filter_rfid_tag": "10:20:30:40:50:60:7", "button_pressed": "power"}}),
    "zhimi.fan.za4": ("Fan", {"props": {
        "angle": 120, "speed": 277, "poweroff_time": 0, "power": "on", "ac_power": "on",
        "angle_enable": "off", "speed_level": 1, "natural_level": 2, "child_lock": "off",
        "buzzer": 0, "led_b": 0, "use_time": 2318}}),
    "dmaker.fan.p5": ("FanP5", {"props": {
        "power": True, "mode": "normal", "speed": 35, "roll_enable": False, "roll_angle": 140,
        "time_off": 0, "light": True, "beep_sound": False, "child_lock": False}}),
    "dmaker.fan.p9": ("FanMiot", {"props": {
        "power": True, "mode": 0, "fan_speed": 35, "swing_mode": False, "swing_mode_angle": 30,
        "power_off_time": 0, "light": True, "buzzer": False, "child_lock": False}}),
    "zhimi.humidifier.ca1": ("AirHumidifier", {"miIO.info": MIIO_INFO, "props": {
        "power": "on", "mode": "medium", "temp_dec": 294, "humidity": 33, "buzzer": "off",
        "led_b": 2, "child_lock": "on", "limit_hum": 40, "use_time": 941100, "speed": 100,
        "depth": 60, "dry": "off"}}),
    "zhimi.humidifier.ca4": ("AirHumidifierMiot", {"props": {
        "power": True, "fault": 0, "mode": 0, "target_humidity": 60, "water_level": 32,
        "dry": True, "use_time": 2426773, "button_pressed": 1, "speed_level": 810,
        "temperature": 21.6, "fahrenheit": 70.9, "humidity": 62, "buzzer": False,
        "led_brightness": 1, "child_lock": False, "motor_speed": 354, "actual_speed": 820,
        "power_time": 4272468, "clean_mode": False}}),
    # yeelight.py documents these replies: a colour bulb, and a white ceiling light
    "yeelink.light.color1": ("Yeelight", {"props": {
        "name": "", "lan_ctrl": "1", "save_state": "1", "delayoff": "0", "music_on": "0",
        "power": "on", "bright": "100", "color_mode": "1", "rgb": "2353663", "hue": "186",
        "sat": "86", "ct": "6500", "flowing": "0",
        "flow_params": "0,0,1000,1,16711680,100,1000,1,65280,100,1000,1,255,100",
        "active_mode": "", "nl_br": "", "bg_power": "", "bg_bright": "", "bg_lmode": "",
        "bg_rgb": "", "bg_hue": "", "bg_sat": "", "bg_ct": "", "bg_flowing": "",
        "bg_flow_params": ""}}),
    "yeelink.light.ceiling1": ("Yeelight", {"props": {
        "name": "", "lan_ctrl": "1", "save_state": "1", "delayoff": "0", "music_on": "",
        "power": "off", "bright": "100", "color_mode": "2", "rgb": "", "hue": "", "sat": "",
        "ct": "5200", "flowing": "0", "flow_params": "", "active_mode": "0", "nl_br": "0",
        "bg_power": "", "bg_bright": "", "bg_lmode": "", "bg_rgb": "", "bg_hue": "",
        "bg_sat": "", "bg_ct": "", "bg_flowing": "", "bg_flow_params": ""}}),
    "chuangmi.plug.v3": ("ChuangmiPlug", {"get_power": [300], "props": {
        "on": True, "usb_on": True, "temperature": 32, "wifi_led": "off"}}),
    "qmi.powerstrip.v1": ("PowerStrip", {"props": {
        "power": "on", "mode": "normal", "temperature": 32.5, "current": 25.5,
        "power_consume_rate": 12.5, "voltage": 23057, "power_factor": 12, "elec_leakage": 8}}),
    "zhimi.heater.za1": ("Heater", {"props": {
        "target_temperature": 24, "temperature": 22.1, "relative_humidity": 46,
        "poweroff_time": 0, "power": "on", "child_lock": "off", "buzzer": "on",
        "brightness": 1, "use_time": 0}}),
    "zhimi.heater.mc2": ("HeaterMiot", {"props": {
        "power": True, "temperature": 21.6, "target_temperature": 23, "buzzer": False,
        "led_brightness": 1, "child_lock": False, "countdown_time": 0}}),
    "cgllc.airmonitor.s1": ("AirQualityMonitor", {"miIO.info": {
        "model": "cgllc.airmonitor.s1", "fw_ver": "3.1.8_9999"}, "get_prop": {
        "battery": 100, "co2": 695, "humidity": 62.1, "pm25": 19.4, "temperature": 27.4,
        "tvoc": 254}}),
}  # fmt: skip

EXPECTED = {
    "roborock.vacuum.s5": {"do-not-disturb", "scheduled-cleaning", "spot-cleaning", "find-robot",
                           "suction-power", "consumables", "zoned-cleaning", "room-cleaning",
                           "cleaning-history", "map", "volume", "remote-control", "water-box",
                           "battery-level", "return-to-dock"},
    "dreame.vacuum.mc1808": {"do-not-disturb", "find-robot", "suction-power", "consumables",
                             "cleaning-history", "volume", "voice-pack", "remote-control", "map"},
    "zhimi.airpurifier.v6": {"child-lock", "buzzer", "indicator-light", "favorite-level",
                             "sleep-mode", "auto-mode", "filter-life", "pm25-reading",
                             "learn-mode", "turbo", "auto-detect", "buzzer-volume"},
    "zhimi.airpurifier.mb3": {"child-lock", "buzzer", "indicator-light", "favorite-level",
                              "sleep-mode", "auto-mode", "filter-life", "pm25-reading",
                              "manual-fan-level", "temperature-reading", "humidity-reading"},
    "zhimi.fan.za4": {"child-lock", "buzzer", "indicator-light", "off-timer", "oscillation",
                      "oscillation-angle", "natural-wind", "speed-level"},
    "dmaker.fan.p5": {"child-lock", "buzzer", "indicator-light", "off-timer", "oscillation",
                      "oscillation-angle", "natural-wind", "speed-level"},
    "dmaker.fan.p9": {"child-lock", "buzzer", "indicator-light", "off-timer", "oscillation",
                      "oscillation-angle", "natural-wind", "speed-level", "sleep-mode"},
    "zhimi.humidifier.ca1": {"child-lock", "buzzer", "indicator-light", "target-humidity",
                             "dry-mode", "water-level", "temperature-reading", "auto-mode"},
    "zhimi.humidifier.ca4": {"child-lock", "buzzer", "indicator-light", "target-humidity",
                             "dry-mode", "water-level", "clean-mode", "auto-mode"},
    "yeelink.light.color1": {"brightness", "color-temperature", "rgb-color", "color-flow",
                             "off-timer", "power-on-state", "power-on-default", "scenes"},
    "yeelink.light.ceiling1": {"brightness", "color-temperature", "night-light", "off-timer",
                               "power-on-state"},
    "chuangmi.plug.v3": {"usb-power", "wifi-led", "power-usage", "temperature-reading"},
    "qmi.powerstrip.v1": {"power-usage", "eco-mode", "leakage-current", "temperature-reading"},
    "zhimi.heater.za1": {"child-lock", "buzzer", "indicator-light", "off-timer",
                         "target-temperature", "temperature-reading", "humidity-reading"},
    "zhimi.heater.mc2": {"child-lock", "buzzer", "indicator-light", "off-timer",
                         "target-temperature"},
    "cgllc.airmonitor.s1": {"pm25-reading", "co2-reading", "tvoc-reading", "battery-level",
                            "temperature-reading", "humidity-reading"},
}  # fmt: skip

ABSENT = {
    "roborock.vacuum.s5": {"mop-intensity", "auto-empty", "mop-drying", "child-lock"},
    "dreame.vacuum.mc1808": {"mop-intensity", "scheduled-cleaning"},
    "yeelink.light.ceiling1": {"rgb-color"},
    "yeelink.light.color1": {"night-light"},
    "qmi.powerstrip.v1": {"power-price", "wifi-led"},
    "zhimi.fan.za4": {"sleep-mode", "battery-level"},
    "zhimi.airpurifier.v6": {"manual-fan-level", "anion"},
}

UNMAPPED = {
    "zhimi.fan.za4": ["FanStatus.ac_power", "FanStatus.speed"],
    "zhimi.humidifier.ca1": ["AirHumidifierStatus.motor_speed", "AirHumidifierStatus.use_time"],
    "yeelink.light.color1": ["YeelightStatus.color_mode"],  # its name is "", so unreported
    "zhimi.airpurifier.v6": [],  # a class without descriptors has nothing unmapped
}


class FakeProtocol:
    """Answers a python-miio device from a payload table, like python-miio's DummyDevice."""

    def __init__(self, replies: dict[str, Any]) -> None:
        self.replies = replies

    def send(self, command: str, parameters: Any = None, *args: Any, **kwargs: Any) -> Any:
        from miio import DeviceError

        props = self.replies.get("props", {})
        if command == "get_prop" and "get_prop" not in self.replies:
            return [props.get(name) for name in parameters]
        if command == "get_properties":
            return [
                {**p, "code": 0, "value": props[p["did"]]} for p in parameters if p["did"] in props
            ]
        if command == "set_properties":  # AirPurifierMiot.status() on a mb3 writes one
            return [{**p, "code": 0} for p in parameters]
        if command in self.replies:  # a copy: python-miio pops from replies it keeps
            return copy.deepcopy(self.replies[command])
        raise DeviceError({"code": -32601, "message": "Method not found."})


def device_class(name: str) -> type:
    import miio

    return getattr(miio, name)  # type: ignore[no-any-return]


def live_status(model: str) -> Any:
    """Return the status the device class builds from its model's payload."""
    cls_name, replies = FLEET[model]
    source = device_class(cls_name)("127.0.0.1", TOKEN, model=model)
    source._protocol = FakeProtocol(replies)
    return source.status()


@pytest.fixture
def no_device_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail on any miIO packet or MIoT cloud request made while mapping capabilities."""
    from miio.miioprotocol import MiIOProtocol
    from miio.miot_cloud import MiotCloud

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("capability mapping must not talk to the device or the cloud")

    for name in ("send", "send_handshake"):
        monkeypatch.setattr(MiIOProtocol, name, refuse)
    for name in ("get_device_model", "get_model_schema", "get_release_list"):
        monkeypatch.setattr(MiotCloud, name, refuse)
    yield


@pytest.fixture
def keep_yeelight_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restore the device python-miio binds Yeelight's class-level descriptors to."""
    import inspect

    from miio import Yeelight
    from miio.integrations.yeelight.light.yeelight import YeelightStatus

    descriptors = list(vars(YeelightStatus)["_descriptors"].values())
    descriptors += [
        m._descriptor for _, m in inspect.getmembers_static(Yeelight) if hasattr(m, "_descriptor")
    ]
    for desc in descriptors:
        for attr in ("setter", "method"):
            if hasattr(desc, attr):
                monkeypatch.setattr(desc, attr, getattr(desc, attr))


@pytest.fixture
def report_for() -> Callable[[str], CapabilityReport]:
    def build(model: str) -> CapabilityReport:
        status = live_status(model)
        device = device_class(FLEET[model][0])("127.0.0.1", TOKEN, model=model)
        return extract(device, status, family=Vocabulary.load().family_for_model(model))

    return build
