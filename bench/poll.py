"""Benchmark: CPU seconds per poll cycle of 200 simulated devices through Inventory.poll() on SQLite.

The fleet is bench50's models four times over (200 devices on 127.0.N.10-209, one /24), run
by `edu simulate --fleet FILE --base ... --seed N --json` in another process, so the devices'
own CPU is not counted. This process imports their tokens, scans them once (capabilities
stored, so the usage detectors have work to do) and polls once to warm up; then it times
--cycles poll cycles: CPU seconds of this whole process (time.process_time: the coordinator's
worker threads, detection and the SQLite writes of every device row) beside the wall time,
median over the cycles. The fleet process's CPU per cycle is reported beside them for context.

Prints one JSON object. Usage: python bench/poll.py [--cycles 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

DEVICES = 200
SEED = 7
EDU = str(Path(sys.executable).with_name("edu"))


def fleet_file(folder: Path) -> Path:
    """Write a 200-device fleet file: bench50's entries with their counts times four."""
    from devices.fleet import fleet_path

    bench50 = yaml.safe_load(fleet_path("bench50").read_text(encoding="utf-8"))
    entries = [{**e, "count": int(e.get("count", 1)) * 4} for e in bench50["devices"]]
    assert sum(e["count"] for e in entries) == DEVICES
    path = folder / "bench200.yaml"
    path.write_text(yaml.safe_dump({"name": "bench200", "devices": entries}), encoding="utf-8")
    return path


def read_json_document(stream: Any) -> Any:
    """Read lines from *stream* until they form one JSON document; None at end of stream."""
    text = ""
    for line in stream:
        text += line
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue
    return None


@contextmanager
def simulated_fleet(path: Path) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Run `edu simulate` on the first free 127.0.N block; yield (pid, devices)."""
    first = os.getpid() % 200
    for step in range(20):
        base = f"127.0.{(first + step) % 250 + 1}.10"
        child = subprocess.Popen(
            [EDU, "simulate", "--fleet", str(path), "--base", base, "--seed", str(SEED), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        devices = read_json_document(child.stdout)
        if devices is None:  # the block is taken: the command said so and exited
            child.wait()
            continue
        try:
            yield child.pid, devices
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return
    raise RuntimeError("no free 127.0.N block for the 200-device fleet")


def cpu_of(pid: int) -> float:
    """Return the CPU seconds (user + system) process *pid* has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_snapshots(engine: Any) -> int:
    """Return the number of stored status snapshots."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from edu.models import StatusSnapshot

    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(StatusSnapshot)).one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=7, help="poll cycles to time")
    args = parser.parse_args()
    logging.getLogger("miio").setLevel(logging.CRITICAL)

    from devices.discovery import Discovered
    from edu.config import Settings
    from edu.schema import create_schema, make_engine
    from edu.services.inventory import Inventory

    with tempfile.TemporaryDirectory(prefix="edu-bench-poll-") as tmp:
        folder = Path(tmp)
        with simulated_fleet(fleet_file(folder)) as (fleet_pid, devices):
            settings = Settings.from_env({"EDU_INSTANCE": str(folder / "instance")})
            settings.ensure_instance()
            engine = make_engine(settings.database_url)
            create_schema(engine)
            inventory = Inventory.open(engine, settings)
            tokens = folder / "tokens.json"
            tokens.write_text(
                json.dumps(
                    [
                        {"did": str(d["did"]), "token": d["token"], "localip": d["ip"]}
                        for d in devices
                    ]
                ),
                encoding="utf-8",
            )
            inventory.import_tokens(tokens)
            found = [Discovered(d["ip"], d["did"], None, "manual") for d in devices]
            scanned = Counter(row["status"] for row in inventory.scan(found))
            inventory.poll()  # warm-up: handshakes, first snapshots
            snapshots_before = count_snapshots(engine)
            cpu: list[float] = []
            wall: list[float] = []
            fleet_cpu: list[float] = []
            statuses: Counter[str] = Counter()
            for _ in range(args.cycles):
                fleet_before = cpu_of(fleet_pid)
                cpu_before, wall_before = time.process_time(), time.perf_counter()
                rows = inventory.poll()
                cpu.append(time.process_time() - cpu_before)
                wall.append(time.perf_counter() - wall_before)
                fleet_cpu.append(cpu_of(fleet_pid) - fleet_before)
                statuses.update(row["status"] for row in rows)
            snapshots = count_snapshots(engine) - snapshots_before
            engine.dispose()
    median_cpu = statistics.median(cpu)
    print(
        json.dumps(
            {
                "benchmark": "poll",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "devices": len(devices),
                "database": "sqlite",
                "scanned": dict(scanned),
                "cycles": args.cycles,
                "poll_statuses": {k: v // args.cycles for k, v in statuses.items()},
                "cpu_s_per_cycle": {
                    "median": round(median_cpu, 3),
                    "min": round(min(cpu), 3),
                    "max": round(max(cpu), 3),
                },
                "cpu_ms_per_device": round(median_cpu / len(devices) * 1000, 2),
                "wall_s_per_cycle": {
                    "median": round(statistics.median(wall), 3),
                    "min": round(min(wall), 3),
                },
                "fleet_process_cpu_s_per_cycle": round(statistics.median(fleet_cpu), 3),
                "snapshots_written_per_cycle": round(snapshots / args.cycles, 1),
                "workers": inventory.coordinator.workers,
                "note": "process_time of the polling process (all its threads); every cycle "
                "updates all device rows and stores a snapshot where the status differs",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
