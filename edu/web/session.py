"""A database session per request (opened on first use, closed at teardown), and units of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlmodel import Session

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from edu.config import Settings
    from edu.inventory import Inventory


def engine() -> Engine:
    """Return the app's engine."""
    return current_app.extensions["edu.engine"]  # type: ignore[no-any-return]


def inventory() -> Inventory:
    """Return the app's long-lived inventory (one coordinator for every request)."""
    return current_app.extensions["edu.inventory"]  # type: ignore[no-any-return]


def settings() -> Settings:
    """Return the app's settings."""
    return current_app.config["EDU_SETTINGS"]  # type: ignore[no-any-return]


def db() -> Session:
    """Return this request's session, opening it on first use."""
    if "edu_db" not in g:
        g.edu_db = Session(engine(), expire_on_commit=False)
    return g.edu_db  # type: ignore[no-any-return]


@contextmanager
def unit(session: Session) -> Iterator[Session]:
    """Commit what the block does, or nothing; works whether or not a read already began."""
    if not session.in_transaction():
        with session.begin():
            yield session
        return
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


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
