"""Small SVG line charts of a benchmark series: size on a log-scale x axis, the figure from 0 up.

Pure Python (no plotting library): each chart is a few hundred bytes of SVG, readable at
320x180, with labelled axes, a dot and its value at every size, and an optional grey
reference line (for example the trivial route beside the home page).
"""

from __future__ import annotations

import math
from typing import NamedTuple
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 30, 34  # margins around the plot area
LINE, REFERENCE = "#2563eb", "#9ca3af"
HEADROOM = 1.15  # the top of the scale clears the highest point by this much (room for its label)


def nice_top(value: float) -> float:
    """The smallest 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten at or above *value* (1 for <= 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(
        step * power for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value
    )


def number(value: float) -> str:
    """A short label: 12,345 / 1,234 / 12.3 / 1.23 / 0.123; sizes of 1,000 or more as 1k, 10k."""
    if value >= 1000 and value % 1000 == 0:
        return f"{value / 1000:g}k"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def growth(series: list[tuple[float, float]], x_label: str) -> str:
    """How much the figure grows from the smallest size to the largest, beside the size."""
    (first_size, first), (last_size, last) = series[0], series[-1]
    sizes = f"{x_label} grow ×{number(last_size / first_size)}"
    if first <= 0:
        return f"from {number(first)} to {number(last)} while {sizes}"
    return f"×{number(last / first)} while {sizes}"


def line_chart(
    points: dict[str, float],
    *,
    title: str,
    x_label: str,
    y_label: str,
    reference: dict[str, float] | None = None,
    reference_label: str = "",
) -> str:
    """Draw *points* ({size: value}, sizes as numbers or numeric strings) as an SVG document."""
    series = sorted((float(size), float(value)) for size, value in points.items())
    if len(series) < 2 or series[0][0] <= 0:
        raise ValueError("a chart needs two or more sizes, all above 0")
    others = sorted((float(s), float(v)) for s, v in (reference or {}).items())
    top = nice_top(max(v for _, v in series + others) * HEADROOM)
    low, high = math.log10(series[0][0]), math.log10(series[-1][0])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(size: float) -> float:
        return round(LEFT + (math.log10(size) - low) / (high - low) * plot_w, 1)

    def y_of(value: float) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    def path(rows: list[tuple[float, float]]) -> str:
        return " ".join(
            f"{'M' if n == 0 else 'L'}{x_of(s)},{y_of(v)}" for n, (s, v) in enumerate(rows)
        )

    bottom, right = TOP + plot_h, LEFT + plot_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
        'font-family="sans-serif" font-size="10">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="14" font-size="11" font-weight="bold">{escape(title)}</text>',
        f'<text x="{LEFT}" y="25" fill="#555">{escape(growth(series, x_label))}</text>',
        f'<text transform="translate(11 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        f'fill="#555">{escape(y_label)}</text>',
    ]
    for tick in (0.0, top / 2, top):  # horizontal grid lines and y labels
        y = y_of(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 4}" y="{y + 3}" text-anchor="end">{number(tick)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#555"/>'
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>'
    )
    for size, _ in series:  # x ticks at the measured sizes
        x = x_of(size)
        parts.append(
            f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 3}" stroke="#555"/>'
            f'<text x="{x}" y="{bottom + 13}" text-anchor="middle">{number(size)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 4}" text-anchor="middle" fill="#555">'
        f"{escape(x_label)} (log scale)</text>"
    )
    if len(others) >= 2:
        parts.append(
            f'<path class="reference" d="{path(others)}" fill="none" stroke="{REFERENCE}" '
            'stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{right}" y="{y_of(others[-1][1]) - 4}" text-anchor="end" '
            f'fill="{REFERENCE}">{escape(reference_label)}</text>'
        )
    parts.append(
        f'<path class="series" d="{path(series)}" fill="none" stroke="{LINE}" stroke-width="2"/>'
    )
    for n, (size, value) in enumerate(series):
        x, y = x_of(size), y_of(value)
        anchor = "start" if n == 0 else "end" if n == len(series) - 1 else "middle"
        parts.append(
            f'<circle class="point" cx="{x}" cy="{y}" r="3" fill="{LINE}">'
            f"<title>{number(size)}: {number(value)}</title></circle>"
            f'<text x="{x}" y="{y - 6}" text-anchor="{anchor}">{number(value)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# -- the growth charts (bench/growth.py's series) -------------------------------------------

CHARTS_DIR = "docs/bench"  # relative to the repository root, as the README links them


class GrowthChart(NamedTuple):
    file: str
    series: str
    title: str
    x_label: str
    y_label: str
    what: str
    reference: str = ""
    reference_label: str = ""


GROWTH_CHARTS = (
    GrowthChart(
        "growth-home-p95.svg",
        "home_p95_ms",
        "Home page p95",
        "devices",
        "ms",
        "the admin's home page, p95 of warm requests in one process; dashed: the trivial "
        "route of the same app",
        "trivial_p95_ms",
        "trivial route",
    ),
    GrowthChart(
        "growth-poll-cpu.svg",
        "poll_cpu_s_per_cycle",
        "Poll cycle CPU",
        "devices",
        "CPU s per cycle",
        "CPU seconds (not wall) of the polling process for one poll of every device",
    ),
    GrowthChart(
        "growth-serve-rss.svg",
        "serve_rss_mb",
        "edu serve resident memory",
        "devices",
        "MB",
        "VmRSS of `edu serve` after the admin loaded the home and devices pages",
    ),
    GrowthChart(
        "growth-tips-rate.svg",
        "tips_per_second",
        "Tip-run rate",
        "people",
        "tips/s",
        "tips sent per second by one tip run on SQLite, every person due",
    ),
    GrowthChart(
        "growth-tips-seconds.svg",
        "tip_run_s",
        "Tip-run time",
        "people",
        "s",
        "seconds of that tip run",
    ),
)


def growth_charts(series: dict[str, dict[str, float]]) -> dict[str, str]:
    """Every growth chart whose series was measured: {file name: SVG text}."""
    return {
        chart.file: line_chart(
            series[chart.series],
            title=chart.title,
            x_label=chart.x_label,
            y_label=chart.y_label,
            reference=series.get(chart.reference),
            reference_label=chart.reference_label,
        )
        for chart in GROWTH_CHARTS
        if len(series.get(chart.series, {})) >= 2
    }


def growth_markdown(series: dict[str, dict[str, float]]) -> str:
    """The charts as Markdown images side by side, then one line each: what it shows."""
    shown = [c for c in GROWTH_CHARTS if len(series.get(c.series, {})) >= 2]
    if not shown:
        return ""
    images = " ".join(f"![{c.title}]({CHARTS_DIR}/{c.file})" for c in shown)
    lines = []
    for c in shown:
        points = sorted((float(s), float(v)) for s, v in series[c.series].items())
        (first_size, first), (last_size, last) = points[0], points[-1]
        lines.append(
            f"- **{c.title}** ({c.what}): {number(first)} {c.y_label} at {number(first_size)} "
            f"{c.x_label}, {number(last)} at {number(last_size)}; {growth(points, c.x_label)}."
        )
    return f"How cost grows (`bench/growth.py`):\n\n{images}\n\n" + "\n".join(lines)
