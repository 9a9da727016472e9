"""Tips pages: the inbox (unread count in the header), tip settings with channels, unsubscribe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import col, select
from werkzeug.wrappers import Response

from devices import MAX_DID
from edu.db import unit
from edu.models import Device, Person
from edu.services.people import NotFound, seen_devices
from edu.text import whole_number, whole_numbers
from edu.tips import inbox as tip_inbox
from edu.tips import policy as rules
from edu.tips import service
from edu.tips.links import read_unsubscribe_token
from edu.tips.models import TipChannel, TipMute
from edu.web.i18n import gettext as _
from edu.web.i18n import say
from edu.web.security import current_person, household, login_required
from edu.web.session import db, engine, settings

bp = Blueprint("tips", __name__, url_prefix="/tips")

STATUS_TONES = {
    "sent": "good",
    "sending": "neutral",
    "retry": "warn",
    "failed": "bad",
    "cancelled": "neutral",
}


def _me() -> Person:
    person = current_person()
    assert person is not None
    return person


def _timezone() -> str:
    home = household()
    return home.timezone if home is not None else "UTC"


def unread_tips() -> int:
    """Return the signed-in person's unread tips (for the header), once per request."""
    if "edu_tips_unread" not in g:
        person = current_person()
        g.edu_tips_unread = tip_inbox.unread_count(db(), person) if person is not None else 0
    return int(g.edu_tips_unread)


@bp.app_context_processor
def _header() -> dict[str, Any]:
    return {"tips_unread": unread_tips, "tip_status_tone": STATUS_TONES.get}


def status_text(status: str) -> str:
    """Say a delivery status in words."""
    return {
        "sent": _("sent"),
        "sending": _("sending"),
        "retry": _("will retry"),
        "failed": _("failed"),
        "cancelled": _("cancelled"),
    }.get(status, status)


@bp.route("/")
@login_required
def index() -> str:
    """The person's tips, newest first, with how each channel fared."""
    tz = _timezone()
    items = tip_inbox.inbox(db(), _me(), limit=100)
    for item in items:
        when = rules.to_local(datetime.fromisoformat(item["created_at"]), tz)
        item["when"] = when.strftime("%Y-%m-%d %H:%M")
    return render_template("tips_inbox.html", items=items, status_text=status_text)


@bp.route("/<id:item_id>/read", methods=["POST"])
@login_required
def read(item_id: int) -> Response:
    """Mark one tip read."""
    with unit(db()) as session:
        tip_inbox.mark_read(session, _me(), item_id)
    return redirect(url_for("tips.index"))


@bp.route("/read", methods=["POST"])
@login_required
def read_all() -> Response:
    """Mark every tip read."""
    with unit(db()) as session:
        tip_inbox.mark_read(session, _me())
    return redirect(url_for("tips.index"))


def _devices(person: Person) -> list[Device]:
    query = select(Device).where(seen_devices(person))  # a member: only the devices they use
    return list(db().exec(query.order_by(col(Device.name), col(Device.did))))


def _save_policy(person: Person) -> None:
    form = request.form
    tz = _timezone()
    snooze = form.get("snooze_until", "").strip()
    with unit(db()) as session:
        service.set_policy(
            session,
            person,
            cadence=form.get("cadence") or None,
            weekday=form.get("weekday") or None,
            at=form.get("at") or None,
            quiet=f"{form.get('quiet_start', '')}-{form.get('quiet_end', '')}"
            if form.get("quiet_start")
            else None,
            daily_cap=_number(form.get("daily_cap")),
            weekly_cap=_number(form.get("weekly_cap")),
            snooze_until=service.snooze_moment(snooze, tz)
            if snooze and not form.get("clear_snooze")
            else None,
            clear_snooze=bool(form.get("clear_snooze")) or (not snooze and "snooze_until" in form),
        )
        muted = set(whole_numbers(form.getlist("mute"), MAX_DID))
        for device in _devices(person):
            service.mute_device(session, person, device, device.did in muted)


def _number(text: str | None) -> int | None:
    if not text:
        return None
    cap = whole_number(text, 1000)
    if cap is None:
        raise ValueError(_("A cap is a whole number of tips."))
    return cap


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings_page() -> str | Response | tuple[str, int]:
    """Cadence, time, quiet hours, caps, snooze, muted devices and channels."""
    person = _me()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "policy":
                _save_policy(person)
                flash(_("Tip settings saved."), "good")
            elif action == "channel":
                with unit(db()) as session:
                    channel = service.add_channel(
                        session, settings(), person, request.form.get("url", "")
                    )
                flash(
                    _("Channel added: %(label)s. Send a test to check it.", label=channel.label),
                    "good",
                )
            else:
                abort(400)
        except ValueError as exc:
            db().rollback()
            error = say(exc)
        else:
            return redirect(url_for("tips.settings_page"))
    view = service.policy_view(db(), person)
    muted = {
        row.device_id
        for row in db().exec(select(TipMute).where(col(TipMute.person_id) == person.id))
    }
    context = {
        "policy": view,
        "weekdays": rules.WEEKDAYS,
        "devices": _devices(person),
        "muted": muted,
        "channels": service.list_channels(db(), person),
        "failed": tip_inbox.failed_deliveries(db(), person),
        "error": error,
        "snooze_date": (view["snooze_until"] or "")[:10],
    }
    page = render_template("tips_settings.html", **context)
    return (page, 400) if error else page


def _channel(channel_id: int) -> TipChannel:
    row = db().get(TipChannel, channel_id)
    if row is None or row.person_id != _me().id:
        abort(404)
    return row


@bp.route("/channels/<id:channel_id>/test", methods=["POST"])
@login_required
def test_channel(channel_id: int) -> Response:
    """Send a test message on one channel and say how it went."""
    row = _channel(channel_id)
    person_id = _me().id
    assert person_id is not None
    db().rollback()  # no transaction stays open while the channel answers
    result = service.test_channel(engine(), settings(), person_id, str(row.id))
    if result.ok:
        flash(_("Test sent to %(label)s.", label=row.label), "good")
    else:
        flash(
            _("The test to %(label)s failed: %(error)s", label=row.label, error=result.error), "bad"
        )
    return redirect(url_for("tips.settings_page"))


@bp.route("/channels/<id:channel_id>/remove", methods=["POST"])
@login_required
def remove_channel(channel_id: int) -> Response:
    """Remove one channel."""
    row = _channel(channel_id)
    with unit(db()) as session:
        view = service.remove_channel(session, settings(), _me(), str(row.id))
    flash(_("Channel removed: %(label)s", label=view.label), "good")
    return redirect(url_for("tips.settings_page"))


@bp.route("/unsubscribe", methods=["GET", "POST"])
def unsubscribe() -> str | tuple[str, int]:
    """One-click unsubscribe from a tip: no sign-in; GET asks, POST (or a mail client's) does it."""
    token = request.args.get("token", "")
    try:
        target = read_unsubscribe_token(settings(), token)
    except ValueError:
        return render_template("tips_unsubscribe.html", invalid=True), 400
    person = db().get(Person, target.person_id)
    if person is None:
        return render_template("tips_unsubscribe.html", invalid=True), 400
    channel = db().get(TipChannel, target.channel_id) if target.channel_id else None
    if request.method == "GET":
        return render_template(
            "tips_unsubscribe.html",
            invalid=False,
            done=False,
            person=person,
            channel=channel,
            token=token,
        )
    try:
        with unit(db()) as session:
            result = service.unsubscribe(session, settings(), token)
    except (ValueError, NotFound):
        return render_template("tips_unsubscribe.html", invalid=True), 400
    return render_template(
        "tips_unsubscribe.html",
        invalid=False,
        done=True,
        person=person,
        channel=channel,
        result=result,
        token=token,
    )
