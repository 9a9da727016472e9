"""The store demo as pages and API see it: the app's desk and clock, staff access, board rows, a device's demo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app
from sqlmodel import select

from edu.db import utcnow
from edu.store import board, script, sessions
from edu.store import models as store_models
from edu.store.audit import Staff
from edu.store.models import DemoSession, DemoStep
from edu.store.sessions import DemoError, Desk
from edu.web.security import current_person, household, roles_required
from edu.web.session import db
from edu.web.words import row_view

F = TypeVar("F", bound=Callable[..., Any])


def install_desk(app: Flask) -> None:
    """Give the app one demo desk (one throttle for every request); tests may replace it."""
    app.extensions.setdefault("edu.store.desk", Desk.for_inventory(app.extensions["edu.inventory"]))


def desk() -> Desk:
    """Return the app's demo desk."""
    return current_app.extensions["edu.store.desk"]  # type: ignore[no-any-return]


def clock() -> datetime:
    """Return the time now: the app's demo clock (tests set a fixed one), else the real time."""
    now: Callable[[], datetime] = current_app.extensions.get("edu.store.clock", utcnow)
    return now()


def staff_required(fn: F) -> F:
    """Let in the staff and admins of a shop; a home has no demo pages (404)."""

    @wraps(fn)
    @roles_required("staff", "admin")
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        home = household()
        if home is None or home.kind != "store":
            abort(404)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def staff() -> Staff:
    """Return the signed-in staff member as the demo services want them."""
    person = current_person()
    assert person is not None
    return Staff(person.id, person.name, person.household_id)


def board_rows() -> list[board.BoardRow]:
    """Every device on the signed-in staff member's demo table."""
    return board.board(db(), staff().household_id, timeout=desk().timeout)


def board_views() -> list[dict[str, Any]]:
    """The board's rows with the words the page shows, after demos left idle are put back."""
    sessions.expire_idle(desk(), now=clock())
    now = clock()
    home = household()
    return [row_view(row, now, home.timezone if home else "UTC") for row in board_rows()]


def board_view(did: int) -> dict[str, Any]:
    """One device's board row with its words."""
    return next(view for view in board_views() if view["did"] == did)


def device_or_404(did: int) -> Any:
    """The shop's device with this id, or 404."""
    try:
        return sessions.store_device(db(), staff().household_id, did)
    except DemoError:
        abort(404)


@dataclass(frozen=True)
class DeviceDemo:
    """A device's guided demo as staff see it: the run (if one is on), the steps, what was shown."""

    run: DemoSession | None
    steps: list[script.Step]
    shown: dict[str, int]  # lesson id -> times shown in this run

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": self.run is not None,
            "steps": [{**s.to_dict(), "shown": self.shown.get(s.lesson, 0)} for s in self.steps],
        }


def device_demo(found: Any) -> DeviceDemo:
    """Read the guided demo of *found* in the signed-in person's language."""
    person = current_person()
    lang = person.language if person else "en"
    run = store_models.running(db(), found.id)
    saved = store_models.restorable(db(), found.id)
    steps = script.script(db(), found, lang=lang, restorable=saved if run else None)
    shown: dict[str, int] = {}
    if run is not None:
        for step in db().exec(select(DemoStep).where(DemoStep.session_id == run.id)):
            if step.status != "failed":
                shown[step.lesson] = shown.get(step.lesson, 0) + 1
    return DeviceDemo(run, steps, shown)
