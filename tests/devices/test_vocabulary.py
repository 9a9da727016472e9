"""The capability vocabulary loads, is complete, names real python-miio things, fails loudly."""

from __future__ import annotations

import re
from collections import Counter
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from devices.vocabulary import DEFAULT_PATH, Vocabulary, VocabularyError

BROKEN = Path(__file__).parent / "data" / "vocabulary_broken"
FAMILIES = {"vacuum", "air-purifier", "fan", "humidifier", "light", "plug", "heater", "air-monitor"}
REQUIRED = {
    "child-lock": {"fan", "air-purifier", "humidifier", "heater"},
    "buzzer": {"fan", "air-purifier", "humidifier", "heater"},
    "indicator-light": {"fan", "air-purifier", "humidifier", "heater"},
    "off-timer": {"fan", "heater", "light"},
    "oscillation": {"fan"},
    "oscillation-angle": {"fan"},
    "natural-wind": {"fan"},
    "favorite-level": {"air-purifier"},
    "sleep-mode": {"air-purifier"},
    "auto-mode": {"air-purifier"},
    "filter-life": {"air-purifier"},
    "target-humidity": {"humidifier"},
    "do-not-disturb": {"vacuum"},
    "scheduled-cleaning": {"vacuum"},
    "spot-cleaning": {"vacuum"},
    "find-robot": {"vacuum"},
    "suction-power": {"vacuum"},
    "mop-intensity": {"vacuum"},
    "consumables": {"vacuum"},
    "brightness": {"light"},
    "color-temperature": {"light"},
    "rgb-color": {"light"},
    "night-light": {"light"},
    "power-usage": {"plug"},
    "power-on-state": {"light"},
}
# Capabilities only MIoT spec devices reveal; the type was read in published specs.
MIOT_ONLY = {"heat-level": "heater:heat-level (zhimi.heater.na1, zhimi.heater.nb1)"}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.load()


def test_shipped_vocabulary_has_at_least_60_ids_over_the_eight_families_and_its_parts(
    vocab: Vocabulary,
) -> None:
    assert len(vocab) >= 60
    assert set(vocab.families[:8]) == FAMILIES  # vocabulary.yaml's; its parts add the rest
    per_family = Counter(f for cap in vocab for f in cap.families)
    assert set(per_family) == set(vocab.families)
    assert min(per_family[f] for f in FAMILIES) >= 5


@pytest.mark.parametrize("cap_id", sorted(REQUIRED))
def test_required_capability_is_defined_for_its_families(vocab: Vocabulary, cap_id: str) -> None:
    assert cap_id in vocab
    assert REQUIRED[cap_id] <= set(vocab[cap_id].families)


def test_every_entry_reads_well_and_says_how_it_is_found(vocab: Vocabulary) -> None:
    for cap in vocab:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cap.id)
        assert cap.title and len(cap.title) <= 40, cap.id
        assert cap.summary.endswith("."), cap.id
        match = cap.match
        assert match.descriptors or match.status or match.methods or match.miot, cap.id
        if cap.kind == "sensor":
            assert not cap.detect_changes, cap.id


def test_sensors_people_cannot_act_on_are_marked_so(vocab: Vocabulary) -> None:
    for cap_id in ("pm25-reading", "co2-reading", "temperature-reading", "power-usage"):
        assert vocab[cap_id].kind == "sensor" and vocab[cap_id].actionable is False
    assert vocab["child-lock"].actionable is True


def _miio_source() -> str:
    import miio

    root = Path(miio.__file__).parent
    return "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))


def _miio_descriptor_ids() -> set[str]:
    """Every descriptor id python-miio declares, read from classes (no device I/O)."""
    import inspect

    import miio
    from miio.devicestatus import DeviceStatus

    def subclasses(cls: type) -> set[type]:
        found: set[type] = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found)) if found else found

    ids = set()
    for status_cls in subclasses(DeviceStatus):
        ids |= {str(d.id) for d in (vars(status_cls).get("_descriptors") or {}).values()}
    for dev_cls in subclasses(miio.Device):
        for _name, member in inspect.getmembers_static(dev_cls):
            if hasattr(member, "_descriptor"):
                ids.add(str(member._descriptor.id))
    return ids


def test_vocabulary_names_only_real_python_miio_descriptors_keys_and_methods(
    vocab: Vocabulary,
) -> None:
    import miio

    source = _miio_source()
    descriptor_ids = _miio_descriptor_ids()
    device_classes = [getattr(miio, n) for n in dir(miio) if isinstance(getattr(miio, n), type)]
    for cap in vocab:
        real = 0
        for pattern in cap.match.descriptors:
            assert any(fnmatchcase(i, pattern) for i in descriptor_ids), (cap.id, pattern)
            real += 1
        for rule in cap.match.status:
            assert re.search(rf"""["']{rule.name}["']|def {rule.name}\b""", source), (cap.id, rule)
            real += 1
        for method in (*cap.match.methods, *cap.setting_methods):
            assert any(callable(getattr(c, method, None)) for c in device_classes), (cap.id, method)
            real += 1
        assert real or cap.id in MIOT_ONLY, cap.id


def test_detect_and_change_keys_are_compiled_at_load_time(vocab: Vocabulary) -> None:
    lock, schedule = vocab["child-lock"].detect, vocab["scheduled-cleaning"].detect
    assert lock is not None and schedule is not None
    assert lock({"child_lock": True})
    assert not lock({"child_lock": "off"})
    assert "child_lock" in vocab["child-lock"].change_keys
    assert vocab["off-timer"].detect_changes is False
    assert schedule({"timers": [{"id": "1"}]})


def test_every_action_says_what_brings_the_device_back_after_a_store_demo(
    vocab: Vocabulary,
) -> None:
    actions = [cap for cap in vocab if cap.kind == "action"]
    assert actions and all(cap.undo is not None for cap in actions)
    assert all(cap.undo is None for cap in vocab if cap.kind != "action")
    for cap in actions:
        assert cap.undo is not None
        if cap.undo.how == "run":
            assert cap.undo.run is not None and cap.undo.at_rest is not None, cap.id
            assert set(cap.families) <= set(vocab[cap.undo.run].families), cap.id
    spot = vocab["spot-cleaning"].undo
    assert spot is not None and (spot.how, spot.run) == ("run", "return-to-dock")
    assert spot.at_rest is not None
    assert spot.at_rest({"state": "Returning home"}) and spot.at_rest(
        {"device_status": "GoCharging"}
    )
    assert not spot.at_rest({"state": "Spot cleaning"})
    assert not spot.at_rest({}), "a device that reports no state is not confirmed at rest"
    assert {vocab[c].undo.how for c in ("find-robot", "return-to-dock")} == {"none"}  # type: ignore[union-attr]
    assert vocab["power-on-default"].undo.how == "irreversible"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("roborock.vacuum.s5", "vacuum"),
        ("dreame.vacuum.mc1808", "vacuum"),
        ("zhimi.airpurifier.mb3", "air-purifier"),
        ("zhimi.airp.va2", "air-purifier"),
        ("zhimi.fan.za4", "fan"),
        ("dmaker.fan.p9", "fan"),
        ("zhimi.humidifier.ca4", "humidifier"),
        ("yeelink.light.ceiling1", "light"),
        ("philips.light.bulb", "light"),
        ("chuangmi.plug.v3", "plug"),
        ("qmi.powerstrip.v1", "plug"),
        ("zhimi.heater.mc2", "heater"),
        ("cgllc.airmonitor.s1", "air-monitor"),
        ("Zhimi.Fan.ZA4", "fan"),
        ("acme.toaster.t1", None),
        ("", None),
        (None, None),
    ],
)
def test_family_for_model_comes_from_the_pattern_table(
    vocab: Vocabulary, model: str | None, family: str | None
) -> None:
    assert vocab.family_for_model(model) == family


def test_family_for_miot_device_type(vocab: Vocabulary) -> None:
    assert vocab.family_for_device_type("outlet") == "plug"
    assert vocab.family_for_device_type("air-purifier") == "air-purifier"
    assert vocab.family_for_device_type("washer") is None


def test_lookup_helpers_are_sorted_and_cached(vocab: Vocabulary) -> None:
    assert Vocabulary.load() is vocab
    assert Vocabulary.load(DEFAULT_PATH) is vocab
    assert vocab.ids() == sorted(vocab.ids())
    fan = [c.id for c in vocab.for_family("fan")]
    assert fan == sorted(fan) and "oscillation" in fan and "suction-power" not in fan
    assert "no-such-feature" not in vocab
    with pytest.raises(KeyError):
        vocab["no-such-feature"]


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_vocabulary_gives_a_one_line_error_naming_file_and_entry(path: Path) -> None:
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(VocabularyError) as caught:
        Vocabulary.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path.name}: ")
    assert expected in message


def test_missing_vocabulary_file_is_a_vocabulary_error(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match=r"^nothing\.yaml: cannot read"):
        Vocabulary.load(tmp_path / "nothing.yaml")
