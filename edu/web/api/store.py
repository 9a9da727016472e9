"""The store demo in the JSON API: the board, a device's guided demo, show a step, put it back.

The same services as the demo pages (edu.store.sessions), the same words in the person's
language, and the same rules: staff and admins of a shop only (a home gets 404), only a
step of the device's script can be shown, one command per device per second.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from edu.store import intent, sessions
from edu.store.sessions import DemoError
from edu.web import store_desk as demo
from edu.web.api.common import install_json_errors, json_body, json_error, keyset, paged
from edu.web.security import current_person
from edu.web.session import jsonable
from edu.web.words import error_message, reset_message, step_message

bp = Blueprint("store_api", __name__, url_prefix="/api/v1")
install_json_errors(bp)

# What a refused demo request answers: the step is not possible now, or the device is busy.
_STATUS = {"busy": 429, "not-found": 404, "not-store": 404}


def _refused(exc: DemoError, name: str) -> tuple[Response, int]:
    response, status = json_error(_STATUS.get(exc.code, 409), exc.code, error_message(exc, name))
    if exc.code == "busy":
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response, status


def _device(found: Any) -> dict[str, Any]:
    """One device's board row and its guided demo."""
    return {**demo.board_view(found.did), **demo.device_demo(found).to_dict()}


def _reset(result: sessions.Reset) -> tuple[Response, int]:
    body = {**jsonable(result.to_dict()), "message": reset_message(result)}
    return jsonify(body), 200 if result.ok else 502


@bp.route("/demo/devices", methods=["GET"])
@demo.staff_required
def demo_devices() -> Response:
    """Every device on the demo table, by device id, with its state in plain words."""
    after, limit = keyset()
    rows = [r for r in demo.board_views() if after is None or r["did"] > after]
    rows.sort(key=lambda r: r["did"])
    return paged(rows[: limit + 1], limit, lambda r: r["did"], lambda r: r)


@bp.route("/demo/devices/<did:did>", methods=["GET"])
@demo.staff_required
def demo_device(did: int) -> Response:
    """One device: its state and its guided demo, step by step."""
    return jsonify(_device(demo.device_or_404(did)))


@bp.route("/demo/devices/<did:did>/start", methods=["POST"])
@demo.staff_required
def demo_start(did: int) -> Response | tuple[Response, int]:
    """Save the device's settings, then start its demo (a demo already on carries on)."""
    found = demo.device_or_404(did)
    try:
        sessions.start(demo.desk(), demo.staff(), did, now=demo.clock())
    except DemoError as exc:
        return _refused(exc, found.display_name)
    return jsonify(_device(found))


@bp.route("/demo/devices/<did:did>/show", methods=["POST"])
@demo.staff_required
def demo_show(did: int) -> Response | tuple[Response, int]:
    """Run one step of the script ({"lesson": id}) and say what the device now shows."""
    found = demo.device_or_404(did)
    lesson = json_body().get("lesson")
    if not isinstance(lesson, str) or not lesson:
        return json_error(400, "bad-input", "give the step's lesson id as lesson")
    person = current_person()
    try:
        shown = sessions.show(
            demo.desk(),
            demo.staff(),
            did,
            lesson,
            lang=person.language if person else "en",
            now=demo.clock(),
        )
    except DemoError as exc:
        return _refused(exc, found.display_name)
    message, tone = step_message(shown.outcome)
    body = {
        **jsonable(shown.outcome.to_dict()),
        "lesson": lesson,
        "again": shown.again,
        "message": message,
        "tone": tone,
    }
    return jsonify(body), 200 if shown.outcome.ok else 502


@bp.route("/demo/devices/<did:did>/end", methods=["POST"])
@demo.staff_required
def demo_end(did: int) -> tuple[Response, int]:
    """End the demo ({"sale_intent": true} when the customer wants to buy): put it back, check it."""
    found = demo.device_or_404(did)
    wish = json_body().get("sale_intent", False)
    if not isinstance(wish, bool):
        return json_error(400, "bad-input", "sale_intent is true or false")
    if not wish:
        return _reset(sessions.end(demo.desk(), demo.staff(), did, now=demo.clock()))
    try:
        result = intent.end_with_intent(demo.desk(), demo.staff(), did, now=demo.clock())
    except DemoError as exc:
        return _refused(exc, found.display_name)
    return _reset(result)


@bp.route("/demo/devices/<did:did>/reset", methods=["POST"])
@demo.staff_required
def demo_reset(did: int) -> tuple[Response, int]:
    """Put the device back to its snapshot (a flagged device, or a demo left running)."""
    demo.device_or_404(did)
    return _reset(sessions.reset(demo.desk(), demo.staff(), did, now=demo.clock()))


@bp.route("/demo/reset-all", methods=["POST"])
@demo.staff_required
def demo_reset_all() -> tuple[Response, int]:
    """Put back every device in a demo or flagged; 502 when one could not be put back."""
    results = sessions.reset_all(demo.desk(), demo.staff(), now=demo.clock())
    body = [{**jsonable(r.to_dict()), "message": reset_message(r)} for r in results]
    return jsonify(body), 200 if all(r.ok for r in results) else 502
