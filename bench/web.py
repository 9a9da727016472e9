"""Benchmark the household page: latency of home and lesson pages on a big household, and throughput.

Prints JSON: p50/p95 of a person's home page and of a lesson page on a database with 30
devices, 1,000 lessons and 100,000 usage events, beside a trivial route of the same app
(measured in the same run), the ratios; the same for the admin's home, devices and progress
pages and the devices API (first page of each, with its size) on a household of 2,000
devices built as serve_memory.py builds it; then requests per second of the home page with 16
concurrent clients (threads of this process, keep-alive http.client) against a real server
process (waitress) for 20 seconds, with the error count. Never asserts a wall-clock time.

    python bench/web.py [--seconds 20] [--clients 16] [--samples 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_http.py
from _http import free_port, sign_in  # noqa: E402

DEVICES, LESSONS, EVENTS, PEOPLE = 30, 1000, 100_000, 4
LARGE = 2000  # devices of the large household (a shop)
PIN = "1234"


def big_catalogue() -> Any:
    """1,000 English lessons over the capabilities of the benchmark devices."""
    from devices.vocabulary import Vocabulary
    from lessons.catalogue import Catalogue, Lesson, TryIt

    vocabulary = Vocabulary.load()
    pairs = [
        (family, cap.id) for family in vocabulary.families for cap in vocabulary.for_family(family)
    ]
    body = "\n\n".join(
        f"## Step {n}\n\nPress the **button** and watch the [light](https://example.org).\n\n"
        "- one\n- two\n- three"
        for n in range(4)
    )
    lessons = []
    for index in range(LESSONS):
        family, cap = pairs[index % len(pairs)]
        lessons.append(
            Lesson(
                id=f"{family}-{cap}-bench-{index}",
                capability=cap,
                families=(family,),
                level=("beginner", "intermediate", "advanced")[index % 3],
                minutes=1 + index % 5,
                title=f"Learn {cap} ({index})",
                summary=f"What {cap} does, in one sentence ({index}).",
                try_it=TryIt(setting=cap, value=True, revert_after=60) if index % 4 == 0 else None,
                body=body,
            )
        )
    return Catalogue(lessons)


def patch_catalogue(book: Any) -> None:
    """Make the application use *book* as its lesson catalogue (in this process)."""
    import edu.catalogue
    import edu.services.recommend

    def replacement(root: str | None = None) -> Any:
        return book

    edu.catalogue.catalogue = replacement  # type: ignore[assignment]
    edu.services.recommend.catalogue = replacement  # type: ignore[assignment]


def build(instance: Path) -> dict[str, Any]:
    """Create the benchmark database: household, people, devices, capabilities, usage."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from devices.vocabulary import Vocabulary
    from edu.config import Settings
    from edu.db import utcnow
    from edu.models import Device, DeviceCapability, FeatureUse, Household, Person, UsageEvent
    from edu.schema import create_schema, make_engine
    from edu.services.people import hash_pin

    settings = Settings.from_env({"EDU_INSTANCE": str(instance)})
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    vocabulary = Vocabulary.load()
    rng = random.Random(7)
    now = utcnow()
    pin_hash = hash_pin(PIN)
    caps_of: dict[int, list[str]] = {}
    with Session(engine) as session, session.begin():
        home = Household(name="Bench home", timezone="Europe/Berlin")
        session.add(home)
        session.flush()
        people = [
            Person(
                household_id=home.id,
                name=f"Person {n}",
                role="admin" if n == 0 else "member",  # type: ignore[arg-type]
                pin_hash=pin_hash,
            )
            for n in range(PEOPLE)
        ]
        session.add_all(people)
        for n in range(DEVICES):
            family = vocabulary.families[n % len(vocabulary.families)]
            device = Device(
                household_id=home.id,
                did=100_000 + n,
                ip=f"127.0.9.{n + 10}",  # type: ignore[arg-type]
                name=f"{family} {n}",
                model=f"bench.{family}.v{n}",
                family=family,
                status="online",
                first_seen=now - timedelta(days=n),
            )
            session.add(device)
            session.flush()
            caps = [c.id for c in vocabulary.for_family(family)]
            caps_of[device.id] = caps  # type: ignore[index]
            session.add_all(
                DeviceCapability(device_id=device.id, capability=c, setting=c) for c in caps
            )  # type: ignore[arg-type]
        session.flush()
        person_ids = [p.id for p in people]
        rows, summary = [], {}
        device_ids = list(caps_of)
        for n in range(EVENTS):
            device_id = rng.choice(device_ids)
            caps = caps_of[device_id]
            cap = rng.choice(caps[: max(1, len(caps) // 3)])  # people use a third of the features
            person = None if n % 50 == 0 else rng.choice(person_ids)
            when = now - timedelta(minutes=n)
            rows.append(
                {
                    "device_id": device_id,
                    "capability": cap,
                    "how": "tried" if person else "state",
                    "person_id": person,
                    "detected_at": when,
                    "detail": "",
                }
            )
            key = (device_id, cap, person or 0)
            summary[key] = summary.get(key, 0) + 1
        session.execute(insert(UsageEvent), rows)
        session.execute(
            insert(FeatureUse),
            [
                {
                    "household_id": home.id,
                    "device_id": d,
                    "capability": c,
                    "person_key": p,
                    "uses": count,
                    "first_used": now - timedelta(days=30),
                    "last_used": now,
                }
                for (d, c, p), count in summary.items()
            ],
        )
        admin_id = people[0].id
    engine.dispose()
    return {"instance": str(instance), "person": admin_id}


def make_app(instance: str) -> Any:
    from edu import create_app
    from edu.cli.common import settle_heap
    from edu.config import Settings

    settings = Settings.from_env({"EDU_INSTANCE": instance})
    app = create_app({"EDU_SETTINGS": settings})
    app.add_url_rule("/bench/ping", "bench_ping", lambda: "ok")
    settle_heap()  # as `edu serve` does before it serves
    return app


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
    }


def signed_in(app: Any, person: int, pin: str) -> Any:
    """Return a test client of *app* signed in as *person*."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf"] = "bench"
    response = client.post(f"/signin/{person}", data={"csrf_token": "bench", "pin": pin})
    assert response.status_code == 302, response.status_code
    return client


def time_routes(client: Any, routes: dict[str, str], samples: int) -> dict[str, Any]:
    """Time each route *samples* times, interleaved, after one warm-up request each; give
    p50/p95 (and their ratio to the "trivial" route) and the size of each answer."""
    sizes = {}
    for name, url in routes.items():  # warm caches (templates, lesson rendering, state)
        response = client.get(url)
        assert response.status_code == 200, url
        sizes[name] = round(len(response.data) / 1024, 1)
    times: dict[str, list[float]] = {name: [] for name in routes}
    for _ in range(samples):
        for name, url in routes.items():
            start = time.perf_counter()
            response = client.get(url)
            times[name].append(time.perf_counter() - start)
            assert response.status_code == 200
    result = {name: percentiles(values) for name, values in times.items()}
    for name in routes:
        if name != "trivial":
            for p in ("p50", "p95"):
                result[name][f"{p}_ratio_to_trivial"] = round(
                    result[name][f"{p}_ms"] / result["trivial"][f"{p}_ms"], 1
                )
            result[name]["kb"] = sizes[name]
    return result


def latency(instance: str, person: int, samples: int) -> dict[str, Any]:
    """Time the home page, a lesson page and a trivial route, interleaved, in this process."""
    app = make_app(instance)
    client = signed_in(app, person, PIN)
    cards = re.findall(r'href="(/lessons/[^"]+)"', client.get("/").get_data(as_text=True))
    lesson_url = cards[0].replace("&amp;", "&")
    routes = {"home": "/", "lesson": lesson_url, "trivial": "/bench/ping"}
    result = time_routes(client, routes, samples)
    result["lesson_url"] = lesson_url.split("?")[0]
    app.extensions["edu.engine"].dispose()
    return result


def large_household(folder: Path, samples: int) -> dict[str, Any]:
    """Time the admin's pages and the devices API on a household of LARGE devices (built
    by serve_memory.py), beside the trivial route."""
    from serve_memory import PIN as LARGE_PIN
    from serve_memory import build as build_large

    instance = folder / "large"
    admin = build_large(instance, LARGE)
    app = make_app(str(instance))
    routes = {
        "home": "/",
        "devices": "/devices/",
        "progress": "/progress",
        "api_devices": "/api/v1/devices",
        "trivial": "/bench/ping",
    }
    result = time_routes(signed_in(app, admin, LARGE_PIN), routes, samples)
    app.extensions["edu.engine"].dispose()
    return {"devices": LARGE, "samples": samples, "routes": result}


def serve(instance: str, port: int) -> None:
    """The server process: the same app under waitress."""
    import logging

    from waitress import serve as waitress_serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a full queue is the point here
    patch_catalogue(big_catalogue())
    waitress_serve(make_app(instance), host="127.0.0.1", port=port, threads=8, _quiet=True)


def throughput(instance: str, person: int, seconds: float, clients: int) -> dict[str, Any]:
    """Run the server in another process and hammer the home page from *clients* threads."""
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", instance, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                cookie = sign_in(port, person, PIN)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # the server is still starting
        counts = {"ok": 0, "errors": 0}
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = errors = 0
            while time.monotonic() < stop_at:
                try:
                    conn.request("GET", "/", headers={"Cookie": cookie})
                    response = conn.getresponse()
                    response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        errors += 1
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.close()
            with lock:
                counts["ok"] += ok
                counts["errors"] += errors

        threads = [threading.Thread(target=client) for _ in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)
    return {
        "route": "/ (home page)",
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": counts["ok"],
        "errors": counts["errors"],
        "requests_per_second": round(counts["ok"] / elapsed, 1),
        "server": "waitress, 8 threads",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--serve", nargs=2, metavar=("INSTANCE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory(prefix="edu-bench-web-") as folder:
        started = time.perf_counter()
        book = big_catalogue()
        patch_catalogue(book)
        built = build(Path(folder) / "instance")
        build_seconds = round(time.perf_counter() - started, 1)
        result = {
            "benchmark": "web",
            "data": {
                "devices": DEVICES,
                "lessons": len(book),
                "usage_events": EVENTS,
                "people": PEOPLE,
                "build_seconds": build_seconds,
            },
            "latency": latency(built["instance"], built["person"], args.samples),
            "large_household": large_household(Path(folder), max(args.samples // 2, 1)),
            "throughput": throughput(
                built["instance"], built["person"], args.seconds, args.clients
            ),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
