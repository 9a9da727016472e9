"""Plain words pages and API share: the store demo's device states, steps and resets for staff,
and a lesson's "Try it now" outcome for its owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import format_timedelta

from edu.catalogue import capability_titles
from edu.services.tryit import TryOutcome
from edu.store.board import BoardRow
from edu.store.sessions import DemoError, Reset
from edu.web.i18n import gettext as _
from edu.web.i18n import ngettext
from edu.web.progress import feature_title


def status_words(status: str) -> tuple[str, str]:
    """Return (words, tone) for a device's network state."""
    return {
        "online": (_("Online"), "good"),
        "offline": (_("Offline"), "bad"),
        "auth-failed": (_("Token rejected"), "bad"),
        "unsupported": (_("Not supported"), "neutral"),
    }.get(status, (_("Not checked yet"), "neutral"))


def clock_time(when: datetime | None, tz: str) -> str:
    """Return the local time of day of *when* (HH:MM) in the shop's time zone."""
    if when is None:
        return ""
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%H:%M")


def problem_words(row: BoardRow) -> str:
    """Say why a flagged device is not back to normal."""
    if row.problem == "offline":
        return _(
            "It stopped answering before its settings were put back. Press Reset when it "
            "is back online."
        )
    if row.problem == "auth-failed":
        return _(
            "It rejected its token, so its settings could not be put back. Ask the "
            "manager to enter its new token."
        )
    parts = [
        _(
            "%(feature)s did not stop (after “%(undo)s” it shows %(shown)s)",
            feature=feature_title(p["capability"]),
            undo=feature_title(p["undo"]),
            shown=describe_value(p["shown"]),
        )
        if p.get("undo")
        else _(
            "%(feature)s should be %(wanted)s but shows %(shown)s",
            feature=feature_title(p["capability"]),
            wanted=describe_value(p["wanted"]),
            shown=describe_value(p["shown"]),
        )
        for p in row.problems[:3]
    ]
    if not parts:
        return _("Its settings are not back to normal yet. Press Reset to try again.")
    return _("Not back to normal: %(list)s.", list="; ".join(parts))


def row_view(row: BoardRow, now: datetime, tz: str) -> dict[str, Any]:
    """Return a board row with the words the page shows (JSON-safe, no secrets)."""
    status_text, status_tone = status_words(row.status)
    if not row.token_known:
        status_text, status_tone = _("Needs its token"), "warn"
    if row.demo == "in-demo":
        left = max(0, int(((row.timeout_at or now) - now).total_seconds()))
        demo_text = _("In a demo since %(time)s", time=clock_time(row.started_at, tz))
        demo_tone = "accent"
    elif row.demo == "flagged":
        left, demo_text, demo_tone = 0, _("Not back to normal"), "bad"
    else:
        left, demo_text, demo_tone = 0, _("Ready"), "good"
    if row.last_reset:
        history = _(
            "Last reset %(ago)s", ago=format_timedelta(row.last_reset - now, add_direction=True)
        )
    elif row.demos:
        history = _("Not reset yet")
    else:
        history = _("No demo yet")
    if row.status == "unsupported":
        history = _("Feature Coach cannot talk to this model.")
    elif row.features:
        history = (
            ngettext("%(num)s feature to show", "%(num)s features to show", row.features)
            + " · "
            + history
        )
    else:
        history = _("Nothing to show on the device itself; the kiosk tells about it.")
    return {
        "did": row.did,
        "name": row.name,
        "family": row.family,
        "model": row.model,
        "status": row.status,
        "status_text": status_text,
        "status_tone": status_tone,
        "token_ok": row.token_ok,
        "demo": row.demo,
        "demo_text": demo_text,
        "demo_tone": demo_tone,
        "problem_text": problem_words(row) if row.demo == "flagged" else "",
        "last_reset_text": history,
        "can_reset": row.demo in ("in-demo", "flagged"),
        "can_demo": row.features > 0 and row.token_ok,
        "timeout_in": left,
    }


def step_message(outcome: TryOutcome) -> tuple[str, str]:
    """Return (message, tone) saying what the device shows after a step."""
    name = outcome.device_name
    if outcome.status == "failed":
        if outcome.reason == "offline":
            return _(
                "%(name)s is not answering. Check that it is plugged in and switched on, "
                "and carry on with another device.",
                name=name,
            ), "bad"
        if outcome.reason == "auth-failed":
            return _(
                "%(name)s rejected its token (it may have been reset). Ask the manager to "
                "enter its new token.",
                name=name,
            ), "bad"
        return _("%(name)s refused this step. Carry on with the next one.", name=name), "bad"
    if outcome.status == "done":
        return _("Done: %(name)s did it.", name=name), "good"
    if outcome.status == "already":
        return _(
            "%(name)s already shows this (%(value)s).",
            name=name,
            value=describe_value(outcome.after),
        ), "good"
    if outcome.status == "unconfirmed":
        return _("%(name)s took the command but does not show the change yet.", name=name), "warn"
    return _(
        "%(name)s: %(feature)s is now %(value)s (it was %(before)s).",
        name=name,
        feature=capability_titles().get(outcome.capability, outcome.capability),
        value=describe_value(outcome.after),
        before=describe_value(outcome.before),
    ), "good"


def error_message(exc: DemoError, name: str) -> str:
    """Say why a demo request could not be done."""
    if exc.code == "offline":
        return _(
            "%(name)s is not answering, so its settings could not be saved and the demo "
            "did not start. Check that it is plugged in.",
            name=name,
        )
    if exc.code == "auth-failed":
        return _("%(name)s rejected its token. Ask the manager to enter its new token.", name=name)
    if exc.code == "busy":
        return _("%(name)s is still busy with the last command. Try again in a second.", name=name)
    if exc.code == "not-running":
        return _("Start the demo of %(name)s first: that saves its settings.", name=name)
    if exc.code == "no-step":
        return _("That is not a step of this demo.")
    return _("That device is not on the demo table.")


def reset_message(result: Reset) -> str:
    """Say how putting a device back went."""
    name = result.device_name
    if result.ok:
        if result.reason == "nothing":
            return _("%(name)s had nothing to put back.", name=name)
        if result.undone:
            return undone_message(name, result.written, result.undone)
        return ngettext_reset(name, result.written)
    if result.reason == "busy":
        return _("%(name)s is busy; press Reset again in a second.", name=name)
    if result.reason in ("offline", "auth-failed"):
        return _(
            "%(name)s is not answering, so its settings could not be put back. It is "
            "flagged on the board: press Reset when it is back.",
            name=name,
        )
    if result.reason == "not-at-rest":
        return _(
            "%(name)s did not stop what the demo showed (it may still be running). It is "
            "flagged on the board: press Reset to try again.",
            name=name,
        )
    return _(
        "%(name)s did not come back to normal on every setting. It is flagged on the board.",
        name=name,
    )


def ngettext_reset(name: str, written: int) -> str:
    """Say that a device is back to normal, and how many settings that took."""
    if written == 0:
        return _("%(name)s is back to normal (nothing had changed).", name=name)
    return ngettext(
        "%(name)s is back to normal: %(num)s setting put back and checked.",
        "%(name)s is back to normal: %(num)s settings put back and checked.",
        written,
        name=name,
    )


def undone_message(name: str, written: int, undone: tuple[str, ...]) -> str:
    """Say that a device is back to normal after the actions that brought it back to rest."""
    actions = ", ".join(f"“{feature_title(capability)}”" for capability in undone)
    if written == 0:
        return _(
            "%(name)s is back to normal: %(actions)s done and checked.", name=name, actions=actions
        )
    return ngettext(
        "%(name)s is back to normal: %(num)s setting put back and %(actions)s done, all checked.",
        "%(name)s is back to normal: %(num)s settings put back and %(actions)s done, all checked.",
        written,
        name=name,
        actions=actions,
    )


def describe_value(value: Any) -> str:
    """Say a device value in plain words."""
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if value is None:
        return _("unknown")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def outcome_message(outcome: TryOutcome, revert_after: int | None) -> tuple[str, str]:
    """Return (message, tone) telling the person what the device now says."""
    name = outcome.device_name
    if outcome.status == "failed":
        if outcome.reason == "auth-failed":
            return _(
                "%(name)s rejected its token, so nothing was changed. An admin can fix this on "
                "the devices page.",
                name=name,
            ), "bad"
        if outcome.reason == "offline":
            return _(
                "%(name)s did not answer, so nothing was changed. Check that it is switched on "
                "and try again.",
                name=name,
            ), "bad"
        return _("%(name)s refused the change, so nothing was changed.", name=name), "bad"
    if outcome.status == "done":
        return _("Done: %(name)s accepted the command.", name=name), "good"
    if outcome.status == "already":
        return _(
            "%(name)s already had this on (%(value)s). Nothing needed to change.",
            name=name,
            value=describe_value(outcome.after),
        ), "good"
    if outcome.status == "unconfirmed":
        return _(
            "%(name)s took the command, but it does not show the change yet.", name=name
        ), "warn"
    text = _(
        "It worked: %(name)s now says %(value)s (it was %(before)s).",
        name=name,
        value=describe_value(outcome.after),
        before=describe_value(outcome.before),
    )
    if outcome.revert_at is not None and revert_after:
        minutes = max(1, round(revert_after / 60))
        text += " " + ngettext(
            "It goes back by itself in %(num)s minute.",
            "It goes back by itself in %(num)s minutes.",
            minutes,
        )
    return text, "good"
