"""Benchmark the community hub: signed weekly reports from many homes, 16 at a time, on PostgreSQL.

Usage: python bench/hub.py [--homes 3000] [--devices 20] [--senders 16] [--max-seconds 60]
                           [--workers 2] [--threads 16]
                           [--postgres postgresql://postgres@127.0.0.1:5432 | --sqlite]

The hub runs as `edu hub serve --workers N` (waitress) on a free loopback port, on a fresh
database that is dropped afterwards. Every home gets a key and 20 devices drawn from 60
models (8 features each); the keys, joins and signed reports are made before the clock
starts. Then 16 sender threads (in this process, on the same two cores) post one report per
home over keep-alive connections: reports per second accepted, and the CPU the hub's
processes and its PostgreSQL backends spent per report. Then `edu hub refresh` recounts the
published table from every report (its seconds, the reports and pairs it counted), and
the p95 of GET /hub/v1/adoption over the models and of the public index, which read that
table. Peak memory is the sum over the hub's processes. The issue's full scale (100,000
homes) is `--homes 100000 --max-seconds 0`; bounded here so `make bench` stays within
minutes on two shared cores. Prints JSON.
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


def family(pid: int) -> list[int]:
    """Return *pid* and its descendants (the hub's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in children:
            found += family(int(child))
    return found


def peak_rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            total += next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
    return round(total / 1024, 1)


def pss_mb(pids: list[int]) -> float:
    """Proportional memory of the processes now: pages the workers share count once."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
    return round(total / 1024, 1)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU of each process (gone ones are left out)."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def backends(url: str) -> list[int]:
    """The PostgreSQL server's processes: the backends serving the hub and the WAL writer,
    checkpointer... (a backend that ends in between is not counted)."""
    if not url.startswith("postgresql"):
        return []
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (datname = current_database() OR backend_type <> 'client backend')"
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def table_bytes(url: str) -> dict[str, int]:
    if not url.startswith("postgresql"):
        return {}
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {
            name: int(conn.execute("SELECT pg_total_relation_size(%s)", (name,)).fetchone()[0])
            for name in ("hub_report", "hub_home", "hub_published")
        }


def run(url: str, args: argparse.Namespace, instance: str) -> dict[str, Any]:
    homes = build(args.homes, args.devices)
    port = free_port()
    env = {
        **os.environ,
        "EDU_DATABASE_URL": url,
        "EDU_HUB_MIN_HOMES": str(args.k),
        "EDU_HUB_REFRESH_SECONDS": str(args.refresh_seconds),
        "PYTHONPATH": str(ROOT),
    }
    cli = [sys.executable, "-c", "from edu.cli import main; main()", "--instance", instance]
    log = open(Path(instance) / "hub.log", "w")  # noqa: SIM115 (closed with the hub)
    hub = subprocess.Popen(
        [
            *cli,
            *("hub", "serve", "--port", str(port), "--threads", str(args.threads or args.senders)),
            *("--workers", str(args.workers)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file: waitress's queue warnings would fill a pipe nobody reads
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or hub.poll() is not None:
                    said = (Path(instance) / "hub.log").read_text().strip().splitlines()
                    raise RuntimeError(f"the hub did not start: {said[-1:]}") from None
                time.sleep(0.1)
        limit = time.monotonic() + args.max_seconds if args.max_seconds else float("inf")
        joined, _, join_s = post_all(
            port, "/hub/v1/join", [(h[0], h[1]) for h in homes], args.senders, limit
        )
        pids, database = family(hub.pid), backends(url)
        hub_cpu, db_cpu = cpu_seconds(pids), cpu_seconds(database)
        own = time.process_time()
        sent, failed, report_s = post_all(
            port, "/hub/v1/report", [(h[2], h[3]) for h in homes[:joined]], args.senders, limit
        )
        sender_spent = time.process_time() - own
        hub_spent = spent(hub_cpu, cpu_seconds(pids))
        db_spent = spent(db_cpu, cpu_seconds(list(set(database) | set(backends(url)))))
        started = time.perf_counter()
        counted = subprocess.run(
            [*cli, "hub", "refresh", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        refresh_wall = time.perf_counter() - started
        refreshed = json.loads(counted.stdout)
        adoption = p95_get(port, [f"/hub/v1/adoption?model={m}" for m, _, _ in models()] * 3)
        index = p95_get(port, ["/hub/"] * 20)
        rss, pss = peak_rss_mb(family(hub.pid)), pss_mb(family(hub.pid))
        sizes = table_bytes(url)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        log.close()
    per_report = (hub_spent + db_spent) / max(sent, 1)
    return {
        "database": url.split(":", 1)[0],
        "homes_joined": joined,
        "devices_per_home": args.devices,
        "senders": args.senders,
        "joins_per_second": round(joined / join_s),
        "reports_accepted": sent,
        "reports_refused": failed,
        "reports_per_second": round(sent / report_s),
        "workers": args.workers,
        "hub_cpu_ms_per_report": round(hub_spent * 1000 / max(sent, 1), 2),
        "postgres_cpu_ms_per_report": round(db_spent * 1000 / max(sent, 1), 2),
        "senders_cpu_ms_per_report": round(sender_spent * 1000 / max(sent, 1), 2),
        "reports_per_second_per_core": round(1 / per_report) if per_report else None,
        "report_rows": sent,
        "report_bytes_per_home": round(sizes["hub_report"] / max(sent, 1)) if sizes else None,
        "capabilities_counted": sent * args.devices * 8,
        "refresh_seconds": refreshed["seconds"],
        "refresh_wall_seconds": round(refresh_wall, 2),
        "refresh_model_entries": refreshed["entries"],
        "published_pairs": refreshed["pairs"],
        "adoption_p95_ms": adoption,
        "published_index_p95_ms": index,
        "hub_peak_rss_mb": rss,  # summed over the processes: shared pages count in each
        "hub_pss_mb_at_end": pss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=3000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="hub processes on the port")
    parser.add_argument("--threads", type=int, default=0, help="per worker (0: --senders)")
    parser.add_argument("--refresh-seconds", type=int, default=300, help="the hub's timer")
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
