"""The lesson catalogue: loading, lookup by id, language and capability, and the shipped content."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from lessons.catalogue import ANY_FOLDER, NO_FAMILY, SHIPPED_ROOT, Catalogue, Demo, Lesson, TryIt
from lessons.drafts import draft_lesson
from lessons.render import render
from lessons.vocabulary import DEFAULT_VOCABULARY, load_vocabulary

BROKEN = Path(__file__).parent / "data" / "lessons_broken"
FAMILIES = ("vacuum", "air-purifier", "fan", "humidifier", "light", "plug", "heater", "air-monitor")


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return Catalogue.load()


def test_load_reads_front_matter_into_a_lesson() -> None:
    catalogue = Catalogue.load(BROKEN)
    lesson = catalogue.get("fan-child-lock")
    assert lesson is not None
    assert lesson.capability == "child-lock"
    assert lesson.families == ("fan",)
    assert lesson.level == "beginner" and lesson.level_rank == 0
    assert lesson.minutes == 2
    assert lesson.try_it == TryIt(setting="child-lock", value=True, revert_after=60)
    assert lesson.requires == ("fan-basics",)
    assert lesson.lang == "en"
    assert lesson.path == BROKEN / "fan" / "child-lock.en.md"
    assert lesson.body.startswith("Lock the buttons.")
    assert lesson.body_line == 15
    assert not lesson.automatic


def test_load_skips_broken_files_and_records_why() -> None:
    catalogue = Catalogue.load(BROKEN)
    assert "fan-bad-schema" not in catalogue
    assert "fan-bad-yaml" not in catalogue
    reported = {(problem.path.name, problem.line) for problem in catalogue.problems}
    assert ("bad-yaml.en.md", 4) in reported
    assert ("duplicate.en.md", 2) in reported
    # Cross-file checks (capabilities, links, cycles) are lint's job, not the loader's.
    assert "fan-unknown-capability" in catalogue


def test_get_falls_back_to_english_and_to_the_base_language() -> None:
    catalogue = Catalogue.load(BROKEN)
    assert catalogue.get("fan-child-lock", "zh-CN").lang == "zh-CN"  # type: ignore[union-attr]
    assert catalogue.get("fan-child-lock", "zh").lang == "zh-CN"  # type: ignore[union-attr]
    assert catalogue.get("fan-child-lock", "zh-TW").lang == "en"  # type: ignore[union-attr]
    assert catalogue.get("fan-child-lock", "fr").lang == "en"  # type: ignore[union-attr]
    assert catalogue.get("fan-basics", "zh-CN").lang == "en"  # type: ignore[union-attr]
    assert catalogue.get("fan-child-lock", "fr", fallback=False) is None
    assert catalogue.get("no-such-lesson") is None
    assert set(catalogue.translations("fan-child-lock")) == {"en", "zh-CN"}


def _lesson(lesson_id: str, capability: str, **extra: object) -> Lesson:
    fields: dict = {
        "families": ("fan",),
        "level": "beginner",
        "minutes": 1,
        "title": "t",
        "summary": "s",
    }
    fields.update(extra)
    return Lesson(id=lesson_id, capability=capability, **fields)


def test_for_capability_narrows_by_family_and_model_and_puts_easy_first() -> None:
    catalogue = Catalogue(
        [
            _lesson("fan-lock-advanced", "child-lock", level="advanced"),
            _lesson("fan-lock", "child-lock"),
            _lesson("fan-lock-zhimi", "child-lock", models=("zhimi.fan.*",)),
            _lesson("heater-lock", "child-lock", families=("heater",)),
        ]
    )
    ids = [lesson.id for lesson in catalogue.for_capability("child-lock", "fan", "dmaker.fan.p9")]
    assert ids == ["fan-lock", "fan-lock-advanced"]
    ids = [lesson.id for lesson in catalogue.for_capability("child-lock", "fan", "zhimi.fan.za4")]
    assert ids == ["fan-lock", "fan-lock-zhimi", "fan-lock-advanced"]
    assert [lesson.id for lesson in catalogue.for_capability("child-lock", "heater")] == [
        "heater-lock"
    ]
    assert len(catalogue.for_capability("child-lock")) == 4
    assert catalogue.for_capability("warp-drive") == []


def test_a_lesson_for_any_device_reaches_devices_of_no_family_and_families_without_one() -> None:
    catalogue = Catalogue(
        [
            _lesson("fan-lock", "child-lock"),
            _lesson("any-lock", "child-lock", families=()),
            _lesson("fan-speed", "speed-level"),
        ]
    )
    # a device of no known family is never told about a fan's speed or a fan's buttons
    assert [lesson.id for lesson in catalogue.for_capability("child-lock", NO_FAMILY)] == [
        "any-lock"
    ]
    assert catalogue.for_capability("speed-level", NO_FAMILY) == []
    # a fan gets the fan lesson; a heater, with none of its own, the one for any device
    assert [lesson.id for lesson in catalogue.for_capability("child-lock", "fan")] == ["fan-lock"]
    assert [lesson.id for lesson in catalogue.for_capability("child-lock", "heater")] == [
        "any-lock"
    ]


def test_shipped_lessons_for_any_device_name_no_family(shipped: Catalogue) -> None:
    generic = [
        lesson
        for lesson in shipped.lessons()
        if lesson.path and lesson.path.parent.name == ANY_FOLDER
    ]
    assert {lesson.capability for lesson in generic} >= {"child-lock", "remote-power", "off-timer"}
    for lesson in generic:
        assert lesson.families == (), lesson.id
        for word in ("fan", "purifier", "heater", "humidifier", "vacuum", "robot"):
            assert word not in lesson.body.lower(), (lesson.id, word)


def test_a_curated_lesson_wins_over_an_automatic_draft() -> None:
    draft = draft_lesson("child-lock", "fan", "Physical Control Locked", writable=True)
    assert draft.automatic and draft.id == "fan-child-lock"
    catalogue = Catalogue([draft])
    assert catalogue.for_capability("child-lock", "fan") == [draft]
    curated = _lesson("fan-child-lock", "child-lock")
    catalogue.add(curated)
    assert catalogue.get("fan-child-lock") is curated
    catalogue.add(draft)  # a later draft never replaces the curated lesson
    assert catalogue.get("fan-child-lock") is curated
    other = _lesson("fan-lock-tips", "child-lock")
    catalogue.add(other)
    catalogue.add(draft_lesson("child-lock", "fan", "Lock", model="x"))
    assert [lesson.id for lesson in catalogue.for_capability("child-lock", "fan")] == [
        "fan-child-lock",
        "fan-lock-tips",
    ]


def test_a_draft_describes_the_feature_from_the_device_and_renders_safely() -> None:
    draft = draft_lesson(
        "miot:fan:horizontal-angle",
        "fan",
        "Horizontal Angle <script>alert(1)</script>",
        description="Swing [angle](javascript:alert(1))",
        unit="degrees",
        choices=[30, 60, 90, 120, 150],
        writable=True,
        model="dmaker.fan.p9",
    )
    assert draft.id == "fan-miot-fan-horizontal-angle"
    assert draft.title.startswith("Set “Horizontal Angle")
    assert draft.models == ("dmaker.fan.p9",)
    assert "Choices: 30, 60, 90, 120, 150." in draft.body
    html = render(draft.body)
    assert "<script" not in html and "<a" not in html and "href" not in html
    assert "Horizontal Angle &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Swing [angle](javascript:alert(1))" in html  # shown as text, not a link
    reading = draft_lesson("pm10", "air-monitor", "PM10", unit="μg/m³", value_range=[0, 1000])
    assert reading.title == "Read “PM10” on your phone"
    assert "Range: 0 to 1000 μg/m³." in reading.body


def test_shipped_catalogue_loads_without_problems(shipped: Catalogue) -> None:
    assert shipped.problems == []
    assert shipped.languages() == ["en", "zh-CN"]


def test_shipped_catalogue_covers_every_family_in_english_and_chinese(shipped: Catalogue) -> None:
    english = Counter(lesson.families[0] for lesson in shipped.lessons("en") if lesson.families)
    assert len(shipped) >= 80
    families = {
        f for entry in load_vocabulary(DEFAULT_VOCABULARY).values() for f in entry["families"]
    }
    assert set(english) == families  # the first eight and every family of the vocabulary's parts
    assert min(english[family] for family in FAMILIES) >= 5
    chinese = shipped.lessons("zh-CN")
    assert len(chinese) >= 40
    assert set(FAMILIES) <= {lesson.families[0] for lesson in chinese if lesson.families}
    english_all = shipped.lessons("en")
    newer = [
        lesson for lesson in english_all if lesson.families and lesson.families[0] not in FAMILIES
    ]
    translated = [
        lesson for lesson in chinese if lesson.families and lesson.families[0] not in FAMILIES
    ]
    assert 2 * len(translated) >= len(newer)  # at least half of the newer families' lessons


def test_shipped_catalogue_has_a_lesson_for_every_actionable_capability(shipped: Catalogue) -> None:
    if not DEFAULT_VOCABULARY.is_file():
        pytest.skip(f"the capability vocabulary {DEFAULT_VOCABULARY} has not been written yet")
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    missing = [
        f"{capability} on {family}"
        for capability, entry in vocabulary.items()
        if entry["actionable"]
        for family in entry["families"]
        if not shipped.for_capability(capability, family)
    ]
    assert missing == []


def test_shipped_lessons_are_short_and_practical(shipped: Catalogue) -> None:
    for lesson in shipped.lessons("en"):
        words = len(re.findall(r"[A-Za-z0-9']+", lesson.body))
        assert 80 <= words <= 250, (lesson.id, words)
        assert "Xiaomi Home app" in lesson.body or "Yeelight app" in lesson.body, lesson.id
        assert "## What you will notice" in lesson.body, lesson.id
        if lesson.try_it is not None:
            assert "## Try it now" in lesson.body, lesson.id
            assert lesson.try_it.action or lesson.try_it.revert_after, lesson.id
        else:
            assert "Try it now**" not in lesson.body, lesson.id
    for lesson in shipped.lessons("zh-CN"):
        assert "米家 App" in lesson.body or "Yeelight" in lesson.body, lesson.id
        assert ("## 立即试用" in lesson.body) == (lesson.try_it is not None), lesson.id


def test_shipped_translations_keep_the_english_shape(shipped: Catalogue) -> None:
    for lesson in shipped.lessons("zh-CN"):
        original = shipped.get(lesson.id, "en", fallback=False)
        assert original is not None, lesson.id
        assert (lesson.capability, lesson.level, lesson.minutes, lesson.requires) == (
            original.capability,
            original.level,
            original.minutes,
            original.requires,
        ), lesson.id
        assert (lesson.demo is None) == (original.demo is None), lesson.id


def test_shipped_demo_scripts_rank_each_family_without_ties(shipped: Catalogue) -> None:
    ranks: dict[str, list[int]] = {}
    for lesson in shipped.lessons("en"):
        if lesson.demo is not None:
            assert isinstance(lesson.demo, Demo) and lesson.demo.points, lesson.id
            ranks.setdefault(lesson.families[0], []).append(lesson.demo.rank)
    assert ranks
    for family, family_ranks in ranks.items():
        assert len(family_ranks) == len(set(family_ranks)), family


def test_loading_the_shipped_catalogue_is_quick_and_imports_nothing_heavy() -> None:
    # Measured in a fresh interpreter, so the figure includes our own imports.
    script = (
        "import sys, time; t = time.perf_counter()\n"
        "from lessons.catalogue import Catalogue\n"
        "c = Catalogue.load(); elapsed = time.perf_counter() - t\n"
        "heavy = sorted(m for m in ('markdown', 'flask', 'sqlmodel', 'miio', 'edu', 'devices')"
        " if m in sys.modules)\n"
        "print(len(c.lessons()), elapsed, ','.join(heavy))\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=SHIPPED_ROOT.parent,
    )
    count, elapsed, heavy = result.stdout.split(" ")
    assert int(count) >= 120
    assert heavy.strip() == ""
    # Report, don't assert, the wall-clock figure: timing belongs to benchmarks.
    print(
        f"loaded {count} lessons in {float(elapsed) * 1000:.1f} ms "
        f"(process {time.perf_counter() - started:.2f} s)"
    )
