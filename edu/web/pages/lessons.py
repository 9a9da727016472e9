"""The lesson page: the lesson in the person's language, try it now, already known, later."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from devices import MAX_DID
from edu.db import unit, utcnow
from edu.models import Person
from edu.services.lessons import lesson_context
from edu.services.people import NotFound, mark_lesson
from edu.services.recommend import find_lesson
from edu.services.tryit import TryItError, check, try_lesson
from edu.text import whole_number
from edu.web.fragments import kept_content
from edu.web.i18n import gettext as _
from edu.web.progress import feature_title
from edu.web.security import current_person, household, login_required
from edu.web.session import db, engine, inventory
from edu.web.words import describe_value, outcome_message

bp = Blueprint("lessons", __name__, url_prefix="/lessons")


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


def _context(person: Person, lesson_id: str, did: int | None) -> dict[str, Any]:
    """The lesson page's context: the service's, with the feature's title in the person's words."""
    home = household()
    assert home is not None
    try:
        context = lesson_context(db(), home, person, lesson_id, did, inventory().coordinator.specs)
    except NotFound:
        abort(404)
    return {**context, "feature": feature_title(context["lesson"].capability)}


def _did() -> int | None:
    return whole_number(request.values.get("device", ""), MAX_DID)


@bp.route("/<lesson_id>")
@login_required
def show(lesson_id: str) -> str:
    """Show the lesson with its buttons (kept per person, device and household revision)."""
    me, did = _me(), _did()
    lesson = find_lesson(db(), me.household_id, lesson_id, me.language)
    if lesson is None:
        abort(404)
    return kept_content(
        "lesson.html",
        "lesson",
        me,
        lambda: _context(me, lesson_id, did),
        lesson_id,
        did,
        outer={"lesson": lesson},
    )


@bp.route("/<lesson_id>/try", methods=["GET", "POST"])
@login_required
def try_it(lesson_id: str) -> str | Response:
    """Confirm, then run the lesson's try_it on the device and say what happened."""
    person = _me()
    did = _did()
    assert person.id is not None
    if did is None:
        abort(404)
    try:
        lesson = check(engine(), person_id=person.id, lesson_id=lesson_id, did=did)
    except TryItError:
        abort(404)
    if request.method == "GET":
        context = _context(person, lesson_id, did)
        return render_template(
            "try.html",
            **context,
            value=describe_value(lesson.try_it.value if lesson.try_it else None),
        )
    try:
        outcome = try_lesson(inventory(), person_id=person.id, lesson_id=lesson_id, did=did)
    except TryItError:
        abort(404)
    message, tone = outcome_message(outcome, lesson.try_it.revert_after if lesson.try_it else None)
    flash(message, tone)
    return redirect(url_for("lessons.show", lesson_id=lesson_id, device=did) + "#result")


@bp.route("/<lesson_id>/known", methods=["POST"])
@login_required
def known(lesson_id: str) -> Response:
    """Mark the lesson as known: it leaves the learn-next list."""
    _mark(lesson_id, "done")
    flash(_("Noted: you know this one."), "good")
    return redirect(url_for("household.home"))


@bp.route("/<lesson_id>/later", methods=["POST"])
@login_required
def later(lesson_id: str) -> Response:
    """Snooze the lesson for a while."""
    _mark(lesson_id, "snoozed")
    flash(_("We will remind you about this later."), "good")
    return redirect(url_for("household.home"))


def _mark(lesson_id: str, state: str) -> None:
    person = _me()
    until = None
    if state == "snoozed":
        until = utcnow() + timedelta(days=current_app.config["EDU_SNOOZE_DAYS"])
    try:
        with unit(db()):
            mark_lesson(db(), person, lesson_id, state, until=until)
    except NotFound:
        abort(404)
