"""Benchmark the community hub: signed weekly reports from many homes, 16 at a time, on PostgreSQL.

Usage: python bench/hub.py [--homes 3000] [--devices 20] [--senders 16] [--max-seconds 60]
                           [--postgres postgresql://postgres@127.0.0.1:5432 | --sqlite]

The hub runs as `edu hub serve` (waitress) in its own process on a free loopback port, on a
fresh database that is dropped afterwards. Every home gets a key and 20 devices drawn from
60 models (8 features each); the keys, joins and signed reports are made before the clock
starts. Then 16 sender threads post one report per home over keep-alive connections:
reports per second accepted. Then the p95 of GET /hub/v1/adoption over the models, the
public index (every published model: the aggregate over all rows, computed at request time,
which is what a "refresh" of the published table costs), and the hub process's peak memory.
The issue's full scale (100,000 homes) is `--homes 100000 --max-seconds 0`; bounded here so
`make bench` stays within minutes on two shared cores. Prints JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edu.hub.protocol import SIGNATURE_HEADER, encode, message, new_key, sign  # noqa: E402

FAMILIES = ("fan", "vacuum", "light", "air-purifier", "humidifier", "heater")
FEATURES = [f"feature-{n}" for n in range(24)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def models(count: int = 60) -> list[tuple[str, str, list[str]]]:
    rng = random.Random(3)
    return [
        (f"bench.{FAMILIES[n % 6]}.m{n}", FAMILIES[n % 6], sorted(rng.sample(FEATURES, 8)))
        for n in range(count)
    ]


def build(homes: int, devices: int) -> list[tuple[bytes, str, bytes, str]]:
    """Per home: (join body, its signature, report body, its signature)."""
    rng, pool, now = random.Random(7), models(), int(time.time())
    out = []
    for _ in range(homes):
        key = new_key()
        chosen: dict[str, dict[str, Any]] = {}
        for model, family, features in rng.sample(pool, devices):
            chosen[model] = {
                "model": model,
                "family": family,
                "capabilities": features,
                "in_use": sorted(f for f in features if rng.random() < 0.4),
                "lessons_done": [],
                "lessons_dismissed": [],
            }
        join = encode(message(key, "join", 0, now))
        report = encode(
            message(key, "report", 1, now, sorted(chosen.values(), key=lambda m: m["model"]))
        )
        out.append((join, sign(key, join), report, sign(key, report)))
    return out


def post_all(
    port: int, path: str, items: list[tuple[bytes, str]], senders: int, deadline: float
) -> tuple[int, int, float]:
    """Post every (body, signature) with *senders* threads; return (ok, failed, seconds)."""
    lock, ok, failed = threading.Lock(), [0], [0]
    queue = list(reversed(items))

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    break
                body, signature = queue.pop()
            conn.request(
                "POST",
                path,
                body,
                {SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
            )
            answer = conn.getresponse()
            answer.read()
            with lock:
                if answer.status in (200, 201):
                    ok[0] += 1
                else:
                    failed[0] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ok[0], failed[0], time.perf_counter() - started


def p95_get(port: int, paths: list[str]) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        assert answer.status in (200, 404), answer.status
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return round(statistics.quantiles(times, n=20)[-1], 1)


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def run(url: str, args: argparse.Namespace, instance: str) -> dict[str, Any]:
    homes = build(args.homes, args.devices)
    port = free_port()
    env = {
        **os.environ,
        "EDU_DATABASE_URL": url,
        "EDU_HUB_MIN_HOMES": str(args.k),
        "PYTHONPATH": str(ROOT),
    }
    hub = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from edu.cli import main; main()",
            "--instance",
            instance,
            "hub",
            "serve",
            "--port",
            str(port),
            "--threads",
            str(args.senders),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or hub.poll() is not None:
                    raise RuntimeError("the hub did not start") from None
                time.sleep(0.1)
        limit = time.monotonic() + args.max_seconds if args.max_seconds else float("inf")
        joined, _, join_s = post_all(
            port, "/hub/v1/join", [(h[0], h[1]) for h in homes], args.senders, limit
        )
        sent, failed, report_s = post_all(
            port, "/hub/v1/report", [(h[2], h[3]) for h in homes[:joined]], args.senders, limit
        )
        adoption = p95_get(port, [f"/hub/v1/adoption?model={m}" for m, _, _ in models()] * 3)
        index = p95_get(port, ["/hub/"] * 20)
        rss = peak_rss_mb(hub.pid)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
    return {
        "database": url.split(":", 1)[0],
        "homes_joined": joined,
        "devices_per_home": args.devices,
        "senders": args.senders,
        "joins_per_second": round(joined / join_s),
        "reports_accepted": sent,
        "reports_refused": failed,
        "reports_per_second": round(sent / report_s),
        "usage_rows": sent * args.devices * 8,
        "adoption_p95_ms": adoption,
        "published_index_p95_ms": index,
        "hub_peak_rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=3000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="stop sending after this (0: never)"
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            result = run(f"sqlite:///{tmp}/hub.sqlite3", args, tmp)
        else:
            import psycopg

            name = f"bench_hub_{os.getpid()}"
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                result = run(f"{args.postgres}/{name}", args, tmp)
            finally:
                with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["targets"] = {"reports_per_second_min": 1000}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
