"""Per request: a database session (opened on first use, closed at teardown); the app's engine,
inventory, settings and scan tracker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from flask_babel import gettext as _
from sqlmodel import Session

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from edu.config import Settings
    from edu.services.inventory import Inventory
    from edu.services.scans import ScanTracker


def engine() -> Engine:
    """Return the app's engine."""
    return current_app.extensions["edu.engine"]  # type: ignore[no-any-return]


def inventory() -> Inventory:
    """Return the app's long-lived inventory (one coordinator for every request)."""
    return current_app.extensions["edu.inventory"]  # type: ignore[no-any-return]


def settings() -> Settings:
    """Return the app's settings."""
    return current_app.config["EDU_SETTINGS"]  # type: ignore[no-any-return]


def scans() -> ScanTracker:
    """Return the app's scan tracker (one scan at a time)."""
    return current_app.extensions["edu.scans"]  # type: ignore[no-any-return]


def start_scan() -> tuple[bool, str | None]:
    """Start a scan of the configured networks; return (started, problem)."""
    networks = settings().networks
    if not networks:
        return False, _(
            "No networks are configured. Set EDU_NETWORKS to the range your devices "
            "live in (for example 192.168.1.0/24), or add a device by its address."
        )
    try:
        started = scans().start(inventory(), networks)
    except ValueError as exc:
        return False, str(exc)
    return started, None


def db() -> Session:
    """Return this request's session, opening it on first use."""
    if "edu_db" not in g:
        g.edu_db = Session(engine(), expire_on_commit=False)
    return g.edu_db  # type: ignore[no-any-return]


def _close(_exc: BaseException | None = None) -> None:
    session = g.pop("edu_db", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Close the request's session at teardown."""
    app.teardown_appcontext(_close)


def jsonable(value: Any) -> Any:
    """Turn datetimes into ISO strings, recursively."""
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
