"""Benchmark: recommendations for one person with 30 devices, 1,000 lessons, 100,000 usage events.

Beside it, in the same run and the same kind of session, the plain query a page needs
anyway: the list of the person's devices. Prints one JSON object.
Usage: python bench/recommend.py [--runs 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from devices.vocabulary import Vocabulary
from edu.db import key, unit_of_work, utcnow
from edu.models import Device, DeviceCapability, Household, Person, UsageEvent
from edu.schema import create_schema, make_engine
from edu.services.recommend import recommend
from edu.state import clear_state_cache
from lessons.catalogue import Catalogue, Lesson

LEVELS = ("beginner", "intermediate", "advanced")


def build_catalogue(vocabulary: Vocabulary, count: int, rng: random.Random) -> Catalogue:
    """A catalogue of *count* English lessons spread over the vocabulary's capabilities."""
    caps = sorted(vocabulary, key=lambda c: c.id)
    lessons: list[Lesson] = []
    for n in range(count):
        cap = caps[n % len(caps)]
        family = cap.families[n % len(cap.families)]
        lesson_id = f"{family}-{cap.id}-{n}"
        requires = (
            (lessons[-1].id,) if lessons and n % 7 == 0 and lessons[-1].capability != cap.id else ()
        )
        lessons.append(
            Lesson(
                id=lesson_id,
                capability=cap.id,
                families=(family,),
                level=LEVELS[n % 3],
                minutes=1 + n % 4,
                title=f"Lesson {n} about {cap.title}",
                summary=cap.summary,
                requires=requires,
                body="Body.",
            )
        )
    return Catalogue(lessons)


def build_database(url: str, vocabulary: Vocabulary, events: int, rng: random.Random) -> int:
    """Fill the database; return the id of the person to recommend for."""
    engine = make_engine(url)
    create_schema(engine)
    now = utcnow()
    with unit_of_work(engine) as session:
        household = Household(name="Bench home")
        session.add(household)
        session.flush()
        people = [
            Person(household_id=key(household), name=f"P{n}", role="member") for n in range(5)
        ]
        session.add_all(people)
        families = [
            "vacuum",
            "air-purifier",
            "fan",
            "humidifier",
            "light",
            "plug",
            "heater",
            "air-monitor",
        ]
        devices = []
        for n in range(30):
            family = families[n % len(families)]
            device = Device(
                household_id=key(household),
                did=1000 + n,
                ip=f"127.0.9.{n + 10}",
                model=f"bench.{family}.m{n}",
                family=family,
                status="online",
                first_seen=now - timedelta(days=n),
            )
            session.add(device)
            devices.append(device)
        session.flush()
        for device in devices:
            for cap in vocabulary.for_family(device.family or ""):
                session.add(
                    DeviceCapability(
                        device_id=key(device), capability=cap.id, mapped=True, setting=cap.id
                    )
                )
            for extra in range(3):
                session.add(
                    DeviceCapability(
                        device_id=key(device),
                        capability=f"Unmapped.prop_{extra}",
                        mapped=False,
                        details={"name": f"Prop {extra}", "writable": True},
                    )
                )
        session.flush()
        caps = [(key(d), c.id) for d in devices for c in vocabulary.for_family(d.family or "")]
        person_ids = [key(p) for p in people]
        target = person_ids[0]
    rows = []
    for n in range(events):
        device_id, capability = caps[
            rng.randrange(len(caps) // 3)
        ]  # a third of the features are used
        rows.append(
            {
                "device_id": device_id,
                "capability": capability,
                "how": "state" if n % 3 else "change",
                "person_id": rng.choice([None, None, *person_ids[1:]]),
                "detected_at": now - timedelta(minutes=n),
                "detail": "",
            }
        )
    with engine.begin() as conn:
        conn.execute(UsageEvent.__table__.insert(), rows)  # type: ignore[attr-defined]
        # the summary record_usage() keeps, built in one statement for the bulk load
        conn.execute(
            text(
                "INSERT INTO featureuse (household_id, device_id, capability, person_key, first_used, last_used, uses) "
                "SELECT d.household_id, e.device_id, e.capability, COALESCE(e.person_id, 0), "
                "MIN(e.detected_at), MAX(e.detected_at), COUNT(*) FROM usageevent e JOIN device d ON d.id = e.device_id "
                "GROUP BY d.household_id, e.device_id, e.capability, COALESCE(e.person_id, 0)"
            )
        )
    engine.dispose()
    return target


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--lessons", type=int, default=1_000)
    parser.add_argument(
        "--database-url", default=None, help="default: a SQLite file in a temp folder"
    )
    args = parser.parse_args()
    rng = random.Random(7)
    vocabulary = Vocabulary.load()
    book = build_catalogue(vocabulary, args.lessons, rng)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        target = build_database(url, vocabulary, args.events, rng)
        engine = make_engine(url)
        with Session(engine) as session:
            person = session.get(Person, target)
            assert person is not None
            session.expunge(person)
        plain: list[float] = []
        full: list[float] = []
        cold: list[float] = []
        count = 0
        for _ in range(args.runs):
            start = time.perf_counter()
            with Session(engine) as session:
                session.exec(
                    select(Device)
                    .where(Device.household_id == person.household_id)
                    .order_by(col(Device.did))
                ).all()
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            with Session(engine) as session:
                count = len(recommend(session, person, book=book))
            full.append(time.perf_counter() - start)
            clear_state_cache()
            start = time.perf_counter()
            with Session(engine) as session:
                recommend(session, person, book=book)
            cold.append(time.perf_counter() - start)
        engine.dispose()
    ms = 1000.0
    result = {
        "benchmark": "recommend",
        "machine": {
            "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)),
            "platform": platform.platform(),
        },
        "database": url.split(":", 1)[0],
        "devices": 30,
        "lessons": len(book),
        "usage_events": args.events,
        "runs": args.runs,
        "recommendations": count,
        "recommend_ms": {
            "p50": round(statistics.median(full) * ms, 3),
            "p95": round(percentile(full, 0.95) * ms, 3),
        },
        "plain_query_ms": {
            "p50": round(statistics.median(plain) * ms, 3),
            "p95": round(percentile(plain, 0.95) * ms, 3),
        },
        "p95_ratio": round(percentile(full, 0.95) / percentile(plain, 0.95), 2),
        "note": "recommend_ms: household state cached by revision (every page after the first); "
        "cold_ms: the cache emptied before each call (first page after any change)",
        "cold_ms": {
            "p50": round(statistics.median(cold) * ms, 3),
            "p95": round(percentile(cold, 0.95) * ms, 3),
        },
        "cold_p95_ratio": round(percentile(cold, 0.95) / percentile(plain, 0.95), 2),
        "targets": {"recommend_p95_ms_max": 10, "p95_ratio_max": 5},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
