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
    python bench/run_all.py --only growth --merge     # run one, replace only its entry

The README table sits between the markers `<!-- bench:start -->` and `<!-- bench:end -->`;
tests/test_bench_table.py checks that it matches bench/results.json. Below it, the growth
series of bench/growth.py as one SVG chart each, drawn into docs/bench/ whenever
bench/results.json or the README table is written (tests/test_bench_charts.py).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # for bench/_table.py, also when this file is loaded by its path
from _charts import CHARTS_DIR, growth_charts, growth_markdown  # noqa: E402
from _table import table  # noqa: E402

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
    "demo_hub",
    "hub",
    "growth",
)
TIMEOUTS = {"discovery": 300, "tips": 480, "web": 240, "hub": 240, "growth": 1200}
DEFAULT_TIMEOUT = 240


# -- running --------------------------------------------------------------------------


def scripts() -> list[Path]:
    """Every benchmark script, in run order (known ones first, then any new ones by name)."""
    # this file and the modules it uses (a leading underscore) are not benchmarks
    found = {
        p.stem: p
        for p in BENCH.glob("*.py")
        if p.name != Path(__file__).name and not p.name.startswith("_")
    }
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


def describe_machine(results: dict[str, Any]) -> str:
    """One line: where and when the table was measured, and how long the run took."""
    m = results["machine"]
    minutes, seconds = divmod(round(results["total_seconds"]), 60)
    rerun = "".join(
        f"; {name} re-run alone {date[:10]} (`--only {name} --merge`)"
        for name, date in sorted(results.get("rerun", {}).items())
    )
    return (
        f"Measured {results['date'][:10]} on {m['cpu']}, {m['cores_usable']} cores, "
        f"{m['memory_gib']:g} GiB, Python {m['python']}, {m['os']}; "
        f"the whole run took {minutes} min {seconds:02d} s (`make bench`){rerun}."
    )


def growth_series(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """bench/growth.py's series from a results document ({} when it did not run)."""
    entry = results["benchmarks"].get("growth") or {}
    return (entry.get("result") or {}).get("series", {})


def section(results: dict[str, Any]) -> str:
    """What goes between the README markers."""
    charts = growth_markdown(growth_series(results))
    return f"{describe_machine(results)}\n\n{table(results)}" + (f"\n\n{charts}" if charts else "")


def write_charts(results: dict[str, Any], root: Path = ROOT) -> list[Path]:
    """Draw the growth charts of *results* into docs/bench/; return the files written."""
    folder = root / CHARTS_DIR
    written = []
    for name, svg in growth_charts(growth_series(results)).items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(svg, encoding="utf-8")
        written.append(folder / name)
    return written


def merged(results: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """*previous* with the benchmarks of *results* replaced (and noted, with their date)."""
    benchmarks = {**previous["benchmarks"], **results["benchmarks"]}
    total = previous["total_seconds"] + sum(
        results["benchmarks"][n]["seconds"] - previous["benchmarks"].get(n, {}).get("seconds", 0)
        for n in results["benchmarks"]
    )
    rerun = {**previous.get("rerun", {}), **{n: results["date"] for n in results["benchmarks"]}}
    return {**previous, "total_seconds": round(total, 1), "benchmarks": benchmarks, "rerun": rerun}


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
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with --only: replace just those entries of results.json (and the README with --readme)",
    )
    args = parser.parse_args()
    if args.merge and not args.only:
        parser.error("--merge needs --only")
    if args.readme_only:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
        rewrite_readme(results)
        write_charts(results)
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
    if args.merge:
        results = merged(results, json.loads(RESULTS.read_text(encoding="utf-8")))
    if args.merge or not args.only:
        RESULTS.write_text(
            json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        write_charts(results)
        if args.readme:
            rewrite_readme(results)
    print(section(results))
    failed = [name for name, entry in benchmarks.items() if entry["exit_status"] != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
