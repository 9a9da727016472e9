"""Benchmark: one tip run for 100,000 people with the inbox channel, on SQLite and on PostgreSQL.

25,000 households of four people, each household with two devices (their capabilities from
the shipped lessons, some features already in use, a few lessons learned). The tip run is
timed in a fresh child process, which also reports its peak memory (the high-water mark of
its resident set: interpreter, imports and the run). Prints one JSON object.
Usage: python bench/tips.py [--people 100000] [--postgres postgresql://postgres@127.0.0.1:5432 | --no-postgres]
PostgreSQL gets a database of its own, created and dropped by the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FAMILIES = ("fan", "air-purifier", "vacuum", "light", "humidifier", "plug", "heater", "air-monitor")
NOW = "2025-06-02T12:00"  # the households' local time: after 10:00, outside quiet hours


def rss_mb() -> float:
    """Return the current resident set size of this process, in MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(url: str, people: int, seed: int = 7) -> dict[str, int]:
    """Fill an empty database with households, devices, capabilities, usage and progress."""
    from edu.catalogue import catalogue
    from edu.models import Device, DeviceCapability, FeatureUse, Household, LessonProgress, Person
    from edu.schema import create_schema, make_engine

    rng = random.Random(seed)
    book = catalogue()
    caps = {
        f: sorted({les.capability for les in book.lessons("en") if f in les.families})
        for f in FAMILIES
    }
    lessons = {f: [les.id for les in book.lessons("en") if f in les.families] for f in FAMILIES}
    engine = make_engine(url)
    create_schema(engine)
    arrived = datetime(2024, 1, 1, tzinfo=UTC)
    homes = people // 4
    counts = {
        "households": homes,
        "people": 0,
        "devices": 0,
        "capabilities": 0,
        "uses": 0,
        "marks": 0,
    }
    batch = 2_500
    with engine.begin() as conn:
        for start in range(0, homes, batch):
            ids = range(start + 1, min(homes, start + batch) + 1)
            rows: dict[Any, list[dict[str, Any]]] = {
                t: []
                for t in (Household, Device, DeviceCapability, Person, FeatureUse, LessonProgress)
            }
            for hid in ids:
                rows[Household].append(
                    {
                        **Household(name=f"Home {hid}", timezone="Europe/Berlin").model_dump(),
                        "id": hid,
                    }
                )
                for n in range(2):
                    did = hid * 2 + n
                    family = FAMILIES[(hid + 3 * n) % len(FAMILIES)]
                    rows[Device].append(
                        {
                            **Device(
                                household_id=hid,
                                did=did,
                                ip="127.0.0.1",
                                family=family,
                                status="online",
                                first_seen=arrived,
                            ).model_dump(),
                            "id": did,
                        }
                    )
                    for cap in caps[family]:
                        rows[DeviceCapability].append(
                            {
                                "device_id": did,
                                "capability": cap,
                                "mapped": True,
                                "in_use": False,
                                "setting": cap,
                            }
                        )
                    for cap in rng.sample(caps[family], 2):
                        rows[FeatureUse].append(
                            {
                                "household_id": hid,
                                "device_id": did,
                                "capability": cap,
                                "person_key": 0,
                                "first_used": arrived,
                                "last_used": arrived,
                                "uses": 1,
                            }
                        )
                for n in range(4):
                    pid = hid * 4 + n
                    rows[Person].append(
                        {**Person(household_id=hid, name=f"P{n}").model_dump(), "id": pid}
                    )
                    family = FAMILIES[hid % len(FAMILIES)]
                    for lesson in rng.sample(lessons[family], 1):
                        rows[LessonProgress].append(
                            {
                                "person_id": pid,
                                "lesson": lesson,
                                "capability": "",
                                "state": "done",
                                "until": None,
                                "updated_at": arrived,
                            }
                        )
            for table in (Household, Device, DeviceCapability, Person, FeatureUse, LessonProgress):
                conn.execute(table.__table__.insert(), rows[table])  # type: ignore[attr-defined]
            counts["people"] += len(rows[Person])
            counts["devices"] += len(rows[Device])
            counts["capabilities"] += len(rows[DeviceCapability])
            counts["uses"] += len(rows[FeatureUse])
            counts["marks"] += len(rows[LessonProgress])
    engine.dispose()
    return counts


def child(url: str, instance: str) -> None:
    """Run the tip run once (in this fresh process) and print its figures as JSON."""
    from edu.config import Settings
    from edu.schema import make_engine
    from edu.tips.run import run_tips

    settings = Settings.from_env({"EDU_INSTANCE": instance, "EDU_DATABASE_URL": url})
    engine = make_engine(settings.database_url)
    before = rss_mb()
    start = time.perf_counter()
    report = run_tips(engine, settings, datetime.fromisoformat(NOW), collect=False)
    seconds = time.perf_counter() - start
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "tips": report.sent,
                "people": report.people,
                "seconds": round(seconds, 2),
                "tips_per_second": round(report.sent / seconds),
                "rss_before_run_mb": round(before, 1),
                "peak_rss_mb": round(peak, 1),
                "decisions": dict(report.decisions),
            }
        )
    )


def measure(url: str, people: int, instance: str) -> dict[str, Any]:
    """Build the data at *url*, then time one tip run in a child process."""
    start = time.perf_counter()
    counts = build(url, people)
    built = time.perf_counter() - start
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, instance],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {
        "database": url.split(":", 1)[0],
        **json.loads(out.strip().splitlines()[-1]),
        "data": counts,
        "build_seconds": round(built, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL (without a database name)",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("URL", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        instance = str(Path(tmp) / "instance")
        results.append(measure(f"sqlite:///{tmp}/bench.sqlite3", args.people, instance))
        if not args.no_postgres:
            import psycopg

            name = f"edu_bench_tips_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                results.append(measure(f"{args.postgres}/{name}", args.people, instance))
            finally:
                with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        json.dumps(
            {
                "benchmark": "tips",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "channel": "inbox",
                "results": results,
                "targets": {"sqlite_tips_per_second_min": 2000},
                "note": f"one tip run at {NOW} local time; every person due; times exclude building the data",
                "when": (datetime.now(UTC) - timedelta(microseconds=0)).isoformat(
                    timespec="seconds"
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
