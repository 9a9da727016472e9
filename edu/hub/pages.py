"""The hub's public pages: published models by family, and per model a bar chart (SVG) of use."""

from __future__ import annotations

import re
from collections import defaultdict

from flask import Blueprint, Response, abort, current_app, make_response, render_template
from markupsafe import Markup, escape

from edu.catalogue import capability_titles
from edu.hub import aggregates
from edu.hub.api import published_engine

bp = Blueprint("hub_pages", __name__, url_prefix="/hub")

_MODEL = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,79}$")
BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH = 22, 8, 260, 360


def bar_chart(
    rows: list[aggregates.Adoption],
    *,
    label: str = "Owners who use each feature",
    unit: str = "homes",
) -> Markup:
    """Draw how many of the owners use each feature as horizontal bars (an SVG element);
    *label* names the chart and *unit* what ``homes`` counts (the shops' page counts demos)."""
    titles = capability_titles()
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + 120
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(label)}">'
    ]
    for n, row in enumerate(rows):
        y = GAP + n * (BAR_HEIGHT + GAP)
        share = row.using / row.homes if row.homes else 0.0
        title = titles.get(row.capability, row.capability)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(title)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" fill="#e5e7eb"/>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{round(BAR_WIDTH * share, 1)}" '
            f'height="{BAR_HEIGHT}" fill="#2563eb"><title>{escape(title)}: {row.using} of '
            f"{row.homes} {escape(unit)}</title></rect>"
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 15}">{round(share * 100)}% '
            f"({row.using}/{row.homes})</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape)


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.extensions['hub.settings'].cache_seconds}"
    )
    return response


@bp.get("/")
def index() -> Response:
    """Every model with published adoption, by family."""
    settings = current_app.extensions["hub.settings"]
    families: dict[str, list[str]] = defaultdict(list)
    for family, model in aggregates.published_models(published_engine(), settings.min_homes):
        families[family or "other"].append(model)
    html = render_template(
        "hub_index.html", families=dict(sorted(families.items())), k=settings.min_homes
    )
    return _cached(make_response(html))


@bp.get("/models/<model>")
def model_page(model: str) -> Response:
    """One model: how many owners use each feature, as a bar chart."""
    if not _MODEL.match(model):
        abort(404)
    settings = current_app.extensions["hub.settings"]
    rows = aggregates.adoption(published_engine(), model, settings.min_homes)
    rows.sort(key=lambda r: (-(r.using / r.homes if r.homes else 0), r.capability))
    html = render_template(
        "hub_model.html", model=model, rows=rows, chart=bar_chart(rows), k=settings.min_homes
    )
    return _cached(make_response(html, 200 if rows else 404))
