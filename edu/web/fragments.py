"""Rendered parts of pages, kept while nothing they show can have changed.

A part is keyed by everything it is drawn from: the household's revision (bumped by every
change to people, devices, capabilities, usage, lesson progress, wrong PINs and the
community hub's table, by any process, see edu.revisions), the person, the language, the
catalogue and the URL root. It also carries the moment the clock alone would change it (a
snooze ends, a device stops being new); past that moment it is drawn again. What a
request's own uncommitted changes would show is never kept. Forms in a part carry a
stand-in for the CSRF token, replaced by each request's own. One cache per app, bounded in
parts and in characters, least recently used out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, render_template, request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from edu.catalogue import generation
from edu.db import utcnow
from edu.models import Person
from edu.revisions import revision_of
from edu.web.i18n import language
from edu.web.security import CSRF_STAND_IN, csrf_token
from edu.web.session import db

T = TypeVar("T")
SIZE = 512  # parts kept per app: a few per person and language
BUDGET = 8_000_000  # characters kept per app at most (a home page is about 40,000)


class Fragments:
    """A bounded map of key -> (rendered part, valid until) shared by the app's threads."""

    def __init__(self, size: int = SIZE, budget: int = BUDGET) -> None:
        self.size, self.budget, self.held = size, budget, 0
        self._parts: OrderedDict[Hashable, tuple[Any, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> Any:
        with self._lock:
            found = self._parts.get(key)
            if found is None:
                return None
            value, until = found
            if until is not None and now >= until:
                self._drop(key)
                return None
            self._parts.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any, until: datetime | None) -> None:
        with self._lock:
            if key in self._parts:
                self._drop(key)
            self._parts[key] = (value, until)
            self.held += _size(value)
            while self._parts and (len(self._parts) > self.size or self.held > self.budget):
                self._drop(next(iter(self._parts)))

    def _drop(self, key: Hashable) -> None:
        value, _until = self._parts.pop(key)
        self.held -= _size(value)

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()
            self.held = 0

    def __len__(self) -> int:
        return len(self._parts)


def _size(value: Any) -> int:
    """Characters (or bytes) a kept part holds: a page's text, or an answer's body."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, tuple):
        return sum(_size(item) for item in value)
    return 0


def init_app(app: Flask) -> None:
    """Give the app its cache of rendered parts, and its templates the main navigation."""
    app.extensions["edu.fragments"] = Fragments()
    app.jinja_env.globals["main_nav"] = main_nav


def fragments() -> Fragments:
    """The current app's cache of rendered parts."""
    found: Fragments = current_app.extensions["edu.fragments"]
    return found


def kept(key: Hashable, now: datetime, render: Callable[[], tuple[T, datetime | None]]) -> T:
    """Return what is kept under *key*, or make it: *render* gives the value and the moment
    the clock alone would change it (None: never). What a request's own uncommitted changes
    would show is not kept. A part is also keyed by the lesson catalogue it was drawn from:
    the one loaded when it was drawn, since drawing may load the first."""
    store = fragments()
    found = store.get((key, generation()), now)
    if found is not None:
        return cast(T, found)
    value, until = render()
    if not db().info.get("edu_uncommitted"):
        store.put((key, generation()), value, until)
    return value


def household_key(kind: str, person: Person, *extra: Hashable) -> tuple[Hashable, ...]:
    """The key of a part drawn from *person*'s household as they see it: the household's
    revision (read now), the person, the language, the URL root and *extra*."""
    return (
        kind,
        person.household_id,
        revision_of(db(), person.household_id),
        person.id,
        language(),
        request.script_root,
        *extra,
    )


def kept_block(
    template: str,
    block: str,
    kind: str,
    person: Person,
    make: Callable[[], dict[str, Any]],
    *extra: Hashable,
    until: Callable[[dict[str, Any]], datetime | None] | None = None,
) -> Markup:
    """Return one *block* of *template*, kept for the person and household revision (and
    *extra*, such as the page asked for); *make* gives the block's context when it is drawn,
    *until* the moment the clock alone would change what that context shows. The template
    shows a variable named like the block in its place when it is given."""

    def render() -> tuple[str, datetime | None]:
        page = current_app.jinja_env.get_template(template)
        context = make()
        moment = until(context) if until is not None else None
        current_app.update_template_context(context)
        return drawn(lambda: "".join(page.blocks[block](page.new_context(context)))), moment

    return with_token(kept(household_key(kind, person, *extra), utcnow(), render))


def drawn(render: Callable[[], str]) -> str:
    """Draw a part that every session of a person will share: forms in it get the stand-in
    for the CSRF token (never this session's own)."""
    outer = g.get("edu_drawing_kept", False)  # a part drawn inside another one
    g.edu_drawing_kept = True
    try:
        return render()
    finally:
        g.edu_drawing_kept = outer


def with_token(html: str) -> Markup:
    """A kept part with this request's CSRF token in place of the stand-in."""
    if CSRF_STAND_IN in html:
        html = html.replace(CSRF_STAND_IN, csrf_token())
    return Markup(html)  # noqa: S704  (a template's output: escaped already)


def kept_content(
    template: str,
    kind: str,
    person: Person,
    make: Callable[[], dict[str, Any]],
    *extra: Hashable,
    outer: dict[str, Any] | None = None,
    until: Callable[[dict[str, Any]], datetime | None] | None = None,
) -> str:
    """Render *template* with its ``content`` block kept (see :func:`kept_block`); *outer*
    is what the rest of the page (its title) needs."""
    body = kept_block(template, "content", kind, person, make, *extra, until=until)
    return render_template(template, content=body, **(outer or {}))


@pass_context
def main_nav(context: Context) -> Markup:
    """The signed-in person's navigation, drawn once per person, name, role, language, page
    and unread count (every input is in the key, so no change can be missed)."""
    person = g.get("person")
    if person is None:
        return Markup("")
    unread = int(context["tips_unread"]())
    part = (
        "nav",
        person.id,
        person.name,
        person.role,
        language(),
        request.endpoint,
        request.blueprint,
        unread,
        request.script_root,
    )
    store = fragments()
    html = store.get(part, utcnow())
    if html is None:
        html = drawn(lambda: render_template("_nav.html"))
        store.put(part, html, None)
    return with_token(html)
