"""Interface language: English or Simplified Chinese, chosen per person (Flask-Babel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_translations

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


def translations() -> NullTranslations:
    """This request's translations, looked up once per request and language (Flask-Babel
    looks them up again on every call, which was most of what a page cost)."""
    if not has_request_context():
        return get_translations()
    code = language()
    found = g.get("edu_translations")
    if found is None or found[0] != code:
        found = g.edu_translations = (code, get_translations())
    return found[1]


def N_(string: str) -> str:
    """Mark *string* for the translation catalogue; it is translated where it is said."""
    return string


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's gettext, with the request's translations looked up once."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ngettext, with the request's translations looked up once."""
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    return text % variables if variables else text


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the shipped translations; templates translate through
    :func:`translations`."""
    Babel(app, locale_selector=_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["language"] = language
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES


def say(exc: BaseException) -> str:
    """Return a service's error message in the request's language (as is when untranslated)."""
    from flask_babel import gettext

    return gettext(str(exc))
