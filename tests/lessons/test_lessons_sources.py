"""Lesson sources and model narrowing: the schema, lint against the known models, and the CLI's
wiring of python-miio's model list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from devices.miio_index import known_models, miio_index, miio_member_exists
from edu.cli import main as edu_main
from lessons.catalogue import SHIPPED_ROOT, Catalogue
from lessons.lint import lint
from lessons.sources import check_sources, pattern_reaches, split_models

VOCABULARY: dict[str, dict[str, Any]] = {
    "child-lock": {"families": ["heater"], "kind": "setting", "settings": {"child-lock": {}}},
}
HEAD = "---\nid: heater-{slug}\ncapability: child-lock\nlevel: beginner\nminutes: 1\ntitle: t\nsummary: s\n"


def _write(root: Path, slug: str, extra: str, lang: str = "en") -> None:
    folder = root / "heater"
    folder.mkdir(exist_ok=True)
    (folder / f"{slug}.{lang}.md").write_text(
        HEAD.format(slug=slug) + extra + "---\nbody\n", encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "'sources' must be a non-empty list"),
        ([{"wiki": "x"}], "unknown source kind 'wiki'"),
        ([{"miio": "set_favorite_level"}], "a miio source is Class.method"),
        ([{"miot": "favorite level"}], "a miot source is service:property"),
        ([{"miio": "A.b", "miot": "a:b"}], "each source is one of"),
        ([{"manual": "Manual"}, {"manual": "Manual"}], "listed twice"),
    ],
)
def test_sources_schema_refuses_malformed_entries(value: Any, message: str) -> None:
    assert any(message in text for _, text in check_sources(value))


def test_sources_schema_accepts_the_three_kinds() -> None:
    good = [
        {"miio": "HeaterMiot.set_delay_off"},
        {"miot": "countdown:countdown-time"},
        {"miot": "*:off-delay-time"},
        {"manual": "Smart Space Heater 1S user manual"},
    ]
    assert check_sources(good) == []


def test_a_narrowing_must_reach_a_known_model() -> None:
    exact, globs = split_models(["zhimi.heater.za2", "roborock.vacuum.*", "*"])
    assert pattern_reaches("zhimi.heater.za*", exact, globs)
    assert pattern_reaches("roborock.vacuum.s5", exact, globs)  # covered by a family glob
    assert not pattern_reaches("roborock.vacuum.*", exact, globs)  # a glob needs a real name
    assert not pattern_reaches("acme.heater.x1", exact, globs)  # GenericMiot's "*" reaches nothing


def test_lint_refuses_a_narrowing_that_matches_no_known_model_and_unknown_sources(
    tmp_path: Path,
) -> None:
    sources = "sources:\n  - miio: HeaterMiot.set_child_lock\n"
    _write(tmp_path, "good", sources + "models: [zhimi.heater.za2]\n")
    _write(tmp_path, "nowhere", sources + "models: [zhimi.heater.zz9]\n")
    _write(
        tmp_path, "invented", "sources:\n  - miio: HeaterMiot.set_warp\nmodels: [zhimi.heater.*]\n"
    )
    _write(tmp_path, "bare", "")
    problems = [
        str(p).replace(f"{tmp_path}/", "")
        for p in lint(
            tmp_path,
            VOCABULARY,
            known_models=["zhimi.heater.za2", "zhimi.heater.mc2"],
            source_exists=lambda ref: ref != "HeaterMiot.set_warp",
            require_sources=True,
        )
    ]
    assert problems == [
        "heater/bare.en.md:2: lesson names no 'sources' for its device facts",
        "heater/invented.en.md:9: python-miio has no 'HeaterMiot.set_warp'",
        "heater/nowhere.en.md:10: 'models' entry 'zhimi.heater.zz9' matches no known model",
    ]


def test_a_translation_shares_the_sources_and_models_of_its_original(tmp_path: Path) -> None:
    _write(tmp_path, "lock", "sources:\n  - miio: HeaterMiot.set_child_lock\n")
    _write(tmp_path, "lock", "sources:\n  - miio: Heater.set_child_lock\n", lang="zh-CN")
    problems = [str(p).replace(f"{tmp_path}/", "") for p in lint(tmp_path, VOCABULARY)]
    assert problems == [
        "heater/lock.zh-CN.md:8: translation 'sources' differs from the English original's"
    ]


def test_edu_lessons_lint_checks_narrowings_against_python_miio_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    miio_index.cache_clear()
    tmp_path = tmp_path / "lessons"
    tmp_path.mkdir()
    sources = "sources:\n  - miio: HeaterMiot.set_child_lock\n"
    _write(tmp_path, "child-lock", sources + "models: [zhimi.heater.za2, zhimi.heater.nb1]\n")
    runner = CliRunner()
    result = runner.invoke(edu_main, ["lessons", "lint", str(tmp_path)])
    # za2 is a python-miio model, nb1 a spec shipped in devices/data/specs
    assert result.exit_code == 0, result.output
    _write(tmp_path, "child-lock", sources + "models: [acme.heater.x1]\n")
    result = runner.invoke(edu_main, ["lessons", "lint", str(tmp_path)])
    assert result.exit_code == 1
    assert "'models' entry 'acme.heater.x1' matches no known model" in result.output
    _write(tmp_path, "child-lock", "sources:\n  - miio: HeaterMiot.set_warp_drive\n")
    result = runner.invoke(edu_main, ["lessons", "lint", str(tmp_path)])
    assert "python-miio has no 'HeaterMiot.set_warp_drive'" in result.output


def test_every_shipped_lesson_names_its_sources() -> None:
    book = Catalogue.load(SHIPPED_ROOT)
    assert [lesson.id for lesson in book.lessons() if not lesson.sources] == []


def test_the_python_miio_index_is_kept_per_installed_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import miio

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    miio_index.cache_clear()
    built = miio_index()
    assert set(built["models"]) == set(miio.DeviceFactory.supported_models())
    [kept] = (tmp_path / "feature-coach").glob("miio-index-*.json")
    assert "zhimi.heater.za2" in known_models() and "zhimi.heater.nb1" in known_models()
    assert miio_member_exists("HeaterMiot.set_delay_off")
    assert miio_member_exists("VacuumStatus.clean_area")  # a status class, not exported
    assert not miio_member_exists("HeaterMiot.set_warp_drive")
    assert not miio_member_exists("HeaterMiot._get_mapping")  # private members are no source
    # the next process reads the file instead of importing python-miio
    kept.write_text('{"models": ["acme.kept.x1"], "members": {}}', encoding="utf-8")
    miio_index.cache_clear()
    assert miio_index()["models"] == ["acme.kept.x1"]
    # an unreadable file is rebuilt
    kept.write_text("{", encoding="utf-8")
    miio_index.cache_clear()
    assert set(miio_index()["models"]) == set(built["models"])
    miio_index.cache_clear()
