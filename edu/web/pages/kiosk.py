"""The customer kiosk: attract mode over the table's features, read-only, left only with a staff PIN.

A browser that opens the kiosk is signed out and held there: every other page sends it back,
until a member of staff picks their name and enters their PIN. The kiosk shows lessons, never
a setting, a device command or a staff control.
"""

from __future__ import annotations

import logging
import re

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlmodel import col, select
from werkzeug.wrappers import Response

from edu.db import unit
from edu.models import Person
from edu.services import accounts
from edu.store import audit, kiosk
from edu.store.audit import Staff
from edu.web.i18n import gettext as _
from edu.web.security import csrf_token, household, is_api
from edu.web.session import db
from edu.web.store_desk import clock, staff, staff_required

logger = logging.getLogger(__name__)

SLIDES_PER_DEVICE = 2
STAFF_ROLES = ("staff", "admin")
MAX_SLIDES = 14
# The "try it now" part of a lesson is about a button the kiosk does not have.
_TRY_SECTION = re.compile(r"^## (?:Try it now|立即试用)[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
KIOSK_ENDPOINTS = frozenset({"static", "kiosk.kiosk", "kiosk.kiosk_feature", "kiosk.kiosk_exit"})


def _shop_id() -> int:
    home = household()
    if home is None or home.kind != "store":
        abort(404)
    assert home.id is not None
    return home.id


def _language() -> str:
    home = household()
    return home.language if home is not None else "en"


def _enter(household_id: int) -> None:
    """Sign out whoever used this browser and hold it in kiosk mode."""
    session.clear()
    session["kiosk"] = household_id
    csrf_token()


def open_kiosk() -> Response:
    """Turn this screen into the customer kiosk (staff press this on the board)."""

    who = staff()
    with unit(db()):
        audit.record(db(), who, "kiosk-open", now=clock())
    _enter(who.household_id)
    return redirect(url_for("kiosk.kiosk"))


def kiosk_page() -> str:
    """Attract mode: loop through the features of the devices on the table."""
    shop = _shop_id()
    if session.get("kiosk") != shop:
        _enter(shop)
    table = kiosk.table(db(), shop, lang=_language())
    # round robin over the devices, so the loop does not dwell on one of them
    slides = [
        (item, item.steps[rank])
        for rank in range(SLIDES_PER_DEVICE)
        for item in table
        if rank < len(item.steps)
    ][:MAX_SLIDES]
    return render_template("kiosk.html", table=table, slides=slides, shop=household())


def kiosk_feature(did: int, lesson_id: str) -> str:
    """One feature, in large type, for a customer who tapped it."""
    from edu.services.lessons import rendered

    shop = _shop_id()
    if session.get("kiosk") != shop:
        _enter(shop)
    found = kiosk.feature(db(), shop, did, lesson_id, lang=_language())
    if found is None:
        abort(404)
    item, step = found
    with unit(db()):
        kiosk.record_view(db(), shop, did, step, now=clock())
    from edu.catalogue import catalogue

    lesson = catalogue().get(lesson_id, _language())
    body = rendered(without_try_it(lesson.body), item.family) if lesson is not None else ""
    return render_template("kiosk_feature.html", item=item, step=step, body=body, shop=household())


def kiosk_exit() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Leave the kiosk: a member of staff picks their name and enters their PIN."""

    shop = _shop_id()
    people = list(
        db().exec(
            select(Person)
            .where(
                Person.household_id == shop,
                col(Person.role).in_(("staff", "admin")),
                col(Person.pin_hash).is_not(None),
            )
            .order_by(col(Person.name))
        )
    )
    if request.method == "GET":
        return render_template(
            "kiosk_exit.html", people=people, error=None, chosen=None, shop=household()
        )
    raw = request.form.get("person", "")
    person = next((p for p in people if str(p.id) == raw), None)
    if person is None or person.id is None:
        return render_template(
            "kiosk_exit.html",
            people=people,
            chosen=None,
            shop=household(),
            error=_("Pick your name first."),
        ), 400
    result = accounts.sign_in(
        db(),
        person.id,
        request.form.get("pin", ""),
        tries_per_minute=current_app.config["EDU_LOGIN_TRIES_PER_MINUTE"],
        client=request.remote_addr or "",
    )
    who = Staff(person.id, person.name, shop)
    if result.result != "ok":
        with unit(db()):
            audit.record(db(), who, "kiosk-exit-refused", detail=result.result, now=clock())
        error = (
            _("Too many wrong PINs. Wait %(seconds)s seconds.", seconds=result.retry_after)
            if result.result == "limited"
            else _("That PIN is not right.")
        )
        code = 429 if result.result == "limited" else 401
        wait = {"Retry-After": str(result.retry_after)} if code == 429 else {}
        return (
            render_template(
                "kiosk_exit.html", people=people, chosen=person.id, error=error, shop=household()
            ),
            code,
            wait,
        )
    with unit(db()):
        audit.record(db(), who, "kiosk-exit", now=clock())
    session.clear()
    session["pid"], session["hid"] = person.id, shop
    csrf_token()
    return redirect(url_for("demo.board_page"))


def without_try_it(body: str) -> str:
    """Return a lesson body without its "try it now" section."""
    return _TRY_SECTION.sub("", body)


def _hold() -> Response | None:
    """Keep a kiosk browser on the kiosk; a shop's staff and admins start on the demo table."""
    if session.get("kiosk") is not None:
        if request.endpoint in KIOSK_ENDPOINTS:
            return None
        if is_api():
            response = jsonify({"error": "kiosk", "message": "this screen is a kiosk"})
            response.status_code = 403
            return response
        return redirect(url_for("kiosk.kiosk"))
    person = g.get("person")
    if person is not None and person.role in STAFF_ROLES and request.endpoint == "household.home":
        home = household()
        if home is not None and home.kind == "store":
            return redirect(url_for("demo.board_page"))
    return None


bp = Blueprint("kiosk", __name__, url_prefix="/demo")
bp.add_url_rule("/kiosk/open", "kiosk_open", staff_required(open_kiosk), methods=["POST"])
bp.add_url_rule("/kiosk", "kiosk", kiosk_page)
bp.add_url_rule("/kiosk/<did:did>/<lesson_id>", "kiosk_feature", kiosk_feature)
bp.add_url_rule("/kiosk/exit", "kiosk_exit", kiosk_exit, methods=["GET", "POST"])
bp.before_app_request(_hold)
