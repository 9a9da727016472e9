"""Benchmark how cost grows with the household: pages, polling and memory by devices, tips by people.

At 30, 300, 3,000 and 10,000 devices: the admin's home page p95 beside the trivial route of
the same app (in this process, as web.py times them; the household as serve_memory.py builds
it, the shipped lessons), the RSS of `edu serve` on the same instance after / and /devices/
(serve_memory.py's measure), and the CPU seconds of one poll cycle of that many simulated
devices (poll.py's measure: process CPU time, not wall; one device per model scanned, the
others stored as it was). At 1,000, 10,000 and 100,000 people: one tip run on SQLite (tips.py's
build and child process): tips per second and seconds. Never asserts a time.

Prints one JSON object whose "series" maps each figure to {size: value}, the form
run_all.py charts. About 6 minutes on two idle cores, most of it polling 10,000 devices.

    python bench/growth.py [--devices 30 300 3000 10000] [--people 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
import poll  # noqa: E402  (the benchmarks whose builders and timers this one reuses)
import serve_memory  # noqa: E402
import tips  # noqa: E402
import web  # noqa: E402

DEVICES = (30, 300, 3000, 10_000)
PEOPLE = (1000, 10_000, 100_000)
SAMPLES = 100  # requests per route and size


def poll_cycles(devices: int) -> int:
    """Timed poll cycles at *devices* devices: fewer as each cycle grows (CPU time is steady)."""
    return 3 if devices <= 300 else 2 if devices <= 3000 else 1


def household(devices: int, samples: int) -> dict[str, Any]:
    """Build a household of *devices* devices; time its home page; read `edu serve`'s RSS."""
    with tempfile.TemporaryDirectory(prefix="edu-bench-growth-") as tmp:
        instance = Path(tmp) / "instance"
        admin = serve_memory.build(instance, devices)
        app = web.make_app(str(instance))
        client = web.signed_in(app, admin, serve_memory.PIN)
        routes = web.time_routes(client, {"home": "/", "trivial": "/bench/ping"}, samples)
        app.extensions["edu.engine"].dispose()
        memory = serve_memory.served(instance, admin)
    return {"devices": devices, "samples": samples, "routes": routes, "serve": memory}


def tip_run(people: int) -> dict[str, Any]:
    """Build *people* people (tips.py's households) on SQLite and time one tip run."""
    with tempfile.TemporaryDirectory(prefix="edu-bench-growth-tips-") as tmp:
        return tips.measure(f"sqlite:///{tmp}/tips.sqlite3", people, str(Path(tmp) / "instance"))


def series(
    households: list[dict[str, Any]], polls: list[dict[str, Any]], runs: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Each charted figure as {size: value} (sizes as strings, the JSON keys)."""

    def by_size(rows: list[dict[str, Any]], key: str, value: Any) -> dict[str, float]:
        return {str(row[key]): value(row) for row in rows}

    return {
        "home_p95_ms": by_size(households, "devices", lambda r: r["routes"]["home"]["p95_ms"]),
        "trivial_p95_ms": by_size(
            households, "devices", lambda r: r["routes"]["trivial"]["p95_ms"]
        ),
        "home_p95_ratio_to_trivial": by_size(
            households, "devices", lambda r: r["routes"]["home"]["p95_ratio_to_trivial"]
        ),
        "poll_cpu_s_per_cycle": by_size(polls, "devices", lambda r: r["cpu_s_per_cycle"]["median"]),
        "serve_rss_mb": by_size(households, "devices", lambda r: r["serve"]["rss_mb"]),
        "tips_per_second": by_size(runs, "people", lambda r: r["tips_per_second"]),
        "tip_run_s": by_size(runs, "people", lambda r: r["seconds"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=list(DEVICES))
    parser.add_argument("--people", type=int, nargs="+", default=list(PEOPLE))
    parser.add_argument("--samples", type=int, default=SAMPLES)
    args = parser.parse_args()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    households = [household(n, args.samples) for n in args.devices]
    seconds["households"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    polls = [poll.measure(n, poll_cycles(n), scan_all=False) for n in args.devices]
    seconds["polls"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    runs = [tip_run(n) for n in args.people]
    seconds["tip_runs"] = round(time.perf_counter() - started, 1)
    print(
        json.dumps(
            {
                "benchmark": "growth",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "series": series(households, polls, runs),
                "households": households,
                "polls": polls,
                "tip_runs": runs,
                "seconds": seconds,
                "note": "home page in-process (Flask test client, warm), p95 of "
                f"{args.samples} requests interleaved with the trivial route; RSS of `edu "
                "serve` after / and /devices/; poll CPU = process_time of the polling process "
                "per cycle (median); tip runs on SQLite, inbox channel, every person due",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
