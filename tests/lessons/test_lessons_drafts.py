"""Draft lessons: from the vocabulary summary or the device's description, never for internal
fields or for actions the model is not shown to have, "Set" for writable settings, and marked
as drafted."""

from __future__ import annotations

from typing import Any

import pytest

from lessons.drafts import draft_for_feature, draft_lesson, is_internal


def _details(name: str, kind: str = "sensor", **extra: Any) -> dict[str, Any]:
    # the shape devices.capabilities keeps for an unmapped descriptor
    details: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "unit": None,
        "type": None,
        "choices": None,
        "range": None,
        "setter": None,
        "reported": True,
        "writable": kind == "setting",
        "miot": None,
    }
    details.update(extra)
    return details


@pytest.mark.parametrize(
    "details",
    [
        _details("State code"),  # roborock.vacuum.s5
        _details("State"),
        _details("Color mode"),  # yeelink.light.ceiling1
        _details("Motor Speed", unit="RPM"),  # zhimi.fan.za4
        _details("Motor Speed", unit="rpm"),  # zhimi.humidifier.ca1
        _details("Device Fault", miot="heater:fault", choices=["No faults"]),  # zhimi.heater.nb1
        _details("Return To Middle", "setting", miot="private-service:return-to-middle"),
        _details("Error code"),
    ],
    ids=lambda d: d["name"],
)
def test_no_draft_for_internal_fields(details: dict[str, Any]) -> None:
    assert is_internal(details["name"], details)
    assert draft_for_feature("x", "vacuum", details) is None


def test_no_draft_for_an_action_python_miio_declares_for_the_whole_class() -> None:
    # RoborockVacuum declares mop washing, dust collection and mop drying for every model
    for name in ("Start mop washing", "Start dust collection", "Stop mop drying"):
        details = _details(name, "action", setter=name.lower().replace(" ", "_"))
        assert draft_for_feature("RoborockVacuum.x", "vacuum", details, model="s5") is None
    # a MIoT spec lists the model's own actions
    spec_action = _details("Start Charge", "action", miot="battery:start-charge")
    draft = draft_for_feature("battery:start-charge", "vacuum", spec_action, model="m")
    assert draft is not None and draft.title == "Run “Start Charge” from your phone"


def test_no_draft_for_a_field_the_device_does_not_report() -> None:
    assert draft_for_feature("x", "fan", _details("Humidity", reported=False)) is None


def test_a_writable_setting_is_drafted_as_set_and_says_it_is_a_draft() -> None:
    details = _details(
        "Mode", "setting", miot="heater:mode", choices=["Fan not swing", "Fan swing"]
    )
    draft = draft_for_feature("heater:mode", "heater", details, model="zhimi.heater.nb1")
    assert draft is not None
    assert draft.title == "Set “Mode” from your phone"
    assert draft.automatic and draft.models == ("zhimi.heater.nb1",)
    assert draft.body.startswith("*This is a drafted lesson")
    assert "- Choices: Fan not swing, Fan swing." in draft.body
    reading = draft_for_feature("x", "humidifier", _details("Use Time", unit="s"))
    assert reading is None  # internal bookkeeping
    dust = draft_for_feature("x", "air-monitor", _details("PM10", unit="μg/m³", range=[0, 1000]))
    assert dust is not None and dust.title == "Read “PM10” on your phone"
    assert "- Range: 0 to 1000 μg/m³." in dust.body


def test_a_mapped_capability_draft_uses_the_vocabulary_summary() -> None:
    summary = "Shows how long the current clean has run and how much floor it has covered."
    draft = draft_lesson("current-clean-stats", "vacuum", "This clean so far", summary=summary)
    assert draft.summary == summary
    assert summary in draft.body
    assert "drafted" in draft.body and "nobody has checked it on your model" in draft.body
    # a setting reached through a setter method: the caller says writable, the title says Set
    setting = draft_lesson("auto-empty", "vacuum", "Auto-empty dock", writable=True)
    assert setting.title == "Set “Auto-empty dock” from your phone"
