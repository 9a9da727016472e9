"""A person's home, the household's progress, people (admin) and one's own settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlmodel import col, select
from werkzeug.wrappers import Response

from devices import MAX_DID
from edu.community.link import simulated_hub
from edu.db import key, utcnow
from edu.models import Device, Person
from edu.paging import page_number
from edu.services import accounts, pin_guard
from edu.services.device_list import DeviceFilter, count_devices, device_page
from edu.services.people import LANGUAGES, ROLES, chosen_device_ids, used_devices
from edu.text import MAX_ROW_ID, plain_text, whole_number, whole_numbers
from edu.web import progress
from edu.web.fragments import kept_content
from edu.web.i18n import gettext as _
from edu.web.i18n import say
from edu.web.security import admin_required, current_person, household, login_required
from edu.web.session import db

bp = Blueprint("household", __name__)
PICK_SIZE = 50  # devices to tick on one page of a person's form


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


def _form_dids(name: str) -> list[int]:
    return whole_numbers(request.form.getlist(name), MAX_DID)


def _invite_choices(home_id: int) -> list[Device] | None:
    """Every device to tick for someone new, or None when there are too many for one form."""
    if count_devices(db(), home_id) > PICK_SIZE:
        return None
    query = select(Device).where(Device.household_id == home_id)
    return list(db().exec(query.order_by(col(Device.name), col(Device.did))))


def _picked_dids(someone: Person) -> list[int]:
    """The devices ticked on this page of the form, the person's devices on other pages kept.

    The form names the devices it showed (``shown``); a form without that list names every
    device the person should use.
    """
    checked = set(_form_dids("device"))
    if "shown" not in request.form:
        return sorted(checked)
    current = set(db().exec(select(Device.did).where(used_devices(someone))))
    return sorted((current - set(_form_dids("shown"))) | checked)


@bp.route("/")
@login_required
def home() -> str:
    """What to learn next, and how far along each device is: kept until the household
    changes (a wrong PIN changes it too), the clock passes a snooze, a new device or a
    day-old wrong PIN, or the language is another."""
    me = _me()

    def make() -> dict[str, Any]:
        data = progress.home(db(), me)
        home_ = household()
        wrong = (
            pin_guard.recent_wrong_pins(db(), home_, utcnow())
            if me.role == "admin" and home_ is not None
            else []
        )
        # asked only when a card quotes the hub's owners: a home without one reads nothing more
        simulated = any(c.reason_code == "owners" for c in data.cards) and simulated_hub(db())
        return {
            "data": data,
            "reason": progress.reason_text,
            "feature": progress.feature_title,
            "wrong_pins": wrong,
            "simulated_owners": simulated,
        }

    def changes_at(context: dict[str, Any]) -> datetime | None:
        wrong = pin_guard.wrong_pins_change_at(context["wrong_pins"])
        return min((m for m in (context["data"].until, wrong) if m), default=None)

    return kept_content("home.html", "home", me, make, until=changes_at)


@bp.route("/home/devices")
@login_required
def my_devices() -> str:
    """Every device the person uses and how far along they are, a page at a time, by name."""
    number = page_number(request.args)

    def make() -> dict[str, Any]:
        page, waiting = progress.my_devices(db(), _me(), number)
        return {"page": page, "waiting": waiting, "feature": progress.feature_title}

    return kept_content("my_devices.html", "my-devices", _me(), make, number)


@bp.route("/progress")
@admin_required
def household_progress() -> str:
    """Who uses what, a page of devices at a time, and the features nobody uses yet."""
    home = household()
    assert home is not None
    number = page_number(request.args)

    def make() -> dict[str, Any]:
        page = progress.adoption_page(db(), home, number)
        unused, more = progress.unused_features(db(), home)
        return {"page": page, "unused": unused, "more_unused": more}

    return kept_content("progress.html", "progress", _me(), make, number)


@bp.route("/people", methods=["GET", "POST"])
@admin_required
def people() -> str | Response | tuple[str, int]:
    """List the household's people and invite someone."""
    home = household()
    assert home is not None
    devices = _invite_choices(key(home))
    form: dict[str, object] = {
        "name": "",
        "role": "member",
        "language": home.language,
        "all": True,
        "dids": [],
    }
    error = None
    if request.method == "POST":
        dids = _form_dids("device")
        uses_all = request.form.get("all") == "1"
        form = {
            "name": request.form.get("name", ""),
            "role": request.form.get("role", "member"),
            "language": request.form.get("language", "en"),
            "all": uses_all,
            "dids": dids,
        }
        try:
            if request.form.get("pin", "") != request.form.get("pin_again", ""):
                raise ValueError(_("The two PINs are not the same."))
            person = accounts.invite(
                db(),
                home,
                name=str(form["name"]),
                role=str(form["role"]),
                pin=request.form.get("pin", ""),
                language=str(form["language"]),
                dids=None if uses_all else dids,
            )
        except ValueError as exc:
            error = say(exc)
        else:
            flash(_("%(name)s can now sign in with their PIN.", name=person.name), "good")
            if devices is None and not uses_all:  # too many devices to tick on this form
                return redirect(url_for("household.person", person_id=person.id, _anchor="devices"))
            return redirect(url_for("household.people"))
    everyone = accounts.profiles(db(), home)
    status = 400 if error else 200
    return render_template(
        "people.html",
        people=everyone,
        devices=devices,
        form=form,
        error=error,
        roles=ROLES,
        languages=LANGUAGES,
    ), status


@bp.route("/people/<id:person_id>", methods=["GET", "POST"])
@admin_required
def person(person_id: int) -> str | Response | tuple[str, int]:
    """Change someone's role, language, PIN and devices, or remove them."""
    home = household()
    assert home is not None
    someone = db().get(Person, person_id)
    if someone is None or someone.household_id != home.id:
        abort(404)
    error = None
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "remove":
                accounts.remove_person(db(), home, someone)
                flash(_("%(name)s was removed.", name=someone.name), "good")
                return redirect(url_for("household.people"))
            profile, devices = action in ("", "profile"), action in ("", "devices")
            accounts.update_person(
                db(),
                home,
                someone,
                role=request.form.get("role") if profile else None,
                language=request.form.get("language") if profile else None,
                pin=(request.form.get("pin") or None) if profile else None,
                dids=(None if request.form.get("all") == "1" else _picked_dids(someone))
                if devices
                else False,
            )
        except ValueError as exc:
            error = say(exc)
        else:
            flash(_("Saved."), "good")
            anchor = "devices" if action == "devices" else None
            kept: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("page", "q")}
            return redirect(
                url_for("household.person", person_id=person_id, _anchor=anchor, **kept)
            )
    found = DeviceFilter(text=plain_text(request.args.get("q", "")))
    page = device_page(db(), key(home), found, page_number(request.args), PICK_SIZE)
    return render_template(
        "person.html",
        someone=someone,
        page=page,
        found=found,
        uses=chosen_device_ids(db(), someone),
        used=count_devices(db(), key(home), None, used_devices(someone)),
        total=count_devices(db(), key(home)),
        error=error,
        roles=ROLES,
        languages=LANGUAGES,
    ), 400 if error else 200


@bp.route("/me", methods=["GET", "POST"])
@login_required
def me() -> str | Response:
    """One's own language and API tokens."""
    person = _me()
    home = household()
    assert home is not None
    new_token = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "language":
            try:
                accounts.update_person(
                    db(), home, person, language=request.form.get("language", "")
                )
            except ValueError as exc:
                flash(say(exc), "bad")
            else:
                flash(_("Language saved."), "good")
            return redirect(url_for("household.me"))
        if action == "token":
            _row, new_token = accounts.create_token(db(), person, request.form.get("name", ""))
        elif (
            action == "revoke"
            and (token_id := whole_number(request.form.get("token", ""), MAX_ROW_ID)) is not None
        ):
            accounts.revoke_token(db(), person, token_id)
            flash(_("The token was revoked."), "good")
            return redirect(url_for("household.me"))
    tokens = accounts.tokens_of(db(), person)
    return render_template(
        "me.html", person=person, tokens=tokens, new_token=new_token, languages=LANGUAGES
    )
