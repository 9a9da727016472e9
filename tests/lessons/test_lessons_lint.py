"""Lesson lint: each class of error on the broken fixtures, and a clean shipped catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lessons.catalogue import SHIPPED_ROOT
from lessons.lint import check_value, lint, main
from lessons.vocabulary import DEFAULT_VOCABULARY, load_vocabulary

BROKEN = Path(__file__).parent / "data" / "lessons_broken"

# A small vocabulary in the plain-mapping form the caller builds: lint knows nothing else.
VOCABULARY: dict[str, dict[str, Any]] = {
    "power": {
        "families": ["fan", "light"],
        "kind": "setting",
        "settings": {"power": {"type": "bool"}},
    },
    "child-lock": {
        "families": ["fan", "air-purifier"],
        "kind": "setting",
        "settings": {"child-lock": {"type": "bool"}},
    },
    "oscillation-angle": {
        "families": ["fan"],
        "kind": "setting",
        "settings": {"oscillation-angle": {"type": "int", "choices": [30, 60, 90, 120]}},
    },
}


def _lint_broken() -> list[str]:
    return [problem.format(BROKEN) for problem in lint(BROKEN, VOCABULARY)]


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(
            "fan/bad-schema.en.md:2: missing required key 'summary'", id="schema-missing-key"
        ),
        pytest.param(
            "fan/bad-schema.en.md:4: level must be one of beginner, intermediate, advanced, got 'expert'",
            id="schema-level",
        ),
        pytest.param(
            "fan/bad-schema.en.md:5: minutes must be a whole number from 1 to 30, got 0",
            id="schema-minutes",
        ),
        pytest.param(
            "fan/bad-schema.en.md:7: unknown front-matter key 'colour'", id="schema-unknown-key"
        ),
        pytest.param(
            "fan/duplicate.en.md:2: duplicate lesson id 'fan-child-lock' (also in "
            f"{BROKEN}/fan/child-lock.en.md)",
            id="duplicate-id",
        ),
        pytest.param(
            "fan/duplicate.en.md:2: id 'fan-child-lock' does not match its file: expected 'fan-duplicate'",
            id="id-convention",
        ),
        pytest.param(
            "fan/unknown-capability.en.md:3: unknown capability 'warp-drive'", id="capability"
        ),
        pytest.param(
            "fan/wrong-family.en.md:4: capability 'child-lock' does not apply to family 'light'"
            " (it applies to air-purifier, fan)",
            id="family",
        ),
        pytest.param(
            "fan/invalid-try-it.en.md:10: invalid try_it value: expected true or false, got 'yes'",
            id="try-it-type",
        ),
        pytest.param(
            "fan/try-it-out-of-range.en.md:10: invalid try_it value: 500 is not one of 30, 60, 90, 120",
            id="try-it-choice",
        ),
        pytest.param(
            "fan/unknown-setting.en.md:9: capability 'child-lock' has no setting 'volume' (known: child-lock)",
            id="try-it-setting",
        ),
        pytest.param(
            "fan/missing-prerequisite.en.md:10: unknown prerequisite lesson 'fan-nothing-here'",
            id="missing-prerequisite",
        ),
        pytest.param(
            "fan/cycle-a.en.md:8: prerequisite cycle: fan-cycle-a -> fan-cycle-b -> fan-cycle-a",
            id="prerequisite-cycle",
        ),
        pytest.param(
            "fan/orphan.zh-CN.md:2: translation 'fan-orphan' has no English original",
            id="orphan-translation",
        ),
        pytest.param(
            "fan/broken-link.en.md:12: broken link: no lesson 'fan-nowhere'", id="lesson-link"
        ),
        pytest.param(
            "fan/broken-link.en.md:13: broken link '../fan/missing.en.md': no such file",
            id="file-link",
        ),
        pytest.param(
            "fan/broken-link.en.md:14: link scheme 'javascript:' is not allowed",
            id="javascript-link",
        ),
        pytest.param(
            "fan/bad-yaml.en.md:4: invalid YAML in front matter: did not find expected ',' or ']'"
            " (while parsing a flow sequence)",
            id="bad-yaml",
        ),
        pytest.param(
            "fan/no-front-matter.en.md:1: missing front matter: the file must start with a '---' line",
            id="no-front-matter",
        ),
        pytest.param(
            "fan/unsafe-html.en.md:11: unsafe HTML in the body: '<script'", id="unsafe-script"
        ),
        pytest.param(
            "fan/unsafe-html.en.md:12: unsafe HTML in the body: 'onerror='", id="unsafe-on-attr"
        ),
    ],
)
def test_lint_reports_each_class_of_error_at_its_line(expected: str) -> None:
    assert expected in _lint_broken()


def test_lint_reports_nothing_else_on_the_broken_fixtures() -> None:
    # The valid fixtures (basics, child-lock and its translation, cycle-b) stay silent,
    # and every broken file is reported, so no class of error goes unnoticed.
    problems = _lint_broken()
    files = {line.split(":", 1)[0] for line in problems}
    assert "fan/basics.en.md" not in files
    assert "fan/child-lock.en.md" not in files
    assert "fan/child-lock.zh-CN.md" not in files
    assert "fan/cycle-b.en.md" not in files
    broken = {
        f"fan/{path.name}"
        for path in (BROKEN / "fan").glob("*.md")
        if path.stem.split(".")[0] not in ("basics", "child-lock", "cycle-b")
    }
    assert files == broken
    assert len(problems) == 21


def test_lint_never_raises_on_unreadable_files(tmp_path: Path) -> None:
    folder = tmp_path / "fan"
    folder.mkdir()
    (folder / "binary.en.md").write_bytes(b"---\nid: \xff\xfe\n---\n")
    (folder / "list.en.md").write_text("---\n- just\n- a list\n---\nbody\n", encoding="utf-8")
    (folder / "open.en.md").write_text("---\nid: fan-open\n", encoding="utf-8")
    (folder / "Bad Name.md").write_text("---\nid: x\n---\n", encoding="utf-8")
    (folder / "twice.en.md").write_text(
        "---\nid: fan-twice\nid: fan-twice\ncapability: power\nlevel: beginner\nminutes: 1\n"
        "title: t\nsummary: s\n---\nbody\n",
        encoding="utf-8",
    )
    problems = [str(problem).replace(f"{tmp_path}/", "") for problem in lint(tmp_path, VOCABULARY)]
    assert problems == [
        "fan/Bad Name.md:1: file name must be <slug>.<lang>.md, e.g. child-lock.en.md",
        "fan/binary.en.md:2: not UTF-8 text: byte 0xff",
        "fan/list.en.md:2: front matter must be a mapping of keys to values",
        "fan/open.en.md:1: unterminated front matter: no closing '---' line",
        "fan/twice.en.md:3: front-matter key 'id' is given twice",
    ]


def test_lint_checks_try_it_families_and_actions(tmp_path: Path) -> None:
    vocabulary = {
        "find-robot": {"families": ["vacuum"], "kind": "action", "actions": ["find-robot"]},
        "power": {"families": ["vacuum"], "settings": {"power": {"families": ["light"]}}},
    }
    folder = tmp_path / "vacuum"
    folder.mkdir()
    head = "---\nlevel: beginner\nminutes: 1\ntitle: t\nsummary: s\n"
    (folder / "find.en.md").write_text(
        head + "id: vacuum-find\ncapability: find-robot\ntry_it:\n  action: find-robot\n---\nb\n",
        encoding="utf-8",
    )
    (folder / "power.en.md").write_text(
        head
        + "id: vacuum-power\ncapability: power\ntry_it:\n  setting: power\n  value: true\n---\nb\n",
        encoding="utf-8",
    )
    problems = [str(problem).replace(f"{tmp_path}/", "") for problem in lint(tmp_path, vocabulary)]
    assert problems == ["vacuum/power.en.md:9: setting 'power' is not available on 'vacuum'"]


@pytest.mark.parametrize(
    ("value", "spec", "fits"),
    [
        (True, {"type": "bool"}, True),
        (1, {"type": "bool"}, False),
        (3, {"type": "int", "min": 1, "max": 5}, True),
        (9, {"type": "int", "min": 1, "max": 5}, False),
        (True, {"type": "int"}, False),
        (2.5, {"type": "float", "range": [0, 2]}, False),
        ("silent", {"type": "enum", "choices": ["auto", "silent"]}, True),
        ("turbo", {"choices": {"auto": 0, "silent": 1}}, False),
        ("anything", {}, True),
    ],
)
def test_check_value_follows_what_the_vocabulary_says(
    value: Any, spec: dict[str, Any], fits: bool
) -> None:
    assert (check_value(value, spec) is None) is fits


def test_lint_main_prints_problems_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vocabulary = tmp_path / "vocabulary.yaml"
    vocabulary.write_text("capabilities: {}\n", encoding="utf-8")
    assert main([str(BROKEN), "--vocabulary", str(vocabulary)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{BROKEN}/fan/unknown-capability.en.md:3: unknown capability 'warp-drive'" in out
    assert main([str(tmp_path / "nowhere"), "--vocabulary", str(vocabulary)]) == 2
    assert main([str(BROKEN), "--vocabulary", str(tmp_path / "missing.yaml")]) == 2
    assert "error:" in capsys.readouterr().err


def test_shipped_catalogue_lints_clean_against_the_real_vocabulary() -> None:
    if not DEFAULT_VOCABULARY.is_file():
        pytest.skip(f"the capability vocabulary {DEFAULT_VOCABULARY} has not been written yet")
    problems = lint(SHIPPED_ROOT, load_vocabulary(DEFAULT_VOCABULARY))
    assert [str(problem) for problem in problems] == []
