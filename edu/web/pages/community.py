"""The admin's Community page: off by default; join a hub, see exactly what is sent, send, leave."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from edu.community import link as community
from edu.community import tips as community_tips
from edu.web.i18n import gettext as _
from edu.web.i18n import say
from edu.web.security import admin_required, household
from edu.web.session import db, engine, settings

logger = logging.getLogger(__name__)

bp = Blueprint("community", __name__, url_prefix="/community")


@bp.get("/")
@admin_required
def index() -> str:
    """The household's membership: status, and the report as it would be sent now."""
    state = community.status(engine())
    preview = None
    if state["joined"]:
        try:
            preview = community.preview(engine(), settings()).decode()
        except community.CommunityError as exc:
            flash(say(exc), "bad")
    drafts = community_tips.drafts(db())
    home = household()
    shop = home is not None and home.kind == "store"
    return render_template("community.html", state=state, preview=preview, drafts=drafts, shop=shop)


@bp.post("/")
@admin_required
def act() -> Response:
    """Join, send now or leave, as the form says."""
    action = request.form.get("action", "")
    try:
        if action == "join":
            community.join(engine(), settings(), request.form.get("hub", ""))
            flash(_("Joined the community hub. Nothing is sent until the weekly report."), "good")
        elif action == "send":
            community.send(engine(), settings())
            flash(_("Report sent."), "good")
        elif action == "leave":
            community.leave(engine(), settings())
            flash(_("Left the hub; it deleted this home's data."), "good")
        else:
            flash(_("Choose join, send or leave."), "bad")
    except community.CommunityError as exc:
        flash(say(exc), "bad")
    return redirect(url_for("community.index"))
