"""The Performance table's rows: each benchmark's JSON as figure, measured, baseline, target, met."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _cells import Row, _ms, _s, _verdict, row
from _table_web import rows_web, rows_web_change


def rows_discovery(r: dict[str, Any]) -> list[Row]:
    timeout = r["hello_timeout_s"]
    return [
        row(
            f"Discovery: unicast sweep of a /24 ({r['devices']} devices, {r['silent_addresses']} silent addresses)",
            f"{_s(r['sweep']['median_s'])} = {r['sweep_vs_timeout']}× the hello timeout; "
            f"found {r['sweep']['found']} of {r['devices']}",
            f"hello timeout {timeout} s",
            "≤ 1.5× one hello timeout",
            _verdict(r["sweep_vs_timeout"] <= 1.5 and r["sweep"]["found"] == r["devices"]),
        ),
        row(
            "Discovery: sweep vs sequential python-miio",
            f"{r['speedup_vs_sequential']}× faster",
            f"python-miio discover, one address after another: {_s(r['sequential_python_miio']['seconds'])}",
            "≥ 20× faster",
            _verdict(r["speedup_vs_sequential"] >= 20),
        ),
    ]


def rows_scan(r: dict[str, Any]) -> list[Row]:
    out = []
    for key, label in (("loopback", "bare loopback"), ("latency", "replies delayed")):
        c = r.get(key)
        if not c:
            continue
        delay = f" {c['reply_delay_ms']} ms" if c["reply_delay_ms"] else ""
        out.append(
            row(
                f"Scan (identify + capabilities) of {r['devices']} devices, {label}{delay}",
                f"{_s(c['concurrent']['median_s'])} concurrent "
                f"(speed-up {c['speedup_vs_sequential']}×)",
                f"sequential {_s(c['sequential']['median_s'])}",
                "report",
            )
        )
    families = r.get("families")
    if families:
        online = families["outcomes"].get("scanned", 0)
        out.append(
            row(
                f"Scan of one device of each of the {families['families']} families "
                f"({families['devices']} devices, bare loopback)",
                f"{_s(families['concurrent']['median_s'])} concurrent; "
                f"{online} of {families['devices']} online with capabilities",
                f"sequential {_s(families['sequential']['median_s'])}",
                "every device online",
                _verdict(online == families["devices"] and families["same_outcomes_every_run"]),
            )
        )
    return out


def rows_poll(r: dict[str, Any]) -> list[Row]:
    return [
        row(
            f"Poll cycle of {r['devices']} devices on SQLite: CPU of the polling process",
            f"{r['cpu_s_per_cycle']['median']:.2f} s CPU ({r['cpu_ms_per_device']} ms/device)",
            f"wall {_s(r['wall_s_per_cycle']['median'])}; the fleet's own CPU "
            f"{r['fleet_process_cpu_s_per_cycle']:.2f} s",
            "report",
        )
    ]


def rows_recommend(r: dict[str, Any]) -> list[Row]:
    what = f"{r['devices']} devices, {r['lessons']:,} lessons, {r['usage_events']:,} events"
    plain = f"plain device query p95 {_ms(r['plain_query_ms']['p95'])}"
    p95 = r["recommend_ms"]["p95"]
    return [
        row(
            f"Recommendations p95 ({what})",
            f"{_ms(p95)} ({r['p95_ratio']}× the plain query)",
            plain,
            "< 10 ms and ≤ 5× the plain query",
            _verdict(p95 < 10 and r["p95_ratio"] <= 5),
        ),
        row(
            "Recommendations p95, cold cache (first page after a change)",
            f"{_ms(r['cold_ms']['p95'])} ({r['cold_p95_ratio']}× the plain query)",
            plain,
            "report",
        ),
    ]


def rows_tips(r: dict[str, Any]) -> list[Row]:
    out = []
    target = r.get("targets", {}).get("sqlite_tips_per_second_min", 2000)
    for item in r.get("results", []):
        database = item.get("database", "?")
        sqlite = database == "sqlite"
        rate = item.get("tips_per_second", 0)
        name = "SQLite" if sqlite else "PostgreSQL" if database.startswith("postgres") else database
        out.append(
            row(
                f"Tip run, {item.get('people', 0):,} people, {name}",
                f"{rate:,} tips/s ({_s(item.get('seconds', 0))}"
                + (f", peak RSS {item['peak_rss_mb']} MB)" if "peak_rss_mb" in item else ")"),
                "—",
                f"≥ {target:,}/s" if sqlite else "report",
                _verdict(rate >= target) if sqlite else "",
            )
        )
    return out


def rows_hub(r: dict[str, Any]) -> list[Row]:
    target = r.get("targets", {}).get("reports_per_second_min", 1000)
    homes, db = (
        r["homes_joined"],
        "PostgreSQL" if r["database"].startswith("postgres") else "SQLite",
    )
    if "refresh_seconds" not in r:  # a result of the version that counted at request time
        return _rows_hub_before(r, homes, db, target)
    return [
        row(
            f"Hub: signed reports from {homes:,} homes × {r['devices_per_home']} devices, "
            f"{r['senders']} senders, {db}, {r['workers']} hub worker(s)",
            f"{r['reports_per_second']:,} reports/s, {r['reports_refused']} refused "
            f"(hub {r['hub_cpu_ms_per_report']} ms + PostgreSQL "
            f"{r['postgres_cpu_ms_per_report']} ms CPU a report)",
            f"joins {r['joins_per_second']:,}/s; peak RSS {r['hub_peak_rss_mb']} MB summed, "
            f"PSS {r['hub_pss_mb_at_end']} MB",
            f"≥ {target:,}/s",
            _verdict(r["reports_per_second"] >= target),
        ),
        row(
            f"Hub: refresh of the published table from {r['report_rows']:,} reports "
            f"({r['capabilities_counted']:,} capabilities)",
            _s(r["refresh_seconds"]),
            f"GET /hub/v1/adoption p95 {_ms(r['adoption_p95_ms'])}, "
            f"the public index p95 {_ms(r['published_index_p95_ms'])}",
            "report",
        ),
    ]


def _rows_hub_before(r: dict[str, Any], homes: int, db: str, target: int) -> list[Row]:
    return [
        row(
            f"Hub: signed reports from {homes:,} homes × {r['devices_per_home']} devices, "
            f"{r['senders']} senders, {db}",
            f"{r['reports_per_second']:,} reports/s, {r['reports_refused']} refused "
            f"(peak RSS {r['hub_peak_rss_mb']} MB)",
            f"joins {r['joins_per_second']:,}/s",
            f"≥ {target:,}/s",
            _verdict(r["reports_per_second"] >= target),
        ),
        row(
            f"Hub: GET /hub/v1/adoption p95 over {r['usage_rows']:,} rows",
            _ms(r["adoption_p95_ms"]),
            f"every published model (the public index) p95 {_ms(r['published_index_p95_ms'])}",
            "report",
        ),
    ]


def rows_demo_hub(r: dict[str, Any]) -> list[Row]:
    limit = r.get("targets", {}).get("seed_seconds_max", 10.0)
    return [
        row(
            f"`edu demo --hub`: {r['homes']:,} simulated homes join and report, signed, over HTTP",
            f"{_s(r['seed_seconds'])} ({r['homes_per_second']:,} homes/s)",
            f"hub up, seeded, household joined and sent {_s(r['start_seconds'])}",
            f"< {_s(limit)}",
            _verdict(r["seed_seconds"] < limit),
        )
    ]


def rows_startup(r: dict[str, Any]) -> list[Row]:
    base = f"python -c pass {_s(r['python_pass']['median_s'])}"
    limit = r.get("targets", {}).get("startup_s_max", 0.3)
    out = [
        row(
            f"Start-up: `{command}` (median of {r['runs']})",
            _s(r[key]["median_s"]),
            base,
            f"< {limit} s",
            _verdict(r[key]["median_s"] < limit),
        )
        for key, command in (("edu_help", "edu --help"), ("edu_lessons_lint", "edu lessons lint"))
    ]
    out.append(
        row(
            'Start-up: `python -c "import miio"` (context)',
            _s(r["import_miio"]["median_s"]),
            base,
            "only where devices are touched",
        )
    )
    return out


def rows_serve_memory(r: dict[str, Any]) -> list[Row]:
    full, empty, targets = r["full"], r["empty"], r.get("targets")
    out = [
        row(
            f"`edu serve` resident memory holding {full['devices']:,} devices",
            f"{full['rss_mb']} MB (+{r['rss_difference_mb']} MB, {r['rss_kb_per_device']} KB/device)",
            f"empty household {empty['rss_mb']} MB",
            f"≤ empty + {targets['difference_max_mb']} MB" if targets else "report",
            _verdict(r["rss_difference_mb"] <= targets["difference_max_mb"]) if targets else "",
        )
    ]
    if targets:
        most = targets["empty_over_floor_max"]
        baseline = f"import floor {r['import_floor']['rss_mb']} MB (same run)"
        loaded = r.get("other_floors", {}).get("loaded")
        if loaded:  # the libraries the server did load: what is left of the floor for it
            baseline += (
                f"; over only the floor's libraries it loaded ({loaded['rss_mb']} MB): "
                f"{loaded['empty_over_floor']}×"
            )
        out.append(
            row(
                "`edu serve` resident memory, empty household, over the import floor",
                f"{empty['rss_mb']} MB = {r['empty_over_floor']}× the floor",
                baseline,
                f"≤ {most}×",
                _verdict(r["empty_over_floor"] <= most),
            )
        )
    return out


def rows_fuzz(r: dict[str, Any]) -> list[Row]:
    mutation, guided = r["random_mutation"], r.get("atheris") or {}
    rates = f"random mutation {mutation['inputs_per_second']:,} inputs/s"
    if guided.get("inputs_per_second"):
        rates += f", atheris {guided['inputs_per_second']:,} inputs/s"
    target = r.get("targets", {}).get("inputs_min", 100_000)
    ok = r["only_packet_error_escaped"]
    return [
        row(
            "Fuzz of parse_hello and parse_reply",
            f"{r['inputs']:,} inputs; "
            + ("only PacketError escaped" if ok else "other exceptions escaped"),
            rates,
            f"≥ {target:,} inputs, only PacketError",
            _verdict(ok and r["inputs"] >= target),
        )
    ]


def rows_growth(r: dict[str, Any]) -> list[Row]:
    series = r["series"]

    def span(name: str) -> tuple[str, str]:
        points = sorted((int(size), value) for size, value in series[name].items())
        (low, first), (high, last) = points[0], points[-1]
        return f"{low:,} → {high:,}", f"×{last / first:.3g}" if first else "from 0"

    devices, people = span("home_p95_ms")[0], span("tips_per_second")[0]
    return [
        row(
            f"How cost grows: {devices} devices, {people} people (charts below)",
            f"home p95 {span('home_p95_ms')[1]}, poll CPU {span('poll_cpu_s_per_cycle')[1]}, "
            f"`edu serve` RSS {span('serve_rss_mb')[1]}; tips/s {span('tips_per_second')[1]}",
            f"trivial route p95 {span('trivial_p95_ms')[1]}",
            "report",
        )
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "discovery": rows_discovery,
    "scan": rows_scan,
    "poll": rows_poll,
    "recommend": rows_recommend,
    "web": rows_web,
    "web_change": rows_web_change,
    "tips": rows_tips,
    "hub": rows_hub,
    "demo_hub": rows_demo_hub,
    "startup": rows_startup,
    "serve_memory": rows_serve_memory,
    "fuzz": rows_fuzz,
    "growth": rows_growth,
}
# Table order: the loop's order (LAN side, then the app), then the rest.
TABLE_ORDER = (
    "discovery",
    "scan",
    "poll",
    "recommend",
    "web",
    "web_change",
    "tips",
    "startup",
    "serve_memory",
    "fuzz",
    "hub",
    "growth",  # last: its charts follow the table
)


def rows_for(results: dict[str, Any]) -> list[Row]:
    """Every table row for a results.json document."""
    benchmarks = results["benchmarks"]
    names = [n for n in TABLE_ORDER if n in benchmarks]
    names += sorted(n for n in benchmarks if n not in TABLE_ORDER)
    out: list[Row] = []
    for name in names:
        entry = benchmarks[name]
        result = entry.get("result")
        if entry.get("exit_status") != 0 and not result:
            out.append(row(name, f"failed: {entry.get('exit_status')}", "", "", "✗"))
            continue
        try:
            made = ROWS[name](result) if name in ROWS else []
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            made = [row(name, f"unreadable result ({type(exc).__name__}: {exc})", "", "", "")]
        if name not in ROWS:
            made = [row(name, "see bench/results.json", "", "report")]
        if entry.get("exit_status") != 0:
            made.append(row(name, f"exited {entry.get('exit_status')}", "", "", "✗"))
        out.extend(made)
    return out


def table(results: dict[str, Any]) -> str:
    """The Markdown table of every figure beside its baseline and target."""
    lines = [
        "| figure | measured | baseline (same run) | target | met |",
        "|---|---|---|---|:-:|",
    ]
    for r in rows_for(results):
        cells = [
            r[k].replace("|", "\\|") for k in ("figure", "measured", "baseline", "target", "met")
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
