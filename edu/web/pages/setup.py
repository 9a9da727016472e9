"""First-run setup and signing in: create the household and its admin, pick a profile, PIN."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from edu.services import accounts
from edu.services.people import LANGUAGES
from edu.web.i18n import gettext as _
from edu.web.i18n import say
from edu.web.security import csrf_token, household, setup_done
from edu.web.session import db

bp = Blueprint("setup", __name__)

COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _start_session(person_id: int, household_id: int) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    session["pid"], session["hid"] = person_id, household_id
    csrf_token()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("household.home")


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> str | Response:
    """Create the household and its admin; afterwards this page leads to sign-in."""
    if setup_done():
        return redirect(url_for("setup.signin"))
    existing = household()
    form = {
        "name": existing.name if existing else "",
        "timezone": existing.timezone if existing else "UTC",
        "language": existing.language if existing else "en",
        "admin": "",
    }
    error = None
    if request.method == "POST":
        form = {
            k: request.form.get(k, "").strip() for k in ("name", "timezone", "language", "admin")
        }
        pin, again = request.form.get("pin", ""), request.form.get("pin_again", "")
        try:
            if pin != again:
                raise ValueError(_("The two PINs are not the same."))
            admin = accounts.setup_household(
                db(),
                name=form["name"],
                timezone=form["timezone"],
                language=form["language"],
                admin_name=form["admin"],
                pin=pin,
            )
        except ValueError as exc:
            error = say(exc)
        else:
            assert admin.id is not None
            _start_session(admin.id, admin.household_id)
            flash(_("Welcome! Next, find the devices in your home."), "good")
            return redirect(url_for("devices.index"))
    return render_template(
        "setup.html", form=form, error=error, zones=COMMON_ZONES, languages=LANGUAGES
    )


@bp.route("/signin")
def signin() -> str:
    """Show the profiles to pick from."""
    home = household()
    people = accounts.profiles(db(), home) if home else []
    return render_template("signin.html", people=people, next=request.args.get("next", ""))


@bp.route("/signin/<id:person_id>", methods=["GET", "POST"])
def pin(person_id: int) -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Ask for one profile's PIN."""
    home = household()
    person = (
        next((p for p in accounts.profiles(db(), home) if p.id == person_id), None)
        if home
        else None
    )
    if person is None:
        return redirect(url_for("setup.signin"))
    target = request.values.get("next", "")
    if request.method == "GET":
        return render_template("pin.html", person=person, next=target, error=None)
    result = accounts.sign_in(
        db(),
        person_id,
        request.form.get("pin", ""),
        tries_per_minute=current_app.config["EDU_LOGIN_TRIES_PER_MINUTE"],
        client=request.remote_addr or "",
    )
    if result.result == "ok":
        _start_session(person_id, person.household_id)
        return redirect(_safe_next(target))
    if result.result == "limited":
        error = _(
            "Too many wrong PINs. Wait %(seconds)s seconds and try again.",
            seconds=result.retry_after,
        )
        page = render_template("pin.html", person=person, next=target, error=error)
        return page, 429, {"Retry-After": str(result.retry_after)}
    if result.result == "no-pin":
        error = _(
            "This profile has no PIN yet. Ask the person who set up Feature Coach to give it one."
        )
        return render_template("pin.html", person=person, next=target, error=error), 403
    return render_template(
        "pin.html", person=person, next=target, error=_("That PIN is not right.")
    ), 401


@bp.route("/signout", methods=["POST"])
def signout() -> Response:
    """Forget who is signed in."""
    session.clear()
    return redirect(url_for("setup.signin"))
