"""Interface strings in English and Simplified Chinese, chosen per person; compiled catalogues fresh."""

from __future__ import annotations

from flask import Flask
from markupsafe import escape
from web_fixtures import Web

from devices.fleet import Fleet
from edu.translations.update import LOCALES, compile_mo, po_path, template


def test_every_interface_string_is_translated_and_the_mo_files_match_their_po() -> None:
    from babel.messages.pofile import read_po

    # The household page's own strings; other areas (tips, store demo) keep their own check.
    own = (
        "edu/web/pages/setup.py",
        "edu/web/pages/household.py",
        "edu/web/pages/devices.py",
        "edu/web/pages/lessons.py",
        "edu/web/api/household.py",
        "edu/web/doctor.py",
        "edu/web/progress.py",
        "edu/web/errors.py",
        "devices/data/vocabulary.yaml",
        "edu/translations/update.py",
    )
    templates = {
        "base",
        "macros",
        "setup",
        "signin",
        "pin",
        "home",
        "lesson",
        "try",
        "devices",
        "device",
        "progress",
        "people",
        "person",
        "me",
        "error",
    }
    own += tuple(f"edu/web/templates/{name}.html" for name in templates)
    wanted = {m.id for m in template() if m.id and any(path in own for path, _line in m.locations)}
    for locale in LOCALES:
        with po_path(locale).open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        assert wanted <= translated, sorted(map(str, wanted - translated))[:10]
        assert po_path(locale).with_suffix(".mo").read_bytes() == compile_mo(locale), (
            "run `python -m edu.translations.update`"
        )


def test_a_person_sees_the_interface_in_their_language(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    fleet_web.sign_in(fleet_app, "Ana")
    home = fleet_web.get("/").get_data(as_text=True)
    assert "接下来学习" in home and "你的设备" in home and "退出" in home
    lesson = fleet_web.get(f"/lessons/fan-child-lock?device={fan.did}").get_data(as_text=True)
    assert '<a class="button primary" href="/lessons/fan-child-lock/try?device=' in lesson
    assert "立即试用" in lesson and "我已经会了" in lesson and "稍后提醒我" in lesson
    english_only = fleet_web.get(f"/lessons/fan-nudge-direction?device={fan.did}").get_data(
        as_text=True
    )
    from edu.catalogue import catalogue

    english = catalogue().get("fan-nudge-direction", "zh-CN")
    assert english is not None and english.lang == "en"
    assert (
        escape(english.title) in english_only and "我已经会了" in english_only
    )  # lesson in English, page in Chinese
    fleet_web.sign_in(fleet_app, "Leo")
    assert "Learn next" in fleet_web.get("/").get_data(as_text=True)


def test_changing_ones_language_changes_the_interface(fleet_web: Web, fleet_app: Flask) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    fleet_web.post("/me", {"action": "language", "language": "zh-CN"})
    assert "接下来学习" in fleet_web.get("/").get_data(as_text=True)
    bad = fleet_web.post("/me", {"action": "language", "language": "xx"}, follow_redirects=True)
    assert "请从列表中选择语言" in bad.get_data(as_text=True)


def test_setup_follows_the_browser_language_until_a_household_exists(web: Web) -> None:
    page = web.get("/setup", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "欢迎使用 Feature Coach" in page
    assert "Welcome to Feature Coach" in web.get("/setup").get_data(as_text=True)
