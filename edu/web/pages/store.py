"""The store demo pages for staff: the board, the guided demo per device, analytics, the log.

Views stay thin: they parse the request, call ``edu.store`` and render. Only lesson ``try_it``
steps of a device's script can be run from here; nothing takes a free-form command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from edu.store import audit, board, intent, sessions
from edu.store.sessions import DemoError
from edu.web.i18n import gettext as _
from edu.web.i18n import ngettext
from edu.web.security import current_person, household
from edu.web.session import db
from edu.web.store_desk import (
    board_rows,
    board_view,
    board_views,
    clock,
    desk,
    device_demo,
    device_or_404,
    staff,
    staff_required,
)
from edu.web.words import (
    error_message,
    reset_message,
    status_words,
    step_message,
)

bp = Blueprint("demo", __name__, url_prefix="/demo")
F = TypeVar("F", bound=Callable[..., Any])


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# -- the board --------------------------------------------------------------------------


@bp.route("/")
@staff_required
def board_page() -> str:
    """Every device on the demo table with its state, refreshed live."""
    rows = board_views()
    return render_template("demo_board.html", rows=rows, shop=household(), timeout=desk().timeout)


@bp.route("/status.json")
@staff_required
def status() -> Response:
    """The board's state as JSON, for the page to refresh itself (never a token)."""
    rows = board_views()
    return jsonify(
        {
            "devices": rows,
            "running": sum(1 for r in rows if r["demo"] == "in-demo"),
            "flagged": sum(1 for r in rows if r["demo"] == "flagged"),
            "now": clock().isoformat(),
        }
    )


@bp.route("/reset-all", methods=["POST"])
@staff_required
def reset_all() -> Response:
    """Put every device in a demo (or flagged) back to its snapshot."""
    results = sessions.reset_all(desk(), staff(), now=clock())
    bad = [r for r in results if not r.ok]
    if not results:
        flash(_("Every device is already back to normal."), "good")
    elif not bad:
        flash(
            ngettext(
                "%(num)s device is back to normal, checked by reading it back.",
                "%(num)s devices are back to normal, checked by reading them back.",
                len(results),
            ),
            "good",
        )
    else:
        for result in bad:
            flash(reset_message(result), "bad")
    return redirect(url_for("demo.board_page"))


# -- one device -------------------------------------------------------------------------


@bp.route("/device/<did:did>")
@staff_required
def device(did: int) -> str:
    """The guided demo of one device: its script, one big "show it" per step."""
    found = device_or_404(did)
    row = board_view(did)  # after demos left idle are put back
    demo = device_demo(found)
    return render_template(
        "demo_device.html",
        device=found,
        row=row,
        run=demo.run,
        steps=demo.steps,
        shown=demo.shown,
        timeout=desk().timeout,
    )


@bp.route("/device/<did:did>/start", methods=["POST"])
@staff_required
def start(did: int) -> Response:
    """Save the device's settings, then start its demo."""
    device_or_404(did)
    try:
        sessions.start(desk(), staff(), did, now=clock())
    except DemoError as exc:
        flash(error_message(exc, device_or_404(did).display_name), "bad")
    return redirect(url_for("demo.device", did=did))


@bp.route("/device/<did:did>/show/<lesson_id>", methods=["POST"])
@staff_required
def show(did: int, lesson_id: str) -> Response | tuple[Response, int, dict[str, str]]:
    """Run one step of the script on the device and say what the device now shows."""
    name = device_or_404(did).display_name
    person = current_person()
    try:
        shown = sessions.show(
            desk(), staff(), did, lesson_id, lang=person.language if person else "en", now=clock()
        )
    except DemoError as exc:
        message, tone, ok = error_message(exc, name), "bad", False
        status = 429 if exc.code == "busy" else 409
        wait = {"Retry-After": str(max(1, round(exc.retry_after)))} if status == 429 else {}
    else:
        message, tone = step_message(shown.outcome)
        ok, status, wait = shown.outcome.ok, 200, {}
    if _wants_json():
        words, state = status_words(next(r.status for r in board_rows() if r.did == did))
        return (
            jsonify(
                {
                    "ok": ok,
                    "message": message,
                    "tone": tone,
                    "lesson": lesson_id,
                    "status_text": words,
                    "status_tone": state,
                }
            ),
            status,
            wait,
        )
    flash(message, tone)
    return redirect(url_for("demo.device", did=did) + f"#step-{lesson_id}")


def _restore(did: int, action: Callable[..., sessions.Reset]) -> Response:
    device_or_404(did)
    result = action(desk(), staff(), did, now=clock())
    flash(reset_message(result), "good" if result.ok else "bad")
    target = request.form.get("next", "")
    if target == "device":
        return redirect(url_for("demo.device", did=did))
    return redirect(url_for("demo.board_page"))


@bp.route("/device/<did:did>/end", methods=["POST"])
@staff_required
def end(did: int) -> Response:
    """End the demo (as a sale intent when staff say so): put every setting back and check it."""
    if request.form.get("intent") != "sale":
        return _restore(did, sessions.end)
    name = device_or_404(did).display_name
    try:
        result = intent.end_with_intent(desk(), staff(), did, now=clock())
    except DemoError as exc:
        flash(error_message(exc, name), "bad")
        return redirect(url_for("demo.device", did=did))
    flash(_("Counted: the customer wants to buy the %(name)s.", name=name), "good")
    flash(reset_message(result), "good" if result.ok else "bad")
    return redirect(url_for("demo.board_page"))


@bp.route("/device/<did:did>/reset", methods=["POST"])
@staff_required
def reset(did: int) -> Response:
    """Put the device back to its snapshot (a flagged device, or a demo left running)."""
    return _restore(did, sessions.reset)


# -- the shop's figures and the log ----------------------------------------------------


@bp.route("/analytics")
@staff_required
def analytics() -> str:
    """Demos run, features shown, time per device, what customers asked to see again."""
    figures = board.analytics(db(), staff().household_id, now=clock())
    return render_template("demo_analytics.html", figures=figures)


@bp.route("/log")
@staff_required
def log() -> str:
    """Who did what on the demo table, newest first."""
    home = household()
    rows = audit.recent(db(), staff().household_id)
    return render_template("demo_log.html", rows=rows, tz=home.timezone if home else "UTC")


@bp.app_template_filter("local_time")
def local_time(when: datetime, tz: str) -> str:
    """Format a UTC time as the shop's local day and time."""
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%d %b %H:%M")
