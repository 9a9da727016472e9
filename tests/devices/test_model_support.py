"""Every python-miio class has a family, and the vocabulary's parts are checked against the classes."""

from __future__ import annotations

import inspect
from collections import defaultdict
from pathlib import Path

import pytest

from devices.model_support import class_capabilities, class_support, supported_models
from devices.vocabulary import Vocabulary, VocabularyError
from devices.vocabulary_parts import parts_folder
from lessons.vocabulary import load_vocabulary

FIRST_FAMILIES = 8  # the families of vocabulary.yaml itself; the rest come from its parts
# Classes whose family predates this check and whose lights offer fewer than three features.


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def test_every_python_miio_model_has_a_family_and_three_capabilities(
    vocabulary: Vocabulary,
) -> None:
    models = supported_models()
    assert len(models) >= 250 and "*" not in models
    for model, cls in models.items():
        support = class_support(model, cls, vocabulary)
        assert support.family is not None, model
        assert len(support.capabilities) >= 3, (model, support.capabilities)


def test_each_new_capability_is_offered_by_a_class_of_its_family(
    vocabulary: Vocabulary,
) -> None:
    classes: dict[str, set[type]] = defaultdict(set)
    for model, cls in supported_models().items():
        family = vocabulary.family_for_model(model)
        assert family is not None
        classes[family].add(cls)
    for family in vocabulary.families[FIRST_FAMILIES:]:
        offered = {
            cap for cls in classes[family] for cap in class_capabilities(cls, family, vocabulary)
        }
        assert offered == {cap.id for cap in vocabulary.for_family(family)}, family
        for cap in vocabulary.for_family(family):
            if cap.match.methods:
                # every method a rule names is a real method of one of the family's classes
                for method in cap.match.methods:
                    assert any(
                        callable(inspect.getattr_static(cls, method, None))
                        for cls in classes[family]
                    ), (cap.id, method)


def test_models_of_new_families_resolve_by_pattern(vocabulary: Vocabulary) -> None:
    expected = {
        "chunmi.cooker.normal2": "cooker",
        "chuangmi.ir.v2": "ir-remote",
        "xiaomi.wifispeaker.l05g": "ir-remote",  # python-miio drives its IR blaster
        "xiaomi.wifispeaker.v2": "wifi-speaker",
        "lumi.acpartner.mcn02": "air-conditioner",
        "zhimi.elecheater.ma1": "heater",
        "yeelink.bhf_light.v2": "light",
        "yeelink.switch.sw1": "relay",
    }
    assert {m: vocabulary.family_for_model(m) for m in expected} == expected
    assert vocabulary.family_for_device_type("dehumidifier") == "dehumidifier"


def test_the_lesson_reader_sees_the_parts_too(vocabulary: Vocabulary) -> None:
    assert set(load_vocabulary()) == set(vocabulary.ids())


def test_a_part_cannot_declare_a_family_twice(tmp_path: Path) -> None:
    main = tmp_path / "vocabulary.yaml"
    main.write_text("version: 1\nfamilies: [fan]\ncapabilities: []\n")
    parts_folder(main).mkdir()
    (parts_folder(main) / "again.yaml").write_text("families: [fan]\n")
    with pytest.raises(VocabularyError, match=r"again\.yaml: 'families' must name new families"):
        Vocabulary.load(main)


def test_a_broken_entry_in_a_part_is_reported_with_the_parts_name(tmp_path: Path) -> None:
    main = tmp_path / "vocabulary.yaml"
    main.write_text("version: 1\nfamilies: [fan]\ncapabilities: []\n")
    parts_folder(main).mkdir()
    (parts_folder(main) / "kettle.yaml").write_text(
        "families: [kettle]\ncapabilities:\n  - {id: keep-hot, title: Keep hot, families: [kettle],"
        " kind: sometimes, summary: x, actionable: true, match: {methods: [keep]}}\n"
    )
    with pytest.raises(VocabularyError, match=r"^kettle\.yaml: entry 'keep-hot': kind must be"):
        Vocabulary.load(main)
