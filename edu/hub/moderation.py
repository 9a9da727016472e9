"""The moderators' pages on the hub: sign in (PIN or personal token), the queue, review, sign out.

A signed-in moderator is kept in a signed session cookie (HttpOnly, SameSite=Strict, only
under /hub/moderation, Secure when EDU_HUB_SECURE_COOKIE says the hub is served over
HTTPS) for at most SESSION_HOURS; every POST here carries the session's CSRF token. The
pages are in English or Simplified Chinese, as the browser asks. The JSON API for
moderators (a bearer token) stays as it is, in `edu.hub.tips_api`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from edu.hub import moderators, tips
from edu.hub.protocol import MAX_TIP, ProtocolError
from edu.markup import tip_html

if TYPE_CHECKING:
    from flask import Flask

    from edu.config import Settings

logger = logging.getLogger(__name__)

bp = Blueprint("hub_moderation", __name__, url_prefix="/hub/moderation")

SESSION_HOURS = 12
PAGE_TIPS = 50  # tips shown on one queue page, oldest first
CSRF_FIELD = "csrf_token"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LOCALES = {"en": "en", "zh-CN": "zh_Hans_CN"}
# No script at all; the hub's pages keep their few styles inline.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def cookie_config(settings: Settings, *, secure: bool) -> dict[str, Any]:
    """Return the Flask settings of the moderators' session cookie."""
    from edu.tips.links import instance_secret

    return {
        "SECRET_KEY": instance_secret(settings),
        "SESSION_COOKIE_NAME": "edu_hub_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_PATH": bp.url_prefix,
        "SESSION_COOKIE_SECURE": secure,
    }


def language() -> str:
    """Return the page's language, as the browser asks: zh-CN or en."""
    best = request.accept_languages.best_match(["en", "zh-CN", "zh"]) if request else None
    return "zh-CN" if best in ("zh-CN", "zh") else "en"


def init_app(app: Flask) -> None:
    """Register the pages, with the household's translations (Flask-Babel)."""
    from flask_babel import Babel

    Babel(
        app,
        locale_selector=lambda: LOCALES[language()],
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.register_blueprint(bp)


def csrf_token() -> str:
    """Return this session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _now() -> datetime:
    return current_app.config["HUB_CLOCK"]()  # type: ignore[no-any-return]


def _engine() -> Any:
    return current_app.extensions["hub.engine"]


@bp.before_request
def _identify() -> None:
    g.moderator = None
    moderator_id, since = session.get("moderator"), session.get("since")
    if isinstance(moderator_id, int) and isinstance(since, (int, float)):
        age = _now().timestamp() - since
        if 0 <= age < SESSION_HOURS * 3600:
            g.moderator = moderators.by_id(_engine(), moderator_id)
    if g.moderator is None and moderator_id is not None:
        session.pop("moderator", None)
        session.pop("since", None)
    if request.method == "POST":
        expected = session.get("csrf")
        given = request.form.get(CSRF_FIELD, "")
        if not expected or not hmac.compare_digest(str(expected), given):
            logger.info("refused a POST to %s without a valid CSRF token", request.path)
            abort(403)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _start(found: moderators.Moderator, how: str) -> Response:
    session.clear()  # a fresh session (and CSRF token) for the signed-in moderator
    session.update(moderator=found.id, since=int(_now().timestamp()))
    csrf_token()
    logger.info("moderator %s signed in with %s", found.id, how)
    return redirect(url_for("hub_moderation.queue"))


def _signin_page(error: str | None, status: int = 200, **headers: str) -> Response:
    page = render_template(
        "hub_moderation_signin.html", error=error, lang=language(), name=request.form.get("name")
    )
    return Response(page, status, headers=headers, mimetype="text/html")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Response:
    """Sign in with a name and PIN, or with the personal token."""
    if request.method == "GET":
        if g.moderator is not None:
            return redirect(url_for("hub_moderation.queue"))
        return _signin_page(None)
    if request.form.get("method") == "token":
        found = moderators.by_token(_engine(), request.form.get("token", "").strip())
        if found is None:
            return _signin_page(_("That is not a moderator's personal token."), 401)
        return _start(found, "a token")
    answer = moderators.sign_in(
        _engine(), request.form.get("name", ""), request.form.get("pin", ""), _now()
    )
    if answer.result == "limited":
        error = _(
            "Too many wrong PINs for this moderator. Wait %(seconds)s seconds, or sign in "
            "with your personal token.",
            seconds=answer.retry_after,
        )
        return _signin_page(error, 429, **{"Retry-After": str(answer.retry_after)})
    if answer.moderator is None:
        return _signin_page(_("That name and PIN do not match a moderator."), 401)
    return _start(answer.moderator, "a PIN")


@bp.post("/signout")
def signout() -> Response:
    """Forget the signed-in moderator."""
    session.clear()
    return redirect(url_for("hub_moderation.signin"))


@bp.get("/")
def queue() -> Response:
    """New and reported tips, each rendered as homes will show it."""
    if g.moderator is None:
        return redirect(url_for("hub_moderation.signin"))
    hosts = current_app.extensions["hub.settings"].link_hosts
    waiting = tips.queue(_engine())
    # rendering is the page's cost (a few ms a tip): the oldest PAGE_TIPS, the rest after them
    rows = [(row, tip_html(row.text, hosts)) for row in waiting[:PAGE_TIPS]]
    page = render_template(
        "hub_moderation_queue.html",
        rows=rows,
        total=len(waiting),
        moderator=g.moderator,
        hosts=hosts,
        max_tip=MAX_TIP,
        lang=language(),
    )
    return Response(page, mimetype="text/html")


def _refusal(exc: ProtocolError) -> str:
    if exc.status == 404:
        return _("That tip is no longer there.")
    if exc.code == "malformed":
        hosts = current_app.extensions["hub.settings"].link_hosts
        return _("A tip may link only to: %(hosts)s", hosts=", ".join(hosts) or "-")
    return _("That did not work: choose approve, reject (with a reason) or edit.")


@bp.post("/tips/<int:tip_id>")
def review(tip_id: int) -> Response:
    """Approve a tip, reject it with a reason, or correct its text and approve it."""
    if g.moderator is None:
        return redirect(url_for("hub_moderation.signin"))
    action = request.form.get("action", "")
    reason = request.form.get("reason", "").strip()
    text = request.form.get("text", "").replace("\r\n", "\n")
    if action == "reject" and not reason:
        flash(_("Say why the tip is rejected; the reason is kept with it."), "bad")
    elif action == "edit" and not 0 < len(text.strip()) <= MAX_TIP:
        flash(_("An edited tip is 1 to %(count)s characters.", count=MAX_TIP), "bad")
    else:
        try:
            tips.review(
                _engine(),
                tip_id,
                action,
                _now(),
                reason=reason,
                text=text if action == "edit" else None,
                allowed=current_app.extensions["hub.settings"].link_hosts,
            )
        except ProtocolError as exc:
            flash(_refusal(exc), "bad")
        else:
            logger.info("moderator %s: %s tip %s", g.moderator.id, action, tip_id)
            done = {
                "approve": _("Tip %(id)s approved.", id=tip_id),
                "reject": _("Tip %(id)s rejected.", id=tip_id),
                "edit": _("Tip %(id)s corrected and approved.", id=tip_id),
            }
            flash(done[action], "good")
    return redirect(url_for("hub_moderation.queue") + f"#tip-{tip_id}")
