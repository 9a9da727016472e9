"""The Performance table's rows for the household pages: ratios to the trivial route, throughput,
and the first home page after a change (bench/web.py, bench/web_change.py)."""

from __future__ import annotations

from typing import Any

from _cells import Row, _ms, _s, _verdict, row

PAGE_RATIO = 3.0  # issue 14: home and lesson pages p95 <= 3x the trivial route
LIST_RATIO = 5.0  # issue 14: the devices API and the other paged lists <= 5x
THROUGHPUT_MIN = 200  # issue 14: home page, 16 clients in another process, req/s


def _ratio_row(figure: str, item: dict[str, Any], trivial: str, limit: float) -> Row:
    ratio = item["p95_ratio_to_trivial"]
    return row(
        figure,
        f"{_ms(item['p95_ms'])} ({ratio}× trivial)",
        trivial,
        f"≤ {limit:g}× trivial",
        _verdict(ratio <= limit),
    )


def rows_web(r: dict[str, Any]) -> list[Row]:
    lat, put = r["latency"], r["throughput"]
    trivial = f"trivial route p95 {_ms(lat['trivial']['p95_ms'])}"
    rate = put["requests_per_second"]
    return [
        _ratio_row(
            "Home page p95 (30 devices, 1,000 lessons, 100,000 events)",
            lat["home"],
            trivial,
            PAGE_RATIO,
        ),
        _ratio_row("Lesson page p95", lat["lesson"], trivial, PAGE_RATIO),
        *rows_large_household(r.get("large_household")),
        row(
            f"Home page throughput, {put['clients']} clients in another process",
            f"{rate} req/s, {put['errors']} errors",
            put.get("server", ""),
            f"≥ {THROUGHPUT_MIN} req/s, 0 errors",
            _verdict(put["errors"] == 0 and rate >= THROUGHPUT_MIN),
        ),
    ]


def rows_large_household(r: dict[str, Any] | None) -> list[Row]:
    if not r:
        return []  # measured before the web benchmark timed the large household
    routes = r["routes"]
    trivial = f"trivial route p95 {_ms(routes['trivial']['p95_ms'])}"
    names = {"home": "Home page", "devices": "Devices page", "progress": "Progress page"}
    names["api_devices"] = "GET /api/v1/devices"
    return [
        _ratio_row(
            f"{title} p95, {r['devices']:,} devices ({routes[name]['kb']:,} KB)",
            routes[name],
            trivial,
            PAGE_RATIO if name == "home" else LIST_RATIO,
        )
        for name, title in names.items()
    ]


def rows_web_change(r: dict[str, Any]) -> list[Row]:
    after, limit = r["first_home_after_a_change_s"], r["targets"]["first_home_after_a_change_s_max"]
    return [
        row(
            f"First home page after a change, {r['devices']:,} devices (poll, person, detector)",
            f"{_s(after['max'])} at most, median {_s(after['median'])} ({after['changes']} changes)",
            f"unchanged {_ms(r['home_unchanged_p50_ms'])}; after start {_s(r['first_home_after_start_s'])}",
            f"≤ {_s(limit)}",
            _verdict(after["max"] <= limit),
        ),
        row(
            f"First home page after a device's features changed (a scan), {r['devices']:,} devices",
            _s(r["first_home_after_a_features_change_s"]),
            "every capability read again",
            "report",
        ),
    ]
