"""Devices (admin): scan with progress, add by address and token, import tokens, rename, remove."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlmodel import select
from werkzeug.wrappers import Response

from edu.db import key, unit
from edu.models import Device, DeviceCapability, Household
from edu.paging import page_number
from edu.services import accounts
from edu.services.device_list import DeviceFilter, count_devices, device_page
from edu.services.people import users_of
from edu.text import MAX_ROW_ID, plain_text, whole_numbers
from edu.web.doctor import diagnose, diagnose_address, status_words
from edu.web.fragments import kept_block
from edu.web.i18n import gettext as _
from edu.web.progress import feature_title
from edu.web.security import admin_required, current_person, household
from edu.web.session import db, inventory, scans, settings, start_scan

logger = logging.getLogger(__name__)

bp = Blueprint("devices", __name__, url_prefix="/devices")

PAGE_SIZE = 50  # devices per page of the list


def _home() -> Household:
    home = household()
    assert home is not None
    return home


def find_device(did: int) -> Device:
    """Return the household's device with this did, or 404."""
    device = (
        db()
        .exec(select(Device).where(Device.household_id == _home().id, Device.did == did))
        .first()
    )
    if device is None:
        abort(404)
    return device


def _status_choices() -> list[tuple[str, str]]:
    """The statuses the list can be filtered by, in plain words."""
    return [
        ("online", status_words("ok")),
        ("auth-failed", _("Needs its token, or rejected it")),
        ("new", status_words("new")),
        ("offline", status_words("offline")),
        ("unsupported", status_words("unsupported")),
        ("error", status_words("error")),
    ]


def _index(add_form: dict[str, str], add_problem: Any = None) -> str:
    """Render the devices page: the scan, the add forms, one page of the (filtered) list."""
    home_id = key(_home())
    found = DeviceFilter.from_args(request.args)
    number = page_number(request.args)
    nets = settings().networks

    def make() -> dict[str, Any]:
        page = device_page(db(), home_id, found, number, PAGE_SIZE)
        return {
            "page": page,
            "everything": count_devices(db(), home_id) if found.active else page.total,
            "found": found,
            "statuses": _status_choices(),
            "diagnose": lambda d: diagnose(d, nets),
        }

    me = current_person()
    assert me is not None
    listed = kept_block(
        "devices.html", "device_list", "devices", me, make, found, number, tuple(map(str, nets))
    )
    return render_template(
        "devices.html",
        device_list=listed,
        scan=scans().state,
        networks=nets,
        add_form=add_form,
        add_problem=add_problem,
    )


@bp.route("/")
@admin_required
def index() -> str:
    """One page of the devices with their status in plain words, the scan, and the add forms."""
    return _index({})


@bp.route("/scan", methods=["POST"])
@admin_required
def scan() -> Response:
    """Start scanning the configured networks."""
    started, problem = start_scan()
    if problem:
        flash(problem, "bad")
    elif not started:
        flash(_("A scan is already running."), "warn")
    return redirect(url_for("devices.index") + "#scan")


@bp.route("/scan/status")
@admin_required
def scan_status() -> Response:
    """How the current scan is going (the page polls this)."""
    return jsonify(scans().state.to_dict())


@bp.route("/add", methods=["POST"])
@admin_required
def add() -> str | Response | tuple[str, int]:
    """Add a device by its address and token, then show how it went."""
    from devices.tokens import normalize_token
    from edu.services.inventory import InventoryError, TokenRejected

    ip, token = request.form.get("ip", "").strip(), request.form.get("token", "")
    name = plain_text(request.form.get("name", "")) or None
    form = {"ip": ip, "name": name or ""}
    problem: Any = None
    try:
        normalize_token(token)
        row = inventory().add(ip, token, name=name)
    except TokenRejected:
        problem = _(
            "The device at %(ip)s rejected this token, so nothing was changed. Check the token "
            "(a device that was reset has a new one).",
            ip=ip,
        )
    except InventoryError:
        problem = diagnose_address(ip, settings().networks)
    except ValueError as exc:
        problem = (
            _(
                "Feature Coach only reaches addresses of your own network (private, link-local, shared)."
            )
            if "--allow-public" in str(exc)
            else _("That does not look like a device address and a 32-character token.")
        )
    else:
        device = find_device(row["did"])
        diagnosis = diagnose(device, settings().networks)
        flash(diagnosis.title, "good" if diagnosis.code == "ok" else "bad")
        return redirect(url_for("devices.detail", did=device.did))
    return _index(form, problem), 400


@bp.route("/import", methods=["POST"])
@admin_required
def import_tokens() -> Response:
    """Import a token file (miiocli JSON, token-extractor CSV or text), then scan."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a token file first."), "bad")
        return redirect(url_for("devices.index") + "#import")
    folder = settings().ensure_instance() / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    suffix = "".join(
        c
        for c in (upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "txt")
        if c.isalnum()
    )[:8]
    path = folder / f"tokens-{secrets.token_hex(8)}.{suffix or 'txt'}"
    try:
        path.touch(mode=0o600)
        upload.save(path)
        rows = inventory().import_tokens(path, name=upload.filename)
    except ValueError as exc:
        flash(
            _("That file could not be read: %(problem)s", problem=str(exc).splitlines()[0]), "bad"
        )
        return redirect(url_for("devices.index") + "#import")
    finally:
        path.unlink(missing_ok=True)
    stored = sum(1 for r in rows if r["stored"])
    flash(_("%(count)s token(s) stored.", count=stored), "good" if stored else "warn")
    if len(rows) > stored:
        flash(
            _(
                "%(count)s entries skipped: gateways, cloud accounts, bad tokens, or devices "
                "to scan first.",
                count=len(rows) - stored,
            ),
            "warn",
        )
    if stored and settings().networks:
        start_scan()
    return redirect(url_for("devices.index") + "#scan")


@bp.route("/<did:did>", methods=["GET", "POST"])
@admin_required
def detail(did: int) -> str | Response:
    """One device: its doctor, features, name and the people who use it."""
    device = find_device(did)
    home = _home()
    if request.method == "POST":
        action = request.form.get("action")
        if action == "rename":
            name = plain_text(request.form.get("name", ""))
            with unit(db()):
                device.name = name
                db().add(device)
            flash(_("Saved."), "good")
        elif action == "people":
            chosen = set(whole_numbers(request.form.getlist("person"), MAX_ROW_ID))
            accounts.device_people(db(), home, device, chosen)
            flash(_("Saved."), "good")
        elif action == "remove":
            with unit(db()):
                db().delete(device)
            inventory().coordinator.forget(did)
            flash(_("%(name)s was removed.", name=device.display_name), "good")
            return redirect(url_for("devices.index"))
        return redirect(url_for("devices.detail", did=did))
    caps = (
        db()
        .exec(
            select(DeviceCapability)
            .where(DeviceCapability.device_id == device.id)
            .order_by(DeviceCapability.capability)
        )
        .all()
    )  # type: ignore[arg-type]
    people = accounts.profiles(db(), home)
    users = users_of(db(), device)
    return render_template(
        "device.html",
        device=device,
        diagnosis=diagnose(device, settings().networks),
        caps=caps,
        people=people,
        users=users,
        feature=feature_title,
    )
