"""URL converters for the ids in paths: a number past its column's range names nothing (404).

Werkzeug's ``int`` takes any number of digits, and a query with an id past a column's range
is an error in the database (SQLite cannot bind it, PostgreSQL refuses it), not "not found".
Refusing the number in the converter would not do either: Werkzeug then answers 405 for a
path that has rules for other methods. So such a number reads as -1, which no row has, and
the view answers 404 as for any other id that is not there.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing.converters import NumberConverter

from devices import MAX_DID
from edu.text import MAX_ROW_ID

NO_ROW = -1


class _BoundedIdConverter(NumberConverter):
    regex = "[0-9]+"
    num_convert = int
    largest = 0

    def to_python(self, value: str) -> Any:
        number = int(value)
        return number if number <= self.largest else NO_ROW


class DeviceIdConverter(_BoundedIdConverter):
    """``<did:name>``: a miIO device id, 0 to 2**32 - 1."""

    largest = MAX_DID


class RowIdConverter(_BoundedIdConverter):
    """``<id:name>``: a row id (person, inbox item, channel), 0 to 2**31 - 1."""

    largest = MAX_ROW_ID


CONVERTERS = {"did": DeviceIdConverter, "id": RowIdConverter}
