"""Long lists in pieces: numbered pages for the web pages, keyset cursors for the JSON API."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import request, url_for

from edu.text import whole_number

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# A cursor is the key of the last item of a page, base64url-encoded (a miIO device id is an
# unsigned 32-bit number: six characters). Every string of this form is a valid cursor.
CURSOR_PATTERN = "^[A-Za-z0-9_-]{6}$"
_CURSOR = re.compile(CURSOR_PATTERN.strip("^$"))


class BadPage(ValueError):
    """A limit or cursor the API cannot read."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list; pages are numbered from 1."""

    items: list[T]
    number: int
    size: int
    total: int  # items in the whole list

    @property
    def count(self) -> int:
        """How many pages there are (at least one, even for an empty list)."""
        return max(1, -(-self.total // self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None

    @property
    def first(self) -> int:
        """The position of the page's first item in the whole list (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def page_number(args: Mapping[str, str]) -> int:
    """Return the page asked for with ``?page=``; 1 when missing or not a page number."""
    return whole_number(args.get("page", ""), 999_999) or 1


def last_page(number: int, total: int, size: int) -> int:
    """Return *number*, or the last page when it lies past the end of *total* items."""
    return min(number, max(1, -(-total // size)))


def page_of(items: Sequence[T], number: int, size: int) -> Page[T]:
    """Cut page *number* out of *items* (the last page when *number* lies past the end)."""
    number = last_page(number, len(items), size)
    start = (number - 1) * size
    return Page(list(items[start : start + size]), number, size, len(items))


def limit_arg(args: Mapping[str, str]) -> int:
    """Return ``?limit=`` (default 100), or raise BadPage unless it is a number from 1 to 500."""
    raw = args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    limit = whole_number(raw, MAX_LIMIT)
    if limit:
        return limit
    raise BadPage(f"limit is a whole number from 1 to {MAX_LIMIT}")


def encode_cursor(key: int) -> str:
    """Return the cursor that continues after the item with this key."""
    return base64.urlsafe_b64encode(key.to_bytes(4, "big")).decode("ascii").rstrip("=")


def cursor_arg(args: Mapping[str, str]) -> int | None:
    """Return the key after which ``?cursor=`` continues (None for the first page), or BadPage."""
    raw = args.get("cursor")
    if raw is None:
        return None
    if not _CURSOR.fullmatch(raw):
        raise BadPage("cursor is not one this API gave out; start again without it")
    return int.from_bytes(base64.urlsafe_b64decode(raw + "=="), "big")


def next_link(key: int, limit: int) -> str:
    """Return the RFC 8288 Link header value for the page after the item with this *key*."""
    target = url_for(
        str(request.endpoint),
        **(request.view_args or {}),
        cursor=encode_cursor(key),
        limit=limit,
        _external=True,
    )
    return f'<{target}>; rel="next"'
