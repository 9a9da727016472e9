"""Interface language: English or Simplified Chinese, chosen per person (Flask-Babel)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Person.language (a lesson language code) -> Babel locale.
LOCALES = {"en": "en", "zh-CN": "zh_Hans_CN"}
LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文"}


def language() -> str:
    """Return the language code for this request: the person's, the household's, or the browser's."""
    cached = g.get("edu_language")
    if cached:
        return str(cached)
    person = g.get("person")
    code = person.language if person is not None else None
    if code is None:
        from edu.web.security import household

        home = household() if request else None
        code = home.language if home is not None else None
    if code is None:
        best = request.accept_languages.best_match(["en", "zh-CN", "zh"]) if request else None
        code = "zh-CN" if best in ("zh-CN", "zh") else "en"
    code = code if code in LOCALES else "en"
    g.edu_language = code
    return code


def _locale() -> str:
    return LOCALES[language()]


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the shipped translations."""
    Babel(app, locale_selector=_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals["language"] = language
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES


def say(exc: BaseException) -> str:
    """Return a service's error message in the request's language (as is when untranslated)."""
    from flask_babel import gettext

    return gettext(str(exc))
