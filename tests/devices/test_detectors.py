"""Usage detection: the rule language, status snapshots, and state and change detections."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.detectors import RuleError, compile_rule, snapshot
from devices.usage import Detection
from devices.usage import detect as detect_with
from devices.vocabulary import Vocabulary

FAN_CAPS = ["buzzer", "child-lock", "indicator-light", "natural-wind", "off-timer", "oscillation",
            "oscillation-angle", "speed-level"]  # fmt: skip
TOKEN = "0" * 32


def detect(*args: Any, **kwargs: Any) -> list[Detection]:
    """Detect with the shipped vocabulary unless the test gives its own."""
    kwargs.setdefault("vocabulary", Vocabulary.load())
    return detect_with(*args, **kwargs)


def za4_status(**changes: Any) -> Any:
    """A real FanStatusZA4 from python-miio's ZA4 test payload, with *changes* applied."""
    from miio.integrations.zhimi.fan.fan import FanStatusZA4

    data = {"angle": 120, "speed": 277, "poweroff_time": 0, "power": "on", "ac_power": "on",
            "angle_enable": "off", "speed_level": 1, "natural_level": 0, "child_lock": "off",
            "buzzer": 1, "led_b": 0, "use_time": 2318}  # fmt: skip
    return FanStatusZA4({**data, **changes})


def roborock_status(dnd: int) -> Any:
    """A VacuumStatus with its DND status embedded, as RoborockVacuum.status() builds it."""
    from miio.integrations.roborock.vacuum.vacuumcontainers import DNDStatus, VacuumStatus

    status = VacuumStatus({"state": 8, "dnd_enabled": dnd, "clean_time": 0, "map_present": 1,
                           "error_code": 0, "in_cleaning": 0, "clean_area": 0, "battery": 100,
                           "fan_power": 60, "msg_seq": 320})  # fmt: skip
    status.embed("dnd_status", DNDStatus({"enabled": dnd, "start_minute": 0, "end_minute": 0,
                                          "start_hour": 22, "end_hour": 8}))  # fmt: skip
    return status


# ---------------------------------------------------------------- the rule language


@pytest.mark.parametrize(
    ("rule", "snap", "holds"),
    [
        ({"key": "child_lock", "is": True}, {"child_lock": True}, True),
        ({"key": "child_lock", "is": True}, {"child_lock": "on"}, True),
        ({"key": "child_lock", "truthy": True}, {"child_lock": "off"}, False),
        ({"key": "child_lock", "truthy": True}, {"child_lock": "false"}, False),
        ({"key": "child_lock", "truthy": True}, {}, False),
        ({"key": "delay", "gt": 0}, {"delay": 30}, True),
        ({"key": "delay", "gt": 0}, {"delay": "30"}, True),
        ({"key": "delay", "gt": 0}, {"delay": 0}, False),
        ({"key": "delay", "gt": 0}, {"delay": True}, False),
        ({"key": "delay", "le": 5}, {"delay": 5.0}, True),
        ({"key": "mode", "in": ["sleep", "Silent"]}, {"mode": "SILENT"}, True),
        ({"key": "mode", "not_in": ["auto"]}, {"mode": "Favorite"}, True),
        ({"key": "mode", "ne": "auto"}, {"mode": "Auto"}, False),
        (
            {"keys": ["child_lock", "*:physical-controls-locked"], "is": True},
            {"physical-controls-locked:physical-controls-locked": True},
            True,
        ),
        ({"keys": ["a", "b"], "eq": 1}, {"a": 0, "b": 1}, True),
        ({"key": "timers", "truthy": True}, {"timers": []}, False),
        ({"key": "timers", "present": True}, {"timers": None}, False),
        ({"key": "timers", "present": False}, {}, True),
        ({"any": [{"key": "a", "is": 1}, {"key": "b", "is": 1}]}, {"b": 1}, True),
        ({"all": [{"key": "a", "is": 1}, {"key": "b", "is": 1}]}, {"b": 1}, False),
        ({"not": {"key": "a", "truthy": True}}, {"a": 0}, True),
        ([{"key": "a", "is": 1}, {"key": "b", "is": 1}], {"a": 1}, True),
        ({"key": "mode", "gt": 1}, {"mode": {"nested": 2}}, False),
    ],
)
def test_rule_language(rule: Any, snap: dict[str, Any], holds: bool) -> None:
    assert compile_rule(rule)(snap) is holds


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"key": "a", "greater": 1}, "unknown operator 'greater'"),
        ({"key": "a"}, "exactly one operator"),
        ({"key": "a", "gt": 1, "lt": 2}, "exactly one operator"),
        ({"key": "a", "keys": ["b"], "is": 1}, "exactly one of 'key' or 'keys'"),
        ({"keys": [], "is": 1}, "one or more snapshot keys"),
        ({"key": "a", "gt": "five"}, "bad value for 'gt'"),
        ({"key": "a", "in": "sleep"}, "bad value for 'in'"),
        ({"key": "a", "truthy": "yes"}, "bad value for 'truthy'"),
        ({"any": []}, "non-empty list"),
        ({"any": [{"key": "a", "is": 1}], "key": "b"}, "cannot be mixed"),
        ("child_lock", "must be a mapping"),
    ],
)
def test_malformed_rules_fail_when_compiled(rule: Any, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        compile_rule(rule)


# ---------------------------------------------------------------- snapshots


def test_snapshot_decodes_values_and_keeps_raw_keys_and_descriptor_ids() -> None:
    snap = snapshot(za4_status(child_lock="on", poweroff_time=1800))
    assert snap["child_lock"] is True  # the property wins over the raw "on"
    assert snap["led_b"] == 0 and snap["led_brightness"] == "Bright"
    assert snap["delay_off_countdown"] == 30  # the ZA4 counts in seconds; python-miio in minutes
    assert snap["FanStatus.child_lock"] is True
    assert "humidity" in snap and snap["humidity"] is None  # not reported by a ZA4
    assert json.loads(json.dumps(snap)) == snap


def test_snapshot_flattens_embedded_statuses_and_adds_extras() -> None:
    snap = snapshot(roborock_status(dnd=1), extra={"timers": [{"id": "1", "enabled": True}]})
    assert snap["dnd_enabled"] == 1
    assert snap["DNDStatus.enabled"] is True
    assert snap["dnd_status__enabled"] is True
    assert snap["dnd_status__start"] == "22:00:00"
    assert snap["clean_time"] == 0 and snap["VacuumStatus.clean_time"] == 0
    assert snap["timers"] == [{"id": "1", "enabled": True}]


def test_snapshot_never_raises_for_a_weird_attribute() -> None:
    from miio import DeviceStatus

    class Mode(enum.Enum):
        Sleep = 2

    class OddStatus(DeviceStatus):
        def __init__(self) -> None:
            self.data = {"raw": 1, "blob": b"\x00", "nan": float("nan")}

        @property
        def broken(self) -> int:
            raise KeyError("missing")

        @property
        def thing(self) -> object:
            return object()

        @property
        def mode(self) -> Mode:
            return Mode.Sleep

        @property
        def when(self) -> dt.datetime:
            return dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)

        @property
        def left(self) -> dt.timedelta:
            return dt.timedelta(minutes=90)

    snap = snapshot(OddStatus())
    assert snap == {"raw": 1, "mode": "Sleep", "when": "2024-05-01T08:30:00+00:00", "left": 5400}
    assert snapshot(None) == {}


def test_snapshot_of_a_generic_miot_status_names_enum_choices(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pathlib import Path

    from miio.integrations.genericmiot.genericmiot import GenericMiot
    from miio.integrations.genericmiot.status import GenericMiotStatus
    from miio.miot_models import DeviceModel

    spec = json.loads((Path(__file__).parent / "data/capabilities/miot_fan_spec.json").read_text())
    secret = "5ec2e7" * 5 + "ab"
    device = GenericMiot("127.0.0.1", secret, model="coach.fan.spec1")
    device._miot_model = DeviceModel.parse_obj(spec)
    device._create_descriptors()
    reply = [
        {"did": "fan:mode", "siid": 2, "piid": 4, "code": 0, "value": 2},
        {"did": "physical-controls-locked:physical-controls-locked", "siid": 3, "piid": 1,
         "code": 0, "value": True},
        {"did": "fan:off-delay-time", "siid": 2, "piid": 7, "code": -4001, "value": 0},
    ]  # fmt: skip
    with caplog.at_level("DEBUG"):
        snap = snapshot(GenericMiotStatus(reply, device))
    assert secret not in caplog.text  # a python-miio Device repr shows its token
    assert snap == {"fan:mode": "Sleep", "physical-controls-locked:physical-controls-locked": True}
    found = detect(snap, None, capabilities=["child-lock", "sleep-mode", "off-timer"])
    assert found == [Detection("child-lock", "state"), Detection("sleep-mode", "state")]


# ---------------------------------------------------------------- detection


def test_child_lock_on_is_detected_as_in_use() -> None:
    found = detect(snapshot(za4_status(child_lock="on")), None, capabilities=FAN_CAPS)
    assert Detection("child-lock", "state") in found
    assert Detection("off-timer", "state") not in found


def test_an_off_timer_counting_down_is_in_use() -> None:
    snap = snapshot(za4_status(poweroff_time=600))
    assert Detection("off-timer", "state") in detect(snap, None, capabilities=FAN_CAPS)
    later = snapshot(za4_status(poweroff_time=540))
    # a running timer changes between polls by itself: still "state", never "change"
    assert Detection("off-timer", "change") not in detect(later, snap, capabilities=FAN_CAPS)


def test_roborock_dnd_and_a_cleaning_schedule_are_in_use() -> None:
    caps = ["do-not-disturb", "scheduled-cleaning", "spot-cleaning", "suction-power"]
    timers = [{"id": "1488240000", "enabled": True, "cron": "0 9 * * 1"}]
    snap = snapshot(roborock_status(dnd=1), extra={"timers": timers})
    assert detect(snap, None, capabilities=caps) == [
        Detection("do-not-disturb", "state"),
        Detection("scheduled-cleaning", "state"),
    ]
    quiet = snapshot(roborock_status(dnd=0), extra={"timers": []})
    assert detect(quiet, None, capabilities=caps) == []


def test_a_setting_changed_between_polls_by_someone_else_is_a_change() -> None:
    before = snapshot(za4_status(angle=120))
    after = snapshot(za4_status(angle=60))
    settings = {"oscillation-angle": "FanStatus.angle"}
    found = detect(after, before, capabilities=FAN_CAPS, settings=settings)
    assert Detection("oscillation-angle", "change") in found


@pytest.mark.parametrize("written", ["FanStatus.angle", "oscillation-angle", "angle", "set_angle"])
def test_a_change_feature_coach_made_itself_is_not_counted(written: str) -> None:
    before = snapshot(za4_status(angle=120))
    after = snapshot(za4_status(angle=60))
    settings = {"oscillation-angle": "FanStatus.angle"}
    found = detect(after, before, capabilities=FAN_CAPS, settings=settings, own_writes=[written])
    assert Detection("oscillation-angle", "change") not in found


def test_a_change_to_a_lock_is_both_state_and_change() -> None:
    before = snapshot(za4_status(child_lock="off"))
    after = snapshot(za4_status(child_lock="on"))
    found = detect(after, before, capabilities=FAN_CAPS)
    assert found == sorted(found)
    assert {Detection("child-lock", "state"), Detection("child-lock", "change")} <= set(found)


def test_identical_snapshots_give_nothing_new() -> None:
    snap = snapshot(za4_status(child_lock="on", angle=90))
    vocab = Vocabulary.load()
    caps = [c.id for c in vocab.for_family("fan")]
    settings = {"oscillation-angle": "FanStatus.angle", "child-lock": "FanStatus.child_lock"}
    again = detect(snap, dict(snap), capabilities=caps, settings=settings)
    assert again == detect(snap, None, capabilities=caps)
    assert all(d.how == "state" for d in again)
    idle = snapshot(za4_status(buzzer=1))  # nothing set: no rule holds, nothing changed
    assert detect(idle, dict(idle), capabilities=caps, settings=settings) == []


def test_detect_is_sorted_deduplicated_and_ignores_unknown_ids() -> None:
    snap = snapshot(za4_status(child_lock="on", buzzer=0))
    found = detect(snap, None, capabilities=["child-lock", "buzzer", "child-lock", "no-such"])
    assert found == [Detection("buzzer", "state"), Detection("child-lock", "state")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
KEYS = ["child_lock", "mode", "timers", "poweroff_time", "dnd_enabled", "led", "angle",
        "fan:mode", "alarm:alarm", "brightness", "DNDStatus.enabled"]  # fmt: skip


@given(
    now=st.dictionaries(st.sampled_from(KEYS), json_values),
    before=st.none() | st.dictionaries(st.sampled_from(KEYS), json_values),
)
def test_detect_never_raises_on_any_json_snapshot(
    now: dict[str, Any], before: dict[str, Any] | None
) -> None:
    vocab = Vocabulary.load()
    found = detect(now, before, capabilities=vocab.ids(), vocabulary=vocab)
    assert found == sorted(set(found))
