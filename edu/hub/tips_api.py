"""The hub's tip endpoints: homes submit and flag tips (signed), moderators review them (token)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from edu.hub import api, moderators, tips
from edu.hub.api import signed
from edu.hub.protocol import ProtocolError

bp = Blueprint("hub_tips", __name__, url_prefix="/hub/v1")
# the same one-line JSON refusals as the rest of the API
bp.register_error_handler(ProtocolError, api.refused)
bp.register_error_handler(RequestEntityTooLarge, api.too_large)
bp.register_error_handler(HTTPException, api.http_error)


def _tip(row: tips.Tip, *, queue: bool = False) -> dict[str, object]:
    shown: dict[str, object] = {
        "id": row.id,
        "model": row.model,
        "lesson": row.lesson,
        "lang": row.lang,
        "text": row.text,
    }
    if queue:
        shown |= {"state": row.state, "flags": row.flags}
    return shown


def _moderator() -> str:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    found = moderators.by_token(current_app.extensions["hub.engine"], token)
    if found is None:
        raise ProtocolError("unauthorized", "a moderator's token is needed", 401)
    return found.name


@bp.post("/tips")
def submit() -> tuple[Response, int]:
    """Queue a home's tip for the moderators."""
    message, now = signed("tip")
    settings = current_app.extensions["hub.settings"]
    tip_id = tips.submit(
        current_app.extensions["hub.engine"], message, now, settings.per_hour, settings.link_hosts
    )
    return jsonify({"id": tip_id, "state": "pending"}), 202


@bp.post("/tips/flag")
def flag() -> tuple[Response, int]:
    """A home reports a published tip; enough reports hide it until reviewed."""
    message, now = signed("flag")
    settings = current_app.extensions["hub.settings"]
    state = tips.flag_tip(
        current_app.extensions["hub.engine"], message, now, settings.per_hour, settings.tip_flags
    )
    return jsonify({"tip": message.fields["tip"], "state": state}), 200


@bp.get("/tips")
def published() -> Response | tuple[Response, int]:
    """Approved tips about a model (and a lesson): public and cacheable."""
    model = (request.args.get("model") or "").strip()
    if not model or len(model) > 80:
        raise ProtocolError("bad-input", "give a model: /hub/v1/tips?model=zhimi.fan.za4")
    lesson = request.args.get("lesson")
    if lesson is not None and not 0 < len(lesson) <= 80:
        raise ProtocolError("bad-input", "a lesson id is 1 to 80 characters")
    rows = tips.published(current_app.extensions["hub.engine"], model, lesson)
    response = jsonify([_tip(r) for r in rows])
    response.headers["Cache-Control"] = "public, max-age=600"
    return response


@bp.get("/moderation/queue")
def moderation_queue() -> Response:
    """New tips and reported ones (hidden or still shown), for a moderator."""
    _moderator()
    rows = tips.queue(current_app.extensions["hub.engine"])
    response = jsonify([_tip(r, queue=True) for r in rows])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/moderation/tips/<int:tip_id>")
def moderate(tip_id: int) -> Response:
    """Approve, reject with a reason, or edit a tip."""
    _moderator()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ProtocolError("bad-input", 'send {"action": "approve" | "reject" | "edit", ...}')
    now = current_app.config["HUB_CLOCK"]()
    row = tips.review(
        current_app.extensions["hub.engine"],
        tip_id,
        str(body.get("action", "")),
        now,
        reason=str(body.get("reason") or ""),
        text=body.get("text"),
        allowed=current_app.extensions["hub.settings"].link_hosts,
    )
    return jsonify(_tip(row, queue=True) | {"reason": row.reason})
