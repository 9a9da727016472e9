"""The lesson page: the lesson in the person's language, try it now, already known, later."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from devices import MAX_DID
from edu.db import key, utcnow
from edu.models import Person
from edu.people import NotFound, mark_lesson
from edu.recommend import find_lesson, load_state
from edu.text import whole_number
from edu.tryit import TryItError, TryOutcome, check, try_lesson
from edu.web.progress import feature_title
from edu.web.security import current_person, household, login_required
from edu.web.session import db, engine, inventory, unit

bp = Blueprint("lessons", __name__, url_prefix="/lessons")


@lru_cache(maxsize=512)
def rendered(body: str, family: str | None) -> str:
    """Render a lesson body to sanitised HTML (cached: lessons do not change while running)."""
    from lessons.render import render

    return render(body, family=family)


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


def lesson_context(person: Person, lesson_id: str, did: int | None) -> dict[str, Any]:
    """Find the lesson, the device it is shown for, and whether the person uses the feature."""
    home = household()
    assert home is not None
    lesson = find_lesson(db(), key(home), lesson_id, person.language)
    if lesson is None:
        abort(404)
    state = load_state(db(), home)
    mine = [state.devices[i] for i in sorted(state.devices_of.get(person.id, ()))]  # type: ignore[arg-type]
    having = [
        d
        for d in mine
        if any(
            c.capability == lesson.capability and c.mapped for c in state.capabilities.get(d.id, ())
        )
    ]  # type: ignore[call-overload]
    if did is not None:
        device = next((d for d in having if d.did == did), None)
    else:
        device = next(
            (d for d in having if lesson.applies_to(d.family, d.model)),
            having[0] if having else None,
        )
    assert person.id is not None
    in_use = device is not None and (device.id, lesson.capability) in state.used.get(
        person.id, set()
    )
    can_try = False
    if device is not None and lesson.try_it is not None and device.token_known:
        # the same contract `edu lessons check` proves: offered only where it can run,
        # be read back and be put back
        from edu.models import Device
        from edu.trylive import contract_for_device

        row = db().get(Device, device.id)
        snapshot = row.last_snapshot if row is not None else None
        caps = state.capabilities.get(device.id, [])
        contract = contract_for_device(
            inventory().coordinator.specs, device.model, caps, snapshot, lesson
        )
        can_try = contract.offered
    return {
        "lesson": lesson,
        "device": device,
        "in_use": in_use,
        "can_try": can_try,
        "others": [d for d in having if device is None or d.did != device.did],
        "body": rendered(lesson.body, lesson.families[0] if lesson.families else None),
        "feature": feature_title(lesson.capability),
    }


def _did() -> int | None:
    return whole_number(request.values.get("device", ""), MAX_DID)


@bp.route("/<lesson_id>")
@login_required
def show(lesson_id: str) -> str:
    """Show the lesson with its buttons."""
    return render_template("lesson.html", **lesson_context(_me(), lesson_id, _did()))


def describe_value(value: Any) -> str:
    """Say a device value in plain words."""
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if value is None:
        return _("unknown")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def outcome_message(outcome: TryOutcome, revert_after: int | None) -> tuple[str, str]:
    """Return (message, tone) telling the person what the device now says."""
    name = outcome.device_name
    if outcome.status == "failed":
        if outcome.reason == "auth-failed":
            return _(
                "%(name)s rejected its token, so nothing was changed. An admin can fix this on "
                "the devices page.",
                name=name,
            ), "bad"
        if outcome.reason == "offline":
            return _(
                "%(name)s did not answer, so nothing was changed. Check that it is switched on "
                "and try again.",
                name=name,
            ), "bad"
        return _("%(name)s refused the change, so nothing was changed.", name=name), "bad"
    if outcome.status == "done":
        return _("Done: %(name)s accepted the command.", name=name), "good"
    if outcome.status == "already":
        return _(
            "%(name)s already had this on (%(value)s). Nothing needed to change.",
            name=name,
            value=describe_value(outcome.after),
        ), "good"
    if outcome.status == "unconfirmed":
        return _(
            "%(name)s took the command, but it does not show the change yet.", name=name
        ), "warn"
    text = _(
        "It worked: %(name)s now says %(value)s (it was %(before)s).",
        name=name,
        value=describe_value(outcome.after),
        before=describe_value(outcome.before),
    )
    if outcome.revert_at is not None and revert_after:
        minutes = max(1, round(revert_after / 60))
        text += " " + ngettext(
            "It goes back by itself in %(num)s minute.",
            "It goes back by itself in %(num)s minutes.",
            minutes,
        )
    return text, "good"


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
        context = lesson_context(person, lesson_id, did)
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
