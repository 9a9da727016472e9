"""The hub's shop endpoints and pages: shops send reports (signed); what sells is public.

``POST /hub/v1/shops/report`` takes a shop's weekly ``shop-report``; ``GET
/hub/v1/shops/asked?model=M`` and the page "Features customers ask to see" publish, per
model, the features at least k shops report, with how many demos showed each and how many
of those ended with the customer wanting to buy.
"""

from __future__ import annotations

import re
from collections import defaultdict

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from edu.catalogue import capability_titles
from edu.hub import aggregates, api, shops
from edu.hub.api import signed
from edu.hub.pages import bar_chart
from edu.hub.protocol import ProtocolError

api_bp = Blueprint("hub_shops_api", __name__, url_prefix="/hub/v1/shops")
# the same one-line JSON refusals as the rest of the API
api_bp.register_error_handler(ProtocolError, api.refused)
api_bp.register_error_handler(RequestEntityTooLarge, api.too_large)
api_bp.register_error_handler(HTTPException, api.http_error)
pages_bp = Blueprint("hub_shops", __name__, url_prefix="/hub/shops")

_MODEL = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,79}$")


def _cached(response: Response) -> Response:
    seconds = current_app.extensions["hub.settings"].cache_seconds
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response


@api_bp.post("/report")
def report() -> tuple[Response, int]:
    """Take a shop's weekly report in place of its previous one."""
    message, now = signed("shop-report")
    settings = current_app.extensions["hub.settings"]
    rows = shops.accept(current_app.extensions["hub.engine"], message, now, settings.per_hour)
    return jsonify({"accepted": True, "seq": message.seq, "rows": rows}), 200


@api_bp.get("/asked")
def asked() -> Response | tuple[Response, int]:
    """Published shop figures of one model: features reported by at least k shops."""
    model = (request.args.get("model") or "").strip()
    if not model or len(model) > 80:
        message = "give a model: /hub/v1/shops/asked?model=zhimi.fan.za4"
        return jsonify({"error": "bad-input", "message": message}), 400
    settings = current_app.extensions["hub.settings"]
    rows = shops.asked(current_app.extensions["hub.engine"], model, settings.min_homes)
    return _cached(jsonify([r.to_dict() for r in rows]))


@pages_bp.get("/")
def index() -> Response:
    """Every model with published shop figures, by family."""
    settings = current_app.extensions["hub.settings"]
    families: dict[str, list[str]] = defaultdict(list)
    for family, model in shops.published_models(
        current_app.extensions["hub.engine"], settings.min_homes
    ):
        families[family or "other"].append(model)
    html = render_template(
        "hub_shops.html", families=dict(sorted(families.items())), k=settings.min_homes
    )
    return _cached(make_response(html))


@pages_bp.get("/models/<model>")
def model_page(model: str) -> Response:
    """Features customers ask to see on one model, and how often their demos end in a sale."""
    if not _MODEL.match(model):
        abort(404)
    settings = current_app.extensions["hub.settings"]
    rows = shops.asked(current_app.extensions["hub.engine"], model, settings.min_homes)
    shown = [aggregates.Adoption(r.capability, r.demos, r.sales) for r in rows if r.demos]
    shown.sort(key=lambda a: (-a.using / a.homes, a.capability))
    chart = bar_chart(shown, label="Demos that ended in a sale intent, per feature", unit="demos")
    html = render_template(
        "hub_shop_model.html",
        model=model,
        rows=rows,
        chart=chart if shown else None,
        titles=capability_titles(),
        k=settings.min_homes,
    )
    return _cached(make_response(html, 200 if rows else 404))
