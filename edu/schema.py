"""Opening the project's database: an engine that keeps household revisions, at the current schema."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from edu.db import build_engine
from edu.migrations import upgrade
from edu.revisions import track_revisions


def make_engine(url: str) -> Engine:
    """Build the engine for *url* with the flush hook that bumps household revisions."""
    track_revisions()
    return build_engine(url)


def create_schema(engine: Engine) -> None:
    """Bring the database to the current schema: every table, every migration (edu.migrations)."""
    upgrade(engine)
