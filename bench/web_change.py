"""Benchmark the first home page after a change, at 10,000 devices (a shop's or a big home's).

A household of 10,000 devices (built as serve_memory.py builds it: four mapped capabilities
and one unmapped descriptor each) and its admin. The admin's home page is asked for once
(the first page after start: everything read), then after each of a series of changes of the
kinds a household makes all day, each through the ORM like the services make them: a poll
finding a device offline or back, a person marking a lesson known, a detector recording a
feature in use. Each change bumps the household's revision, so each of those pages is drawn
afresh. Then the same page with nothing changed (the kept copy), and the first page after a
device's features changed (a scan: the capabilities are read again). Beside them, the
trivial route of the same app. Prints JSON; never asserts a wall-clock time.

    python bench/web_change.py [--devices 10000] [--changes 12]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_memory import PIN, build
from web import make_app, signed_in


def timed(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def change(engine: Any, admin: int, lessons: list[str], n: int) -> str:
    """Make the *n*th change (poll, person or detector, in turn); return its kind."""
    from sqlmodel import select

    from edu.db import unit_of_work, utcnow
    from edu.models import Device, FeatureUse, Person
    from edu.services.people import mark_lesson

    kind = ("poll", "person", "usage")[n % 3]
    with unit_of_work(engine) as session:
        if kind == "poll":
            device = session.exec(select(Device).offset(n * 97 % 10_000).limit(1)).one()
            device.status = "offline" if device.status == "online" else "online"
        elif kind == "person":
            person = session.get(Person, admin)
            assert person is not None
            mark_lesson(session, person, lessons[n % len(lessons)], "done")
        else:
            device = session.exec(select(Device).offset(n * 31 % 10_000).limit(1)).one()
            now = utcnow()
            session.add(
                FeatureUse(
                    household_id=device.household_id,
                    device_id=device.id or 0,
                    capability="power",
                    person_key=0,
                    uses=1,
                    first_used=now,
                    last_used=now,
                )
            )
    return kind


def rescan_one(engine: Any) -> None:
    """Give one device a feature more, as a scan that found it would."""
    from sqlmodel import select

    from edu.db import unit_of_work
    from edu.models import Device, DeviceCapability

    with unit_of_work(engine) as session:
        device = session.exec(select(Device).limit(1)).one()
        session.add(
            DeviceCapability(device_id=device.id or 0, capability="led", setting="led", mapped=True)
        )


def run(devices: int, changes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="edu-bench-change-") as folder:
        instance = Path(folder) / "instance"
        started = time.perf_counter()
        admin = build(instance, devices)
        build_seconds = time.perf_counter() - started
        app = make_app(str(instance))
        engine = app.extensions["edu.engine"]
        client = signed_in(app, admin, PIN)
        first = timed(client, "/")
        found = client.get("/api/v1/recommendations?limit=200").get_json()
        lessons = list(dict.fromkeys(item["lesson"] for item in found))
        after: dict[str, list[float]] = {}
        for n in range(changes):
            after.setdefault(change(engine, admin, lessons, n), []).append(timed(client, "/"))
        kept = [timed(client, "/") for _ in range(20)]
        trivial = [timed(client, "/bench/ping") for _ in range(20)]
        rescan_one(engine)
        features = timed(client, "/")
        engine.dispose()
    every = [t for times in after.values() for t in times]
    return {
        "benchmark": "web_change",
        "devices": devices,
        "build_seconds": round(build_seconds, 1),
        "first_home_after_start_s": round(first, 3),
        "first_home_after_a_change_s": {
            "median": round(statistics.median(every), 3),
            "max": round(max(every), 3),
            "changes": len(every),
            "by_kind_max": {kind: round(max(times), 3) for kind, times in after.items()},
        },
        "home_unchanged_p50_ms": round(statistics.median(kept) * 1000, 2),
        "trivial_p50_ms": round(statistics.median(trivial) * 1000, 2),
        "first_home_after_a_features_change_s": round(features, 3),
        "targets": {"first_home_after_a_change_s_max": 0.2},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=12)
    args = parser.parse_args()
    print(json.dumps(run(args.devices, args.changes), indent=2))


if __name__ == "__main__":
    main()
