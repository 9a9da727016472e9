"""What a model has does not depend on its current mode, and is only what it has."""

from __future__ import annotations

import copy
from typing import Any

from capability_fixtures import FLEET, TOKEN, FakeProtocol
from miio import DeviceFactory

from devices.capabilities import extract
from devices.offline import examine, no_network
from devices.vocabulary import Vocabulary
from edu.catalogue import catalogue
from edu.services.lessoncheck import reaches

VOCABULARY = Vocabulary.load()


def _report(model: str, props: dict[str, Any]) -> Any:
    cls = DeviceFactory.class_for_model(model)
    source = cls("127.0.0.1", TOKEN, model=model)
    source._protocol = FakeProtocol({"props": props})
    status = source.status()
    device = cls("127.0.0.1", TOKEN, model=model)
    return extract(device, status, family="light", vocabulary=VOCABULARY)


def test_a_colour_bulb_in_white_mode_still_has_colour() -> None:
    colour = FLEET["yeelink.light.color1"][1]["props"]
    white = copy.deepcopy(colour)
    white.update(color_mode="2", rgb="", hue="", sat="")  # as python-miio documents white mode
    assert "rgb-color" in _report("yeelink.light.color1", colour).capabilities
    report = _report("yeelink.light.color1", white)
    assert "rgb-color" in report.capabilities and "color-flow" in report.capabilities
    assert report.methods["rgb-color"] == "set_rgb"


def test_a_white_ceiling_light_gets_no_colour_lessons() -> None:
    props = FLEET["yeelink.light.ceiling1"][1]["props"]
    report = _report("yeelink.light.ceiling1", {**props, "flowing": "1", "rgb": "255"})
    assert "rgb-color" not in report.capabilities
    assert "color-flow" not in report.capabilities  # python-miio: supports_color False
    with no_network():
        view = examine(
            "yeelink.light.ceiling1",
            DeviceFactory.class_for_model("yeelink.light.ceiling1"),
            VOCABULARY,
        )
    reached = {lesson.id for lesson in catalogue().lessons("en") if reaches(lesson, view)}
    assert "light-rgb-color" not in reached and "light-brightness" in reached


def test_the_pm10_reading_of_the_cgdn1_is_found() -> None:
    with no_network():
        view = examine(
            "cgllc.airm.cgdn1", DeviceFactory.class_for_model("cgllc.airm.cgdn1"), VOCABULARY
        )
    assert view.target is not None and "pm10-reading" in view.target.capabilities


def test_a_family_less_model_gets_no_lesson_worded_for_another_family() -> None:
    from dataclasses import replace

    model = "zhimi.fan.za4"  # a fan, seen as a model the vocabulary had no family for
    with no_network():  # (every python-miio class has one now)
        view = replace(
            examine(model, DeviceFactory.class_for_model(model), VOCABULARY), family=None
        )
    assert view.target is not None
    assert "child-lock" in view.target.capabilities  # it has one ...
    reached = [lesson.id for lesson in catalogue().lessons("en") if reaches(lesson, view)]
    assert "fan-child-lock" not in reached  # ... but is not known as a fan ("... speed")
    assert all(not catalogue().get(i).families for i in reached)  # type: ignore[union-attr]


def test_a_family_less_device_gets_lessons_worded_for_any_device_not_another_familys() -> None:
    from dataclasses import dataclass

    from edu.services.recommend import _lessons_for

    @dataclass
    class Cap:
        capability: str = "child-lock"
        mapped: bool = True
        setting: str | None = None
        action: str | None = None
        details: dict[str, Any] | None = None
        method: str | None = "set_child_lock"

    @dataclass
    class Dev:
        family: str | None
        model: str | None = "nwt.derh.wdh318efw1"

    found = _lessons_for(Cap(), Dev(None), catalogue())
    assert found and all(not lesson.families for lesson in found)
    assert "fan-child-lock" not in [lesson.id for lesson in found]
    assert "fan-child-lock" in [
        lesson.id for lesson in _lessons_for(Cap(), Dev("fan"), catalogue())
    ]


def test_the_contract_fields_of_the_vocabulary_are_validated() -> None:
    import pytest
    import yaml

    from devices.vocabulary import DEFAULT_PATH, VocabularyError

    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    power = next(c for c in data["capabilities"] if c["id"] == "remote-power")
    power["setting"]["switch"] = ["on"]
    with pytest.raises(VocabularyError, match=r"remote-power.*setting\.switch names two methods"):
        Vocabulary.from_data(data)
    power["setting"]["switch"] = ["on", "off"]
    power["setting"]["means"] = ["silent"]
    with pytest.raises(VocabularyError, match=r"setting\.means must map"):
        Vocabulary.from_data(data)
    del power["setting"]["means"]
    power["needs"] = ["not a path"]
    with pytest.raises(VocabularyError, match="needs"):
        Vocabulary.from_data(data)
    del power["needs"]
    loaded = Vocabulary.from_data(data)
    assert loaded["remote-power"].switch == ("on", "off")
    assert loaded["sleep-mode"].means["silent"][0] == "silent"
    assert loaded.harmless_params == ("transition",)
