"""What every part of the JSON API shares: one-line JSON errors, request bodies, keyset paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, abort, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from edu.db import utcnow
from edu.paging import BadPage, cursor_arg, limit_arg, next_link
from edu.web.fragments import household_key, kept
from edu.web.security import current_person

T = TypeVar("T")


def json_error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return json_error(
        exc.code or 500, (exc.name or "error").lower().replace(" ", "-"), exc.description or ""
    )


def _bad_page(exc: BadPage) -> tuple[Response, int]:
    return json_error(400, "bad-input", str(exc))


def install_json_errors(bp: Blueprint) -> None:
    """Answer *bp*'s HTTP errors and bad paging arguments as one-line JSON."""
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(BadPage, _bad_page)


def keyset() -> tuple[int | None, int]:
    """Return the cursor's key (None on the first page) and the limit of this request."""
    return cursor_arg(request.args), limit_arg(request.args)


def paged(
    rows: Sequence[T], limit: int, key: Callable[[T], int], shape: Callable[[T], Any]
) -> Response:
    """Answer with up to *limit* of *rows* (one more tells there is a next page) as a JSON
    list, and an RFC 8288 ``Link: <...>; rel="next"`` header when there is a next page."""
    shown = rows[:limit]
    response = jsonify([shape(row) for row in shown])
    if len(rows) > limit:
        response.headers["Link"] = next_link(key(shown[-1]), limit)
    return response


def kept_answer(kind: str, make: Callable[[], tuple[Response, datetime | None]]) -> Response:
    """Answer a GET from the copy kept for this person, query and household revision (see
    edu.web.fragments); *make* answers afresh and says when the clock alone changes it."""
    person = current_person()
    assert person is not None

    def render() -> tuple[tuple[bytes, int, str | None], datetime | None]:
        response, until = make()
        return (response.get_data(), response.status_code, response.headers.get("Link")), until

    body, status, link = kept(household_key(kind, person, request.query_string), utcnow(), render)
    response = Response(body, status, mimetype="application/json")
    if link is not None:
        response.headers["Link"] = link
    return response


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else None
    if data is None:
        data = request.form.to_dict()
    if not isinstance(data, dict):
        abort(400, "send a JSON object")
    return data
