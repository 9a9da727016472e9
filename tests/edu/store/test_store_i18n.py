"""The store demo's interface strings in Simplified Chinese too (its own check, like the tips')."""

from __future__ import annotations

from demo_fixtures import STAFF, STAFF_PIN
from flask import Flask
from sqlmodel import Session, select
from web_fixtures import Web

from edu.models import Household, Person
from edu.translations.update import LOCALES, po_path, template


def test_every_demo_and_kiosk_string_is_translated() -> None:
    from babel.messages.pofile import read_po

    store_files = ("pages/store.py", "pages/kiosk.py", "store_desk.py", "words.py")

    def ours(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        in_store = path.startswith("edu/web/") and path.endswith(store_files)
        return in_store or (
            path.startswith("edu/web/templates/") and name.startswith(("demo", "kiosk"))
        )

    wanted = {m.id for m in template() if m.id and any(ours(p) for p, _line in m.locations)}
    assert len(wanted) > 100
    for locale in LOCALES:
        with po_path(locale).open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        assert wanted <= translated, sorted(map(str, wanted - translated))[:10]


def test_a_chinese_speaking_shop_gets_the_board_and_kiosk_in_chinese(
    store_web: Web, store_app: Flask
) -> None:
    with Session(store_app.extensions["edu.engine"]) as session, session.begin():
        session.exec(select(Household)).one().language = "zh-CN"
        session.exec(select(Person).where(Person.name == STAFF)).one().language = "zh-CN"
    store_web.sign_in(store_app, STAFF, STAFF_PIN)
    board = store_web.get("/demo/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in board and "演示台" in board and "全部复原" in board
    kiosk = store_web.get("/demo/kiosk").get_data(as_text=True)
    assert "发现这些设备能做什么" in kiosk and "店员" in kiosk
