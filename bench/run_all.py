"""Run every benchmark under bench/, keep their JSON in bench/results.json, print one table.

Each bench/*.py (but this file) runs as a subprocess, one after another, each with a
timeout and in its own process group (so a timeout also ends the fleets and servers it
started). Their JSON goes into bench/results.json with the machine it ran on: CPU model,
cores, memory, Python, OS, date. The table (Markdown) shows every figure beside its
baseline from the same run and its target, with a mark where a target is met or missed.

    python bench/run_all.py               # run all, write bench/results.json, print the table
    python bench/run_all.py --readme      # the same, then rewrite README.md's Performance table
    python bench/run_all.py --readme-only # only rewrite README.md from bench/results.json
    python bench/run_all.py --only scan --only poll   # run some, print, write nothing

The README table sits between the markers `<!-- bench:start -->` and `<!-- bench:end -->`;
tests/test_bench_table.py checks that it matches bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results.json"
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
# Run order: start-up first, while nothing of ours is warm; the long ones last.
ORDER = (
    "startup",
    "fuzz",
    "scan",
    "poll",
    "discovery",
    "recommend",
    "web",
    "serve_memory",
    "tips",
)
TIMEOUTS = {"discovery": 300, "tips": 480, "web": 240}
DEFAULT_TIMEOUT = 240

Row = dict[str, str]


# -- running --------------------------------------------------------------------------


def scripts() -> list[Path]:
    """Every benchmark script, in run order (known ones first, then any new ones by name)."""
    found = {p.stem: p for p in BENCH.glob("*.py") if p.name != Path(__file__).name}
    known = [found.pop(name) for name in ORDER if name in found]
    return known + [found[name] for name in sorted(found)]


def run_one(path: Path) -> dict[str, Any]:
    """Run one benchmark script; return its JSON with how long it took and how it ended."""
    timeout = TIMEOUTS.get(path.stem, DEFAULT_TIMEOUT)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=timeout)
        status: int | str = child.returncode
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        status = f"timed out after {timeout} s"
    entry: dict[str, Any] = {
        "seconds": round(time.perf_counter() - started, 1),
        "exit_status": status,
    }
    try:
        entry["result"] = json.loads(out[out.index("{") :])
    except ValueError:
        entry["result"] = None
    if status != 0 or entry["result"] is None:
        entry["stderr_tail"] = err[-2000:]
    return entry


def machine() -> dict[str, Any]:
    """Describe this machine: CPU model, cores, memory, Python, OS."""
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = 0.0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_gib = int(line.split()[1]) / 2**20
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


# -- the table ------------------------------------------------------------------------


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _verdict(ok: bool) -> str:
    return "✓" if ok else "✗"


def row(figure: str, measured: str, baseline: str, target: str, met: str = "") -> Row:
    return {
        "figure": figure,
        "measured": measured,
        "baseline": baseline,
        "target": target,
        "met": met,
    }


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


def rows_web(r: dict[str, Any]) -> list[Row]:
    lat, put = r["latency"], r["throughput"]
    trivial = f"trivial route p95 {_ms(lat['trivial']['p95_ms'])}"
    return [
        row(
            "Home page p95 (30 devices, 1,000 lessons, 100,000 events)",
            f"{_ms(lat['home']['p95_ms'])} ({lat['home']['p95_ratio_to_trivial']}× trivial)",
            trivial,
            "report",
        ),
        row(
            "Lesson page p95",
            f"{_ms(lat['lesson']['p95_ms'])} ({lat['lesson']['p95_ratio_to_trivial']}× trivial)",
            trivial,
            "report",
        ),
        *rows_large_household(r.get("large_household")),
        row(
            f"Home page throughput, {put['clients']} clients in another process",
            f"{put['requests_per_second']} req/s, {put['errors']} errors",
            put.get("server", ""),
            "report; 0 errors",
            _verdict(put["errors"] == 0),
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
        row(
            f"{title} p95, {r['devices']:,} devices ({routes[name]['kb']:,} KB)",
            f"{_ms(routes[name]['p95_ms'])} ({routes[name]['p95_ratio_to_trivial']}× trivial)",
            trivial,
            "report",
        )
        for name, title in names.items()
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
    full, empty = r["full"], r["empty"]
    return [
        row(
            f"`edu serve` resident memory holding {full['devices']:,} devices",
            f"{full['rss_mb']} MB (+{r['rss_difference_mb']} MB, {r['rss_kb_per_device']} KB/device)",
            f"empty household {empty['rss_mb']} MB",
            "report",
        )
    ]


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


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "discovery": rows_discovery,
    "scan": rows_scan,
    "poll": rows_poll,
    "recommend": rows_recommend,
    "web": rows_web,
    "tips": rows_tips,
    "startup": rows_startup,
    "serve_memory": rows_serve_memory,
    "fuzz": rows_fuzz,
}
# Table order: the loop's order (LAN side, then the app), then the rest.
TABLE_ORDER = (
    "discovery",
    "scan",
    "poll",
    "recommend",
    "web",
    "tips",
    "startup",
    "serve_memory",
    "fuzz",
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


def describe_machine(results: dict[str, Any]) -> str:
    """One line: where and when the table was measured, and how long the run took."""
    m = results["machine"]
    minutes, seconds = divmod(round(results["total_seconds"]), 60)
    return (
        f"Measured {results['date'][:10]} on {m['cpu']}, {m['cores_usable']} cores, "
        f"{m['memory_gib']:g} GiB, Python {m['python']}, {m['os']}; "
        f"the whole run took {minutes} min {seconds:02d} s (`make bench`)."
    )


def section(results: dict[str, Any]) -> str:
    """What goes between the README markers."""
    return f"{describe_machine(results)}\n\n{table(results)}"


def rewrite_readme(results: dict[str, Any], readme: Path = README) -> None:
    """Replace the text between the bench markers in *readme* with the latest table."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{section(results)}\n{END}{tail}", encoding="utf-8")


def readme_section(readme: Path = README) -> str | None:
    """Return the text between the bench markers of *readme* (None without markers)."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n")


# -- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="also rewrite README's table")
    parser.add_argument(
        "--readme-only", action="store_true", help="only rewrite README from results.json"
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run only this benchmark (repeatable)"
    )
    args = parser.parse_args()
    if args.readme_only:
        rewrite_readme(json.loads(RESULTS.read_text(encoding="utf-8")))
        print(f"rewrote the Performance table in {README.name} from {RESULTS.name}")
        return
    chosen = [p for p in scripts() if not args.only or p.stem in args.only]
    started = time.perf_counter()
    benchmarks: dict[str, Any] = {}
    for path in chosen:
        print(f"== {path.name} ...", file=sys.stderr, flush=True)
        benchmarks[path.stem] = entry = run_one(path)
        print(
            f"   {entry['seconds']} s, exit status {entry['exit_status']}",
            file=sys.stderr,
            flush=True,
        )
        if entry.get("stderr_tail"):
            print(entry["stderr_tail"], file=sys.stderr)
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "total_seconds": round(time.perf_counter() - started, 1),
        "benchmarks": benchmarks,
    }
    if not args.only:
        RESULTS.write_text(
            json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if args.readme:
            rewrite_readme(results)
    print(section(results))
    failed = [name for name, entry in benchmarks.items() if entry["exit_status"] != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
