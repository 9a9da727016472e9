"""The household's JSON API under /api/v1: what the pages show, with the same sign-in or a personal token."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, jsonify, request
from sqlmodel import select
from werkzeug.wrappers import Response

from devices import MAX_DID
from edu.db import key, unit, utcnow
from edu.models import Device, DeviceCapability, Person
from edu.services import accounts
from edu.services.device_list import capabilities_of, devices_after
from edu.services.lessons import lesson_context
from edu.services.people import NotFound, mark_lesson, may_see_device
from edu.services.progress import device_progress
from edu.services.recommend import changes_at, recommend
from edu.services.tryit import TryItError, try_lesson
from edu.state import load_state
from edu.text import plain_text, whole_number
from edu.web import progress
from edu.web.api.common import (
    install_json_errors,
    json_body,
    json_error,
    kept_answer,
    keyset,
    paged,
)
from edu.web.api.openapi import document
from edu.web.doctor import diagnose
from edu.web.security import admin_required, current_person, household, login_required
from edu.web.session import db, inventory, jsonable, scans, settings, start_scan

bp = Blueprint("api", __name__, url_prefix="/api/v1")

T = TypeVar("T")


def _name(value: object) -> str:
    """Return a name without control characters (PostgreSQL refuses NUL), at most 60 long."""
    return plain_text(value)


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


install_json_errors(bp)


@bp.route("/openapi.json")
def openapi() -> Response:
    """The public OpenAPI document describing this API."""
    return jsonify(document())


@bp.route("/me")
@login_required
def me() -> Response:
    """Who this is."""
    person = _me()
    return jsonify(
        {"id": person.id, "name": person.name, "role": person.role, "language": person.language}
    )


@bp.route("/recommendations")
@login_required
def recommendations() -> Response:
    """What to learn next, ranked, with reasons."""
    count = whole_number(request.args.get("limit", "20"), 10**6)
    me, now = _me(), utcnow()

    def make() -> tuple[Response, datetime | None]:
        state = load_state(db(), me.household_id)
        limit = 20 if count is None else min(max(count, 1), 200)
        items = recommend(db(), me, limit=limit, state=state, now=now)
        answer = [{**item.to_dict(), "reason_text": progress.reason_text(item)} for item in items]
        return jsonify(answer), changes_at(state, key(me), now)

    return kept_answer("api-recommendations", make)


@bp.route("/progress")
@login_required
def my_progress() -> Response:
    """Per device the person uses, by device id: features in use and not yet used."""
    after, limit = keyset()

    def make() -> tuple[Response, datetime | None]:
        rows = [r for r in device_progress(db(), _me()) if after is None or r.device > after]
        return paged(rows, limit, lambda r: r.device, lambda r: r.to_dict()), None

    return kept_answer("api-progress", make)


@bp.route("/household/progress")
@admin_required
def household_progress() -> Response:
    """Who in the household uses what, per device by device id (admin)."""
    home = household()
    assert home is not None
    after, limit = keyset()

    def make() -> tuple[Response, datetime | None]:
        rows = progress.household_progress(db(), home, after=after, limit=limit + 1)
        return paged(rows, limit, lambda r: r.did, lambda r: r.to_dict()), None

    return kept_answer("api-household-progress", make)


def _device_json(device: Device, caps: list[DeviceCapability] | None = None) -> dict[str, Any]:
    row = inventory().describe(db(), device, caps)
    diagnosis = diagnose(device, settings().networks)
    row["status_words"] = diagnosis.words
    row["doctor"] = diagnosis.to_dict()
    return jsonable(row)


def _my_device(did: int) -> Device:
    person = _me()
    device = (
        db()
        .exec(select(Device).where(Device.household_id == person.household_id, Device.did == did))
        .first()
    )
    if device is None or not may_see_device(db(), person, device):
        abort(404, "no such device")
    return device


@bp.route("/devices", methods=["GET"])
@login_required
def devices() -> Response:
    """The devices by device id: all of them for an admin, the ones they use for everyone else."""
    after, limit = keyset()

    def make() -> tuple[Response, datetime | None]:
        rows = devices_after(db(), _me(), after, limit + 1)
        caps = capabilities_of(db(), rows[:limit])
        return paged(rows, limit, lambda d: d.did, lambda d: _device_json(d, caps[d.id])), None

    return kept_answer("api-devices", make)


@bp.route("/devices", methods=["POST"])
@admin_required
def add_device() -> tuple[Response, int]:
    """Add a device by address and token (admin)."""
    from devices.tokens import normalize_token
    from edu.services.inventory import InventoryError, TokenRejected

    body = json_body()
    ip, token, name = str(body.get("ip", "")), str(body.get("token", "")), body.get("name")
    try:
        normalize_token(token)
        row = inventory().add(ip, token, name=_name(name or "") or None)
    except TokenRejected as exc:
        return json_error(422, "token-rejected", str(exc))  # well-formed, refused by the device
    except InventoryError:
        return json_error(422, "no-answer", "no device answered at that address")
    except ValueError as exc:
        if "--allow-public" in str(exc):  # a public address: never reached (EDU_ALLOW_PUBLIC)
            return json_error(400, "public-address", str(exc))
        return json_error(400, "bad-input", "give an IP address and a 32-character token")
    return jsonify(_device_json(_my_device(row["did"]))), 201


@bp.route("/devices/<did:did>", methods=["GET"])
@login_required
def device(did: int) -> Response:
    """One device, with the network doctor's explanation."""
    return jsonify(_device_json(_my_device(did)))


@bp.route("/devices/<did:did>", methods=["PATCH", "DELETE"])
@admin_required
def change_device(did: int) -> Response | tuple[Response, int]:
    """Rename a device (PATCH {"name"}) or remove it (DELETE)."""
    found = _my_device(did)
    if request.method == "DELETE":
        with unit(db()):
            db().delete(found)
        inventory().coordinator.forget(did)
        return jsonify({"removed": did})
    name = _name(json_body().get("name", ""))
    with unit(db()):
        found.name = name
        db().add(found)
    return jsonify(_device_json(found))


@bp.route("/devices/scan", methods=["GET"])
@admin_required
def scan_status() -> Response:
    """How the current scan is going."""
    return jsonify(scans().state.to_dict())


@bp.route("/devices/scan", methods=["POST"])
@admin_required
def scan() -> tuple[Response, int]:
    """Start a scan of the configured networks."""
    started, problem = start_scan()
    if problem:
        return json_error(409, "cannot-scan", problem)
    return jsonify({**scans().state.to_dict(), "started": started}), 202


@bp.route("/lessons/<lesson_id>")
@login_required
def lesson(lesson_id: str) -> Response:
    """A lesson in the person's language (English fallback), as sanitised HTML."""
    did = whole_number(request.args.get("device", ""), MAX_DID)
    home = household()
    assert home is not None
    try:
        context = lesson_context(db(), home, _me(), lesson_id, did, inventory().coordinator.specs)
    except NotFound:
        abort(404, "no such lesson")
    item = context["lesson"]
    device_row = context["device"]
    return jsonify(
        {
            "id": item.id,
            "lang": item.lang,
            "capability": item.capability,
            "title": item.title,
            "summary": item.summary,
            "level": item.level,
            "minutes": item.minutes,
            "html": context["body"],
            "automatic": item.automatic,
            "device": device_row.did if device_row else None,
            "in_use": context["in_use"],
            "can_try": context["can_try"],
        }
    )


@bp.route("/lessons/<lesson_id>/try", methods=["POST"])
@login_required
def try_now(lesson_id: str) -> Response | tuple[Response, int]:
    """Run the lesson's try_it on a device ({"device": did}) and say what the device now says."""
    person = _me()
    did = whole_number(json_body().get("device"), MAX_DID)
    if did is None:
        return json_error(400, "bad-input", "give the device id as device")
    assert person.id is not None
    try:
        outcome = try_lesson(inventory(), person_id=person.id, lesson_id=lesson_id, did=did)
    except TryItError as exc:
        return json_error(404 if exc.code == "not-found" else 409, exc.code, str(exc))
    return jsonify(jsonable(outcome.to_dict())), 200 if outcome.ok else 502


@bp.route("/lessons/<lesson_id>/<any(known, later):what>", methods=["POST"])
@login_required
def mark(lesson_id: str, what: str) -> Response:
    """Mark a lesson as known, or snooze it."""
    from datetime import timedelta

    from edu.db import utcnow

    state = "done" if what == "known" else "snoozed"
    until = (
        utcnow() + timedelta(days=current_app.config["EDU_SNOOZE_DAYS"])
        if state == "snoozed"
        else None
    )
    try:
        with unit(db()):
            row = mark_lesson(db(), _me(), lesson_id, state, until=until)
    except NotFound:
        abort(404, "no such lesson")
    return jsonify(
        {
            "lesson": lesson_id,
            "state": row.state,
            "until": row.until.isoformat() if row.until else None,
        }
    )


@bp.route("/tokens", methods=["GET"])
@login_required
def tokens() -> Response:
    """The person's API tokens (never the tokens themselves)."""
    return jsonify(
        [
            {"id": t.id, "name": t.name, "hint": t.hint, "created_at": t.created_at.isoformat()}
            for t in accounts.tokens_of(db(), _me())
        ]
    )
