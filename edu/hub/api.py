"""The hub's JSON API under /hub/v1: join, report, leave (signed), adoption and OpenAPI (public)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from edu.hub import aggregates, store
from edu.hub.openapi import document
from edu.hub.protocol import MAX_BODY, SIGNATURE_HEADER, Message, ProtocolError, parse, verify

logger = logging.getLogger(__name__)

bp = Blueprint("hub_api", __name__, url_prefix="/hub/v1")


def _error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


@bp.errorhandler(ProtocolError)
def refused(exc: ProtocolError) -> tuple[Response, int]:
    # the home is not named: a key is an identity too, and the address was never here
    logger.info("hub refused a message: %s", exc.code)
    return _error(exc.code, str(exc), exc.status)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: HTTPException) -> tuple[Response, int]:
    return _error("too-large", f"a message is at most {MAX_BODY} bytes", 413)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[Response, int]:
    code = (exc.name or "error").lower().replace(" ", "-")
    return _error(code, exc.description or code, exc.code or 500)


def api_or_page_error(exc: HTTPException) -> Response | tuple[Response, int] | HTTPException:
    """Outside any blueprint (an address no route matches): JSON under /hub/v1, else the page."""
    if request.path.startswith(bp.url_prefix or "/hub/v1"):
        return http_error(exc)
    return exc


def _now() -> datetime:
    clock: Any = current_app.config["HUB_CLOCK"]
    return clock()  # type: ignore[no-any-return]


def signed(kind: str) -> tuple[Message, datetime]:
    """Read, check and verify the request's message; it must be of type *kind*."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ProtocolError("too-large", f"a message is at most {MAX_BODY} bytes", 413)
    body = request.get_data(cache=False)
    message = parse(body)
    if message.type != kind:
        raise ProtocolError("malformed", f"this address takes a {kind} message, not {message.type}")
    verify(message.key, body, request.headers.get(SIGNATURE_HEADER))
    now = _now()
    skew = current_app.extensions["hub.settings"].max_skew
    if abs(now.timestamp() - message.sent_at) > skew:
        raise ProtocolError("stale", f"sent_at is more than {skew} s off the hub's clock")
    return message, now


def published_engine() -> Any:
    """Return the hub's engine once its published table is young enough to read.

    `edu hub serve` keeps it young on a timer; without one (tests, another WSGI server) the
    first read past EDU_HUB_REFRESH_SECONDS recounts it.
    """
    engine = current_app.extensions["hub.engine"]
    every = current_app.extensions["hub.settings"].refresh_seconds
    aggregates.refresh(engine, _now(), max_age=every)
    return engine


@bp.post("/join")
def join() -> tuple[Response, int]:
    """Register a home's public key (the message is signed by that key)."""
    message, now = signed("join")
    created = store.join(current_app.extensions["hub.engine"], message, now)
    simulated = current_app.extensions["hub.settings"].simulated
    return jsonify({"joined": True, "new": created, "simulated": simulated}), (
        201 if created else 200
    )


@bp.post("/report")
def report() -> tuple[Response, int]:
    """Take a home's weekly report in place of its previous one."""
    message, now = signed("report")
    settings = current_app.extensions["hub.settings"]
    rows = store.accept_report(
        current_app.extensions["hub.engine"], message, now, settings.per_hour
    )
    return jsonify({"accepted": True, "seq": message.seq, "rows": rows}), 200


@bp.post("/leave")
def leave() -> tuple[Response, int]:
    """Delete a home and everything it reported (the published counts at the next refresh)."""
    message, now = signed("leave")
    settings = current_app.extensions["hub.settings"]
    store.leave(current_app.extensions["hub.engine"], message, now, settings.per_hour)
    return jsonify({"left": True}), 200


@bp.get("/adoption")
def adoption() -> Response | tuple[Response, int]:
    """Published adoption of one model: pairs reported by at least k homes."""
    model = (request.args.get("model") or "").strip()
    if not model or len(model) > 80:
        return _error("bad-input", "give a model: /hub/v1/adoption?model=zhimi.fan.za4", 400)
    settings = current_app.extensions["hub.settings"]
    rows = aggregates.adoption(published_engine(), model, settings.min_homes)
    response = jsonify(
        [{"capability": r.capability, "homes": r.homes, "using": r.using} for r in rows]
    )
    response.headers["Cache-Control"] = f"public, max-age={settings.cache_seconds}"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document of the hub API."""
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
