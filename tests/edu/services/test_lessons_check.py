"""Every lesson's try-it, proven: offline on every python-miio model, live on the demo household."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from miio import DeviceFactory
from test_python_miio_simulators import (  # noqa: F401  (foreign is a fixture)
    INTEGRATIONS,
    foreign,
    miio_simulator,
    miot_simulator,
    settle,
)

from devices.fleet import Fleet
from devices.fleet_sim import DATA
from devices.offline import contract_for, examine, no_network
from devices.trycontract import decide
from devices.vocabulary import Vocabulary
from edu.catalogue import catalogue
from edu.cli import main
from edu.services.lessoncheck import check_pairs, examine_all

VOCABULARY = Vocabulary.load()


def _contract(model: str, lesson_id: str, setting: tuple[str, Any] | None = None) -> Any:
    """The contract of a lesson's try-it on *model*; *setting* (capability, value) stands in
    for a try-it the lesson no longer carries."""
    lesson = catalogue().get(lesson_id)
    assert lesson is not None and (lesson.try_it is not None or setting is not None)
    with no_network():
        view = examine(model, DeviceFactory.class_for_model(model), VOCABULARY)
    assert view.target is not None, view.error
    if setting is not None:
        wanted, value, action = setting[0], setting[1], None
    else:
        assert lesson.try_it is not None
        wanted, value, action = lesson.try_it.setting, lesson.try_it.value, lesson.try_it.action
    contract, failure = contract_for(
        VOCABULARY, wanted, value, view.target, action=action, device=view.device
    )
    assert failure == ""
    return contract


def test_static_check_covers_every_python_miio_model_with_no_failing_pair(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDU_INSTANCE", str(tmp_path / "instance"))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["lessons", "check", "--json"])
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output[-2000:]
    rows = json.loads(result.stdout)
    assert set(rows[0]) == {"lesson", "model", "class", "offered", "ok", "value", "reason"}
    assert not [r for r in rows if r["offered"] and not r["ok"]]
    summary = result.stderr.strip().splitlines()[-1]
    assert int(summary.split()[0]) >= 250, summary
    assert len({r["model"] for r in rows}) >= 180  # family-less models get no family lessons
    assert sum(r["offered"] for r in rows) >= 800
    print(f"lessons check: {summary}; {took:.1f} s with the CLI")  # the time asked for


def test_power_goes_through_on_and_off_on_the_classes_whose_on_takes_no_value() -> None:
    for model, lesson in [
        ("zhimi.airpurifier.v6", "air-purifier-remote-power"),
        ("zhimi.airpurifier.mb3", "air-purifier-remote-power"),
        ("dmaker.fan.p5", "fan-remote-power"),
        ("dmaker.fan.p9", "fan-remote-power"),
        ("zhimi.humidifier.ca1", "humidifier-remote-power"),
        ("zhimi.humidifier.ca4", "humidifier-remote-power"),
    ]:
        contract = _contract(model, lesson)
        assert (contract.offered, contract.via, contract.writer) == (True, "switch", "on"), model
        assert contract.key == "is_on" and contract.value is True


def test_values_are_in_each_models_own_terms() -> None:
    ca4 = _contract("zhimi.humidifier.ca4", "humidifier-mist-level")
    assert (ca4.offered, ca4.value) == (True, "Mid")  # Auto/Low/Mid/High: no "Medium"
    ca1 = _contract("zhimi.humidifier.ca1", "humidifier-mist-level")
    assert (ca1.offered, ca1.value) == (True, "Medium")
    v6 = _contract("zhimi.airpurifier.v6", "air-purifier-sleep-mode")
    assert (v6.offered, v6.value) == (True, "Silent")
    leshow = _contract("leshow.fan.ss4", "fan-sleep-mode")
    assert (leshow.offered, leshow.value) == (True, "Sleep")  # no Silent: its quietest mode


def test_what_python_miio_refuses_or_cannot_undo_is_not_offered() -> None:
    # FanMiot declares a Sleep mode but set_mode maps it through OperationModeMiot, which has
    # none: python-miio raises KeyError for it on the p9, so the button is not offered
    p9 = _contract("dmaker.fan.p9", "fan-sleep-mode")
    assert not p9.offered and "KeyError" in p9.reason
    # the lesson offers no try-it for it (the catalogue agrees with the contract)
    assert catalogue().get("vacuum-carpet-boost").try_it is None  # type: ignore[union-attr]
    carpet = _contract("roborock.vacuum.s5", "vacuum-carpet-boost", ("carpet-boost", True))
    assert not carpet.offered and "stall_time, low, high, integral" in carpet.reason
    # its status has no volume: the poll reads sound_volume() too, so it can be read back
    volume = _contract("roborock.vacuum.s5", "vacuum-volume")
    assert (volume.offered, volume.key, volume.writer) == (True, "volume", "set_sound_volume")
    dreame = _contract("dreame.vacuum.p2008", "vacuum-volume")
    assert not dreame.offered and "writes volume" in dreame.reason
    empty = _contract("roborock.vacuum.s5", "vacuum-auto-empty")
    assert not empty.offered and "UnsupportedFeature" in empty.reason


def test_a_spec_range_with_no_names_is_not_given_a_word() -> None:
    from miio.integrations.genericmiot.genericmiot import GenericMiot

    from devices.specs import SpecStore

    spec = SpecStore.offline().get("zhimi.heater.nb1")
    assert spec is not None
    with no_network():
        view = examine("zhimi.heater.nb1", GenericMiot, VOCABULARY, spec.spec)
    assert view.target is not None
    light = decide(VOCABULARY, "indicator-light", "off", view.target)
    assert not light.offered and "takes a number" in light.reason  # 0-2: which one is off?
    lock = decide(VOCABULARY, "child-lock", True, view.target)
    assert (lock.offered, lock.via, lock.writer) == (True, "descriptor", lock.key)


def test_an_offered_pair_that_fails_on_the_class_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from miio.integrations.zhimi.fan.zhimi_miot import FanZA5

    def broken(self: Any, lock: bool) -> Any:
        raise RuntimeError("the class changed under us")

    broken.__annotations__ = {"lock": bool}
    monkeypatch.setattr(FanZA5, "set_child_lock", broken)
    views = examine_all({"zhimi.fan.za5": (FanZA5, None)}, VOCABULARY)
    rows = [r for r in check_pairs(catalogue(), views, VOCABULARY) if r.lesson == "fan-child-lock"]
    assert len(rows) == 1 and rows[0].offered and not rows[0].ok
    assert "RuntimeError" in rows[0].reason


def test_the_live_target_of_a_device_follows_what_it_shows_now() -> None:
    cls = DeviceFactory.class_for_model("zhimi.airpurifier.v6")
    with no_network():
        view = examine("zhimi.airpurifier.v6", cls, VOCABULARY)
    assert view.target is not None
    base = view.target
    live = replace(base, cls=cls, keys={"mode": "Auto"}, live=True)
    assert decide(VOCABULARY, "sleep-mode", "silent", live).offered
    nothing = replace(base, cls=cls, keys={"mode": None}, live=True)
    assert not decide(VOCABULARY, "sleep-mode", "silent", nothing).offered


def test_live_check_on_the_demo_household_runs_and_restores_every_offered_try_it(
    fleet_app: Flask, fleet: Fleet
) -> None:
    from edu.services.trylive import live_check

    inventory = fleet_app.extensions["edu.inventory"]
    rows = live_check(inventory, catalogue().lessons("en"))
    failing = [r for r in rows if not r["ok"] or not r["restored"]]
    assert not failing, failing
    print(f"live check: {len(rows)} try-its run and restored")
    for row in rows:
        print(row)
    tried = {(r["model"], r["lesson"]) for r in rows}
    for model in (
        "zhimi.airpurifier.v6",
        "zhimi.airpurifier.mb3",
        "dmaker.fan.p5",
        "dmaker.fan.p9",
        "zhimi.humidifier.ca1",
        "zhimi.humidifier.ca4",
    ):
        assert any(m == model and lesson.endswith("remote-power") for m, lesson in tried), model
    assert ("zhimi.humidifier.ca4", "humidifier-mist-level") in tried
    assert ("roborock.vacuum.s5", "vacuum-volume") in tried
    assert len(rows) >= 40
    assert {"lesson", "device", "model", "ok", "before", "after", "restored", "reason"} <= set(
        rows[0]
    )


@pytest.mark.parametrize("model", ["zhimi.fan.za4", "zhimi.airpurifier.mb3", "dmaker.fan.p9"])
def test_live_check_on_python_miios_own_simulators(
    inventory: Any,
    foreign: Any,  # noqa: F811  (the imported fixture)
    model: str,
) -> None:
    from edu.services.trylive import live_check

    if model == "zhimi.fan.za4":
        attach = miio_simulator(model, INTEGRATIONS / "zhimi/fan/zhimi_fan.yaml")
    else:
        attach = miot_simulator(DATA / "specs" / f"{model}.json")
    device = foreign(model, attach)
    settle(inventory, device, [])
    rows = live_check(inventory, catalogue().lessons("en"))
    assert rows and {r["model"] for r in rows} == {model}
    failing = [r for r in rows if not r["ok"] or not r["restored"]]
    assert not failing, failing
    print(f"{model}: {len(rows)} try-its run on python-miio's simulator, all restored")


def test_lessons_try_changes_reads_back_and_waits_for_the_revert(
    fleet_app: Flask, fleet: Fleet
) -> None:
    instance = fleet_app.extensions["edu.inventory"].settings.instance
    fan = fleet.by_model("dmaker.fan.p5")
    base = ["--instance", str(instance), "lessons", "try"]
    result = CliRunner().invoke(
        main, [*base, "fan-child-lock", "--device", str(fan.did), "--revert-after", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["status"], data["before"], data["after"], data["restored"]) == (
        "changed",
        False,
        True,
        True,
    )
    assert data["now"] is False  # read from the device after the revert
    # the power try-it that raised TypeError on this fan: on() takes no value
    result = CliRunner().invoke(
        main, [*base, "fan-remote-power", "--device", str(fan.did), "--no-wait", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["after"] is True
    bad = CliRunner().invoke(main, [*base, "fan-sleep-mode", "--device", str(fan.did)])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1


def test_the_lesson_page_offers_try_it_now_only_where_the_contract_does(
    fleet_web: Any, fleet_app: Flask, fleet: Fleet
) -> None:
    p9 = fleet.by_model("dmaker.fan.p9")
    fleet_web.sign_in(fleet_app, "Mia")
    # python-miio's FanMiot cannot set the p9 to Sleep (KeyError): no button
    page = fleet_web.get(f"/lessons/fan-sleep-mode?device={p9.did}").get_data(as_text=True)
    assert "A gentle fan for the whole night" in page
    assert "/lessons/fan-sleep-mode/try" not in page
    page = fleet_web.get(f"/lessons/fan-remote-power?device={p9.did}").get_data(as_text=True)
    assert "/lessons/fan-remote-power/try" in page


def test_power_is_switched_off_and_on_again_through_off_and_on(
    fleet_app: Flask, fleet: Fleet
) -> None:
    inventory = fleet_app.extensions["edu.inventory"]
    # Yeelight's on(transition=0, mode=0) and the fans' on() take no value: off() switches off
    for model in ("yeelink.light.ceiling1", "dmaker.fan.p5", "zhimi.humidifier.ca4"):
        did = fleet.by_model(model).did
        for wanted in (False, True):
            inventory.write_setting(did, "remote-power", wanted)
            assert inventory.read(did)["is_on"] is wanted, (model, wanted)


def test_the_static_check_takes_the_specs_kept_in_the_instance(tmp_path: Any) -> None:
    specs = tmp_path / "instance" / "specs"
    specs.mkdir(parents=True)
    (specs / "acme.humidifier.x1.json").write_text(
        (DATA / "specs" / "zhimi.humidifier.ca4.json").read_text(encoding="utf-8")
    )
    args = ["--instance", str(tmp_path / "instance"), "lessons", "check", "--json"]
    result = CliRunner().invoke(main, [*args, "--model", "acme.*"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["model"], r["class"]) for r in rows} == {("acme.humidifier.x1", "GenericMiot")}
    offered = {r["lesson"]: r["value"] for r in rows if r["offered"]}
    assert offered["humidifier-child-lock"] is True
    assert offered["humidifier-mist-level"] == "Level2"  # the spec's own names: Level1-3


def test_lessons_check_live_from_the_command_line(fleet_app: Flask) -> None:
    instance = fleet_app.extensions["edu.inventory"].settings.instance
    args = ["--instance", str(instance), "lessons", "check", "--live", "--json"]
    result = CliRunner().invoke(main, [*args, "--model", "zhimi.humidifier.*"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["model"] for r in rows} == {"zhimi.humidifier.ca1", "zhimi.humidifier.ca4"}
    assert all(r["ok"] and r["restored"] for r in rows)
    assert result.stderr.strip().endswith("0 failing")
