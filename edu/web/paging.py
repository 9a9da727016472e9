"""Long lists in pieces: keyset cursors for the JSON API."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from flask import request, url_for

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# A cursor is the key of the last item of a page, base64url-encoded (a miIO device id is an
# unsigned 32-bit number: six characters). Every string of this form is a valid cursor.
CURSOR_PATTERN = "^[A-Za-z0-9_-]{6}$"
_CURSOR = re.compile(CURSOR_PATTERN.strip("^$"))


class BadPage(ValueError):
    """A limit or cursor the API cannot read."""


def limit_arg(args: Mapping[str, str]) -> int:
    """Return ``?limit=`` (default 100), or raise BadPage unless it is a number from 1 to 500."""
    raw = args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
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
