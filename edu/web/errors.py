"""Error pages in plain words, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from edu.web.i18n import gettext as _
from edu.web.security import is_api


def _page(exc: HTTPException) -> tuple[str | Response, int]:
    code = exc.code or 500
    if is_api():
        return jsonify(
            {
                "error": (exc.name or "error").lower().replace(" ", "-"),
                "message": exc.description or "",
            }
        ), code
    titles = {
        403: (
            _("Not for you"),
            _("This page is for someone else, or the form was too old. Go back and try again."),
        ),
        404: (_("Not found"), _("There is nothing here. It may have been removed.")),
        413: (_("Too big"), _("That file is too big for a token file.")),
        429: (_("Slow down"), _("Too many tries. Wait a minute and try again.")),
    }
    title, message = titles.get(code, (_("Something went wrong"), _("Please try again.")))
    return render_template("error.html", title=title, message=message), code


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(HTTPException, _page)
