"""Keep the interface translations in step: extract, merge into each .po, compile the .mo files.

Run ``python -m edu.translations.update`` after changing interface strings, translate the
new entries in ``edu/translations/<locale>/LC_MESSAGES/messages.po``, and run it again. The
compiled ``.mo`` files are committed so that a clean clone serves every language at once;
a test checks that they match their ``.po``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LOCALES = ("zh_Hans_CN",)
METHODS = [
    ("edu/web/**.py", "python"),
    ("edu/web/templates/**.html", "jinja2"),
    ("edu/hub/moderation.py", "python"),  # the hub's moderation pages; its public pages are English
    ("edu/hub/templates/hub_moderation*.html", "jinja2"),
]
# Words that reach the page through a variable: levels, roles, service errors.
EXTRA = (
    "Beginner",
    "Intermediate",
    "Advanced",
    "Admin",
    "Member",
    "Staff",
    "the household needs a name",
    "a household name is at most 80 characters",
    "unknown time zone (use a name like Europe/Berlin)",
    "choose a language from the list",
    "the household is already set up",
    "choose a role from the list",
    "the household needs at least one admin",
    "there is already someone with that name",
    "a name cannot be empty",
    "a name is at most 60 characters",
    "a PIN is 4 to 8 digits",
    # named in the community reason ("62% of owners of this device use ..."), as are the
    # vocabulary's families (added below)
    "device",
)


def family_words() -> list[str]:
    """The vocabulary's device families as the community reason names them ("air purifier")."""
    from devices.vocabulary import Vocabulary

    return [family.replace("-", " ") for family in Vocabulary.load().families]


def template() -> Catalog:
    """Extract every interface string, plus the vocabulary's feature titles."""
    from edu.catalogue import capability_titles

    catalog = Catalog(project="Feature Coach", msgid_bugs_address="", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        METHODS,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None},
        options_map={
            "edu/web/templates/**.html": {"extensions": "jinja2.ext.i18n"},
            "edu/hub/templates/hub_moderation*.html": {"extensions": "jinja2.ext.i18n"},
        },
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for title in sorted(set(capability_titles().values())):
        catalog.add(title, None, [("devices/data/vocabulary.yaml", 0)])
    for word in EXTRA:
        catalog.add(word, None, [("edu/translations/update.py", 0)])
    for family in family_words():
        catalog.add(family, None, [("devices/data/vocabulary.yaml", 0)])
    return catalog


def po_path(locale: str) -> Path:
    return HERE / locale / "LC_MESSAGES" / "messages.po"


def compile_mo(locale: str) -> bytes:
    """Return the compiled .mo of a locale's .po."""
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> list[str]:
    """Merge new strings into every .po and compile the .mo files; return untranslated ids."""
    fresh = template()
    missing: list[str] = []
    for locale in LOCALES:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="Feature Coach", charset="utf-8")
        catalog.update(fresh, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                width=100,
                omit_header=False,
                ignore_obsolete=True,
                include_lineno=False,
                sort_output=False,
            )
        path.with_suffix(".mo").write_bytes(compile_mo(locale))
        missing += [f"{locale}: {m.id!r}" for m in catalog if m.id and (not m.string or m.fuzzy)]
    return missing


if __name__ == "__main__":
    untranslated = update()
    for line in untranslated:
        print("untranslated", line)
    sys.exit(1 if untranslated else 0)
