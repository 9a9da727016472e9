"""Hold once what many rows repeat: equal values, equal read-only rows, equal lists of rows.

A household of 10,000 devices of fifty models reads 50,000 capability rows from the
database, nearly all of them equal to another (the same model has the same capabilities),
and 10,000 copies of a few model, family and status strings. Kept in a cache, every copy
costs memory for as long as the cache lives; one ``Shared`` per read hands back the first
equal object instead. What it hands out is shared: read it, never change it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)


class Shared:
    """One read's table of shared objects (it forgets them when it goes away)."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self._decoded: dict[str, Any] = {}
        self._rows: dict[tuple[Any, ...], Any] = {}
        self._lists: dict[tuple[int, ...], list[Any]] = {}

    def value(self, value: H) -> H:
        """Return the first value seen equal to *value* (a string, a datetime ...)."""
        if value is None:
            return value
        found: H = self._values.setdefault((type(value), value), value)
        return found

    def row(self, make: Callable[..., T], *fields: Any, json_field: int | None = None) -> T:
        """Return ``make(*fields)``, the same object for equal fields.

        The field at *json_field* is JSON text: the key uses the text, the row gets it decoded
        (one decoded object per distinct text).
        """
        row_key = (make, *fields)
        found: T | None = self._rows.get(row_key)
        if found is None:
            values = [self.value(v) if isinstance(v, str) else v for v in fields]
            text = fields[json_field] if json_field is not None else None
            if text is not None:
                decoded = self._decoded.get(text)
                if decoded is None:
                    decoded = self._decoded[text] = json.loads(text)
                values[json_field] = decoded  # type: ignore[index]
            found = self._rows[row_key] = make(*values)
        return found

    def rows(self, items: list[T]) -> list[T]:
        """Return a list equal to *items* (rows from ``row``), the same list for equal items."""
        # the rows come from self._rows, which keeps them alive: their ids are stable here
        return self._lists.setdefault(tuple(map(id, items)), items)
