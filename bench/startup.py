"""Benchmark: start-up time of `edu --help` and `edu lessons lint` beside `python -c pass`.

Each command runs --runs times as a subprocess (interleaved, so a busy moment hits them all
alike) and its median wall time is reported next to the bare interpreter's in the same run.
`python -c "import miio"` is measured too, for context: python-miio must be imported only
where devices are touched, or every command would pay for it. Target: under 0.3 s each.

Prints one JSON object. Usage: python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

EDU = str(Path(sys.executable).with_name("edu"))
COMMANDS = {
    "python_pass": [sys.executable, "-c", "pass"],
    "edu_help": [EDU, "--help"],
    "edu_lessons_lint": [EDU, "lessons", "lint"],
    "import_miio": [sys.executable, "-c", "import miio"],
}
TARGET_S = 0.3


def run_once(argv: list[str]) -> float:
    """Run *argv* to completion and return its wall time; fail loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-300:]!r}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the page cache (and any bytecode cache)
        run_once(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(run_once(argv))
    result: dict[str, dict[str, float]] = {}
    baseline = statistics.median(times["python_pass"])
    for name, values in times.items():
        median = statistics.median(values)
        result[name] = {
            "median_s": round(median, 3),
            "min_s": round(min(values), 3),
            "max_s": round(max(values), 3),
            "over_python_s": round(median - baseline, 3),
        }
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "runs": args.runs,
                "bytecode_cache_writes": not sys.dont_write_bytecode,
                **result,
                "within_target": all(
                    result[name]["median_s"] < TARGET_S for name in ("edu_help", "edu_lessons_lint")
                ),
                "targets": {"startup_s_max": TARGET_S},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
