"""Benchmark: CPU seconds per poll cycle of 200 simulated devices through Inventory.poll() on SQLite.

The fleet is bench50's models four times over (200 devices on 127.0.N.10-209, one /24), run
by `edu simulate --fleet FILE --base ... --seed N --json` in another process, so the devices'
own CPU is not counted. This process imports their tokens, scans them once (capabilities
stored, so the usage detectors have work to do) and polls once to warm up; then it times
--cycles poll cycles: CPU seconds of this whole process (time.process_time: the coordinator's
worker threads, detection and the SQLite writes of every device row) beside the wall time,
median over the cycles. The fleet process's CPU per cycle is reported beside them for context.
bench/growth.py calls measure() at 30 to 10,000 devices (a fleet of more than 245 devices
runs on from its /24 into the next ones), storing one scanned device per model and copies
of it for the others (store_as_scanned): scanning 10,000 devices one by one takes minutes.

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


def fleet_file(folder: Path, devices: int = DEVICES) -> Path:
    """Write a fleet file of *devices* devices in bench50's proportions of models (for 200:
    bench50's counts times four), spread from the first model to the last."""
    from devices.fleet import fleet_path

    bench50 = yaml.safe_load(fleet_path("bench50").read_text(encoding="utf-8"))["devices"]
    total = sum(int(e.get("count", 1)) for e in bench50)
    entries, seen = [], 0
    for entry in bench50:
        before = seen * devices // total
        seen += int(entry.get("count", 1))
        if count := seen * devices // total - before:
            entries.append({**entry, "count": count})
    assert sum(e["count"] for e in entries) == devices
    path = folder / f"bench{devices}.yaml"
    name = f"bench{devices}"
    path.write_text(yaml.safe_dump({"name": name, "devices": entries}), encoding="utf-8")
    return path


def read_json_document(stream: Any) -> Any:
    """Read lines from *stream* until they form one JSON document; None at end of stream.

    Parsing is tried only at an unindented line ending in a bracket (the end of an indented
    document, or a one-line one), so 10,000 devices' lines are parsed once, not once a line.
    """
    lines: list[str] = []
    for line in stream:
        lines.append(line)
        if line[:1] not in " \t" and line.rstrip().endswith(("]", "}")):
            try:
                return json.loads("".join(lines))
            except json.JSONDecodeError:
                continue
    return None


@contextmanager
def simulated_fleet(path: Path, devices: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Run `edu simulate` from the first free 127.0.N.10 (a fleet of more than 245 devices
    goes on into the next blocks); yield (pid, devices)."""
    first, blocks = os.getpid() % 200, devices // 245 + 1
    for step in range(20):
        base = f"127.0.{(first + step * blocks) % 250 + 1}.10"
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
    raise RuntimeError(f"no free 127.0.N blocks for a fleet of {devices} devices")


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


def scan_every_device(inventory: Any, folder: Path, fleet: list[dict[str, Any]]) -> Counter[str]:
    """Import the fleet's tokens from a file and scan every device; count the outcomes."""
    from devices.discovery import Discovered

    tokens = folder / "tokens.json"
    tokens.write_text(
        json.dumps(
            [{"did": str(d["did"]), "token": d["token"], "localip": d["ip"]} for d in fleet]
        ),
        encoding="utf-8",
    )
    inventory.import_tokens(tokens)
    found = [Discovered(d["ip"], d["did"], None, "manual") for d in fleet]
    return Counter(row["status"] for row in inventory.scan(found))


def store_as_scanned(engine: Any, inventory: Any, fleet: list[dict[str, Any]]) -> Counter[str]:
    """Scan the first device of each model, then store every other device as the scan stored
    its model's first (the device row with its own did, address and token, and the same
    capability rows) by bulk insert: what scanning all would store, without its minutes at
    thousands of devices. Count the devices by stored status."""
    from sqlalchemy import insert, select

    from devices.discovery import Discovered
    from edu.models import Device, DeviceCapability

    firsts: dict[str, dict[str, Any]] = {}
    for d in fleet:
        firsts.setdefault(d["model"], d)
    inventory.scan(
        [Discovered(d["ip"], d["did"], None, "manual") for d in firsts.values()],
        tokens={d["did"]: d["token"] for d in firsts.values()},
    )
    device_table, cap_table = Device.__table__, DeviceCapability.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        templates = {r["model"]: dict(r) for r in conn.execute(select(device_table)).mappings()}
        caps: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(cap_table)).mappings():
            caps.setdefault(r["device_id"], []).append({k: v for k, v in r.items() if k != "id"})
        others = [d for d in fleet if firsts[d["model"]] is not d]
        rows = [
            {
                **{k: v for k, v in templates[d["model"]].items() if k != "id"},
                "did": d["did"],
                "ip": d["ip"],
                "mac": None,
                "token_ciphertext": inventory.vault.encrypt(d["token"]),
            }
            for d in others
        ]
        for start in range(0, len(rows), 2000):
            conn.execute(insert(device_table), rows[start : start + 2000])
        ids = dict(conn.execute(select(device_table.c.did, device_table.c.id)).all())
        cap_rows = [
            {**cap, "device_id": ids[d["did"]]}
            for d in others
            for cap in caps.get(templates[d["model"]]["id"], [])
        ]
        for start in range(0, len(cap_rows), 5000):
            conn.execute(insert(cap_table), cap_rows[start : start + 5000])
        statuses = conn.execute(select(device_table.c.status)).scalars()
        return Counter(statuses)


def measure(devices: int, cycles: int, *, scan_all: bool = True) -> dict[str, Any]:
    """Run a fleet of *devices* devices, store it (scanning every device, or with *scan_all*
    false one per model, see store_as_scanned), poll once, then time *cycles* polls."""
    logging.getLogger("miio").setLevel(logging.CRITICAL)

    from edu.config import Settings
    from edu.schema import create_schema, make_engine
    from edu.services.inventory import Inventory

    with tempfile.TemporaryDirectory(prefix="edu-bench-poll-") as tmp:
        folder = Path(tmp)
        with simulated_fleet(fleet_file(folder, devices), devices) as (fleet_pid, fleet):
            settings = Settings.from_env({"EDU_INSTANCE": str(folder / "instance")})
            settings.ensure_instance()
            engine = make_engine(settings.database_url)
            create_schema(engine)
            inventory = Inventory.open(engine, settings)
            if scan_all:
                scanned = scan_every_device(inventory, folder, fleet)
            else:
                scanned = store_as_scanned(engine, inventory, fleet)
            inventory.poll()  # warm-up: handshakes, first snapshots
            snapshots_before = count_snapshots(engine)
            cpu: list[float] = []
            wall: list[float] = []
            fleet_cpu: list[float] = []
            statuses: Counter[str] = Counter()
            for _ in range(cycles):
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
    return {
        "devices": len(fleet),
        "database": "sqlite",
        "scanned": dict(scanned),
        "cycles": cycles,
        "poll_statuses": {k: v // cycles for k, v in statuses.items()},
        "cpu_s_per_cycle": {
            "median": round(median_cpu, 3),
            "min": round(min(cpu), 3),
            "max": round(max(cpu), 3),
        },
        "cpu_ms_per_device": round(median_cpu / len(fleet) * 1000, 2),
        "wall_s_per_cycle": {
            "median": round(statistics.median(wall), 3),
            "min": round(min(wall), 3),
        },
        "fleet_process_cpu_s_per_cycle": round(statistics.median(fleet_cpu), 3),
        "snapshots_written_per_cycle": round(snapshots / cycles, 1),
        "workers": inventory.coordinator.workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=7, help="poll cycles to time")
    args = parser.parse_args()
    print(
        json.dumps(
            {
                "benchmark": "poll",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                **measure(DEVICES, args.cycles),
                "note": "process_time of the polling process (all its threads); every cycle "
                "updates all device rows and stores a snapshot where the status differs",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
