"""Text people type, made safe to store: no control characters, single spaces, bounded."""

from __future__ import annotations


def plain_text(value: object, limit: int = 60) -> str:
    """Return *value* as one line: control characters dropped (PostgreSQL refuses NUL),
    runs of whitespace made one space, at most *limit* characters."""
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:limit]
