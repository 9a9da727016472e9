"""Tips from owners on the lesson page: write one for others, read theirs, report one; the admin sends."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlmodel import select
from werkzeug.wrappers import Response

from devices import MAX_DID
from edu.community import link as community
from edu.community import tips as community_tips
from edu.db import key
from edu.markup import tip_html
from edu.models import Device
from edu.text import whole_number
from edu.web.i18n import gettext as _
from edu.web.i18n import say
from edu.web.security import admin_required, current_person, household, login_required
from edu.web.session import db, engine, settings

logger = logging.getLogger(__name__)

bp = Blueprint("owner_tips", __name__, url_prefix="/community/tips")


def _model_of(did: int | None) -> str | None:
    home = household()
    if did is None or home is None:
        return None
    query = select(Device.model).where(Device.household_id == key(home), Device.did == did)
    return db().exec(query).first()


@bp.app_context_processor
def _lesson_tips() -> dict[str, Any]:
    def owner_tips(lesson_id: str, device: Any) -> dict[str, Any]:
        model = getattr(device, "model", None)
        hosts = settings().link_hosts
        return {
            "tips": [
                (tip, tip_html(tip.text, hosts))
                for tip in community_tips.from_owners(db(), model, lesson_id)
            ],
            "can_write": model is not None and community.link(db()) is not None,
        }

    return {"owner_tips": owner_tips, "link_hosts": settings().link_hosts}


@bp.post("/write")
@login_required
def write() -> Response:
    """Keep a tip for other owners as a draft the admin may send."""
    person, home = current_person(), household()
    assert person is not None and home is not None
    lesson = request.form.get("lesson", "")[:80]
    did = whole_number(request.form.get("device", ""), MAX_DID)
    model = _model_of(did)
    if model is None or not lesson:
        abort(404)
    try:
        community_tips.write(
            engine(),
            household_id=key(home),
            person_id=key(person),
            model=model,
            lesson=lesson,
            lang=person.language,
            text=request.form.get("text", ""),
        )
        flash(_("Thanks! Your tip waits for the admin to send it to other owners."), "good")
    except community.CommunityError as exc:
        flash(say(exc), "bad")
    return redirect(url_for("lessons.show", lesson_id=lesson, device=did))


@bp.post("/<int:draft_id>/send")
@admin_required
def send(draft_id: int) -> Response:
    """Send one tip to the hub's moderators."""
    try:
        community_tips.send(engine(), settings(), draft_id)
        flash(_("Tip sent; it appears for others once a moderator approves it."), "good")
    except community.CommunityError as exc:
        flash(say(exc), "bad")
    return redirect(url_for("community.index"))


@bp.post("/report/<int:hub_id>")
@login_required
def report(hub_id: int) -> Response:
    """Report a tip from other owners to the hub's moderators."""
    try:
        community_tips.report(engine(), settings(), hub_id)
        flash(_("Thanks, the moderators will look at it."), "good")
    except community.CommunityError as exc:
        flash(say(exc), "bad")
    return redirect(request.referrer or url_for("household.home"))
