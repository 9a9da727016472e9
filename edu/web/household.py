"""A person's home, the household's progress, people (admin) and one's own settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import col, select
from werkzeug.wrappers import Response

from edu.models import Device, Person
from edu.people import LANGUAGES, ROLES, chosen_device_ids
from edu.web import accounts, progress
from edu.web.i18n import say
from edu.web.paging import page_number
from edu.web.security import admin_required, current_person, household, login_required
from edu.web.session import db

bp = Blueprint("household", __name__)


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


def _devices() -> list[Device]:
    home = household()
    assert home is not None
    return list(
        db().exec(
            select(Device)
            .where(Device.household_id == home.id)
            .order_by(col(Device.name), col(Device.did))
        )
    )


@bp.route("/")
@login_required
def home() -> str:
    """What to learn next, and how far along each device is."""
    data = progress.home(db(), _me())
    return render_template(
        "home.html", data=data, reason=progress.reason_text, feature=progress.feature_title
    )


@bp.route("/home/devices")
@login_required
def my_devices() -> str:
    """Every device the person uses and how far along they are, a page at a time, by name."""
    page, waiting = progress.my_devices(db(), _me(), page_number(request.args))
    return render_template(
        "my_devices.html", page=page, waiting=waiting, feature=progress.feature_title
    )


@bp.route("/progress")
@admin_required
def household_progress() -> str:
    """Who uses what, a page of devices at a time, and the features nobody uses yet."""
    home = household()
    assert home is not None
    page = progress.adoption_page(db(), home, page_number(request.args))
    unused, more = progress.unused_features(db(), home)
    return render_template("progress.html", page=page, unused=unused, more_unused=more)


@bp.route("/people", methods=["GET", "POST"])
@admin_required
def people() -> str | Response | tuple[str, int]:
    """List the household's people and invite someone."""
    home = household()
    assert home is not None
    devices = _devices()
    form: dict[str, object] = {
        "name": "",
        "role": "member",
        "language": home.language,
        "all": True,
        "dids": [],
    }
    error = None
    if request.method == "POST":
        dids = [int(d) for d in request.form.getlist("device") if d.isdigit()]
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


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@admin_required
def person(person_id: int) -> str | Response | tuple[str, int]:
    """Change someone's role, language, PIN and devices, or remove them."""
    home = household()
    assert home is not None
    someone = db().get(Person, person_id)
    if someone is None or someone.household_id != home.id:
        abort(404)
    devices = _devices()
    error = None
    if request.method == "POST":
        try:
            if request.form.get("action") == "remove":
                accounts.remove_person(db(), home, someone)
                flash(_("%(name)s was removed.", name=someone.name), "good")
                return redirect(url_for("household.people"))
            uses_all = request.form.get("all") == "1"
            dids = [int(d) for d in request.form.getlist("device") if d.isdigit()]
            accounts.update_person(
                db(),
                home,
                someone,
                role=request.form.get("role"),
                language=request.form.get("language"),
                pin=request.form.get("pin") or None,
                dids=None if uses_all else dids,
            )
        except ValueError as exc:
            error = say(exc)
        else:
            flash(_("Saved."), "good")
            return redirect(url_for("household.person", person_id=person_id))
    uses = {d.id for d in devices if someone.uses_all_devices} | chosen_device_ids(db(), someone)
    return render_template(
        "person.html",
        someone=someone,
        devices=devices,
        uses=uses,
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
        elif action == "revoke" and request.form.get("token", "").isdigit():
            accounts.revoke_token(db(), person, int(request.form["token"]))
            flash(_("The token was revoked."), "good")
            return redirect(url_for("household.me"))
    tokens = accounts.tokens_of(db(), person)
    return render_template(
        "me.html", person=person, tokens=tokens, new_token=new_token, languages=LANGUAGES
    )
