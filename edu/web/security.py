"""Who is asking and may they: session or API token, CSRF, roles, setup gate, safe headers."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from sqlmodel import select
from werkzeug.wrappers import Response

from edu.models import Household, Person
from edu.web.session import db

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Reachable before the household is set up.
OPEN_ENDPOINTS = frozenset({"static", "setup.setup", "api.openapi"})
# Authorised by a signed token in the URL, and POSTed by mail clients without a session
# (RFC 8058 one-click unsubscribe), so no CSRF token can come with it.
CSRF_EXEMPT = frozenset({"tips.unsubscribe"})
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def instance_secret(instance: Path) -> str:
    """Return the session secret kept in the instance folder, creating it (mode 0600)."""
    path = instance / "secret.key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="ascii")
    return path.read_text(encoding="ascii").strip()


# -- CSRF -------------------------------------------------------------------------------


# What a part kept for every session of a person holds in place of the token: while such a
# part is drawn (``g.edu_drawing_kept``), csrf_token() gives this, and each request puts its
# own token in (edu.web.fragments).
CSRF_STAND_IN = "edu-csrf-stand-in"


def csrf_token() -> str:
    """Return this session's CSRF token (created on first use)."""
    if g.get("edu_drawing_kept"):
        return CSRF_STAND_IN
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    return bool(expected) and hmac.compare_digest(str(expected), given)


# -- identity ---------------------------------------------------------------------------


def is_api() -> bool:
    """Tell whether this request is for the JSON API."""
    return request.path.startswith("/api/")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _load_identity() -> Response | None:
    g.person = None
    g.via_token = False
    token = _bearer() if is_api() else None
    if token is not None:
        from edu.services.accounts import person_for_token

        person = person_for_token(db(), token)
        if person is None:
            return _json_error(401, "invalid-token", "the API token is not valid")
        g.person, g.via_token = person, True
        return None
    pid = session.get("pid")
    if pid is not None:
        person = db().get(Person, pid)
        if person is None or session.get("hid") != person.household_id:
            session.clear()
        else:
            g.person = person
    return None


def setup_done() -> bool:
    """Tell whether the household and its admin exist (cached once true)."""
    if current_app.extensions.get("edu.setup_done"):
        return True
    admin = (
        db()
        .exec(
            select(Person.id).where(Person.role == "admin", Person.pin_hash != None)  # noqa: E711
        )
        .first()
    )
    done = admin is not None
    if done:
        current_app.extensions["edu.setup_done"] = True
    return done


def household() -> Household | None:
    """Return the household (the first one; a Feature Coach instance serves one), read once
    per request (the same row of the request's session every time it is asked for)."""
    found: Household | None = g.get("edu_household")
    if found is None:
        found = db().exec(select(Household).order_by(Household.id)).first()  # type: ignore[arg-type]
        if found is not None:  # not yet set up: ask again (the setup page creates it)
            g.edu_household = found
    return found


def _json_error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def _before() -> Response | None:
    if request.endpoint == "static":
        return None
    failed = _load_identity()
    if failed is not None:
        return failed
    if request.endpoint not in OPEN_ENDPOINTS and not setup_done():
        if is_api():
            return _json_error(409, "setup-needed", "the household is not set up yet")
        return redirect(url_for("setup.setup"))
    exempt = request.endpoint in CSRF_EXEMPT
    if request.method not in SAFE_METHODS and not g.via_token and not exempt and not _csrf_ok():
        logger.info("refused a %s to %s without a valid CSRF token", request.method, request.path)
        if is_api():
            return _json_error(403, "csrf", "missing or wrong CSRF token")
        abort(403)
    return None


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Install identity loading, the setup gate, CSRF checks and safe headers."""
    app.before_request(_before)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token


# -- guards -----------------------------------------------------------------------------


def current_person() -> Person | None:
    """Return the signed-in person, if any."""
    return g.get("person")


def login_required(fn: F) -> F:
    """Let only signed-in people in; others go to the sign-in page (or get a 401)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_person() is None:
            if is_api():
                return _json_error(401, "sign-in", "sign in or send an API token")
            return redirect(url_for("setup.signin", next=request.full_path.rstrip("?")))
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let only people with one of *roles* in (403 for the others)."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            person = current_person()
            assert person is not None
            if person.role not in roles:
                if is_api():
                    return _json_error(403, "forbidden", "your role cannot do this")
                abort(403)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


admin_required = roles_required("admin")
