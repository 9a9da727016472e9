"""Text people type, made safe to store: no control characters, single spaces, bounded."""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1  # row ids are 32-bit INTEGER columns on PostgreSQL


def plain_text(value: object, limit: int = 60) -> str:
    """Return *value* as one line: control characters dropped (PostgreSQL refuses NUL),
    runs of whitespace made one space, at most *limit* characters."""
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:limit]


def whole_number(value: object, maximum: int) -> int | None:
    """Return *value* as a whole number from 0 to *maximum*, or None for anything else.

    Only ASCII digits count (``str.isdigit`` also accepts "²", which int() refuses), and a
    number past *maximum*, a column's range, is None here instead of an error in the database.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 7.0 as an integer
    raw = str(value).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw.lstrip("0")) > len(str(maximum)):
        return None
    number = int(raw)
    return number if number <= maximum else None


def whole_numbers(values: list[str], maximum: int) -> list[int]:
    """Return the values that are whole numbers up to *maximum*, leaving out the rest."""
    return [n for n in (whole_number(v, maximum) for v in values) if n is not None]
