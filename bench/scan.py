"""Benchmark: scan (identify + capabilities) of 50 simulated devices, concurrently vs sequentially.

The fleet "bench50" runs in a child process (its own interpreter and GIL, as real devices
are other machines) on a free 127.0.N.x block. Each scan uses a fresh Coordinator, so every
device is handshaken and identified again, and covers what `edu scan` does on the LAN side:
miIO.info, the python-miio class, one status read and the capability report. The concurrent
side is the product's Coordinator.scan (its default worker pool); the sequential baseline is
the same Coordinator calling scan_one device after device. A warm-up scan first loads the
spec files and the python-miio classes, so neither side pays for them.

Two conditions: bare loopback (replies in microseconds, so both sides are CPU-bound on this
machine), and every reply held back by --latency seconds (the simulator's "slow" fault, 20 ms
by default: what a device on Wi-Fi typically takes), which is what concurrency is for. A third
scans the "more-families" fleet on bare loopback: one device of every family the vocabulary
knows, so each family's class, status and capability rules are exercised; its outcomes say
how many came back online with a capability report.

Prints one JSON object. Usage: python bench/scan.py [--repeat 3] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FLEET = "bench50"
FAMILIES_FLEET = "more-families"


def serve_fleet(latency: float, name: str = FLEET) -> None:
    """Child process: run the fleet, print its devices as one JSON line, serve until stdin closes."""
    from devices.fleet import Fleet

    fleet = Fleet.load(name)
    if latency > 0:
        for device in fleet.devices:
            device.fault = "slow"
            device.slow_seconds = latency
    fleet.start_in_free_block()
    try:
        rows = [
            {"did": d.did, "ip": d.ip, "token": d.token, "family": d.family} for d in fleet.devices
        ]
        print(json.dumps(rows), flush=True)
        sys.stdin.read()
    finally:
        fleet.stop()


@contextmanager
def fleet_process(latency: float, name: str = FLEET) -> Iterator[list[dict[str, Any]]]:
    """Run the fleet in a child process; yield its devices (did, ip, token, family)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--fleet-child", str(latency), "--fleet-name", name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the fleet process did not start")
        yield json.loads(line)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def measure(devices: list[dict[str, Any]], repeat: int, timeout: float) -> dict[str, Any]:
    """Time concurrent and sequential scans of *devices*, interleaved, *repeat* times each."""
    from devices.coordinator import Coordinator, ScanResult
    from devices.specs import SpecStore
    from devices.vocabulary import Vocabulary

    vocabulary = Vocabulary.load()

    def fresh() -> Coordinator:
        coordinator = Coordinator(
            SpecStore.offline(), timeout=timeout, family_for_model=vocabulary.family_for_model
        )
        for device in devices:
            coordinator.track(device["did"], device["ip"], device["token"])
        return coordinator

    def scanned(results: list[ScanResult]) -> dict[str, int]:
        return dict(
            Counter(
                "scanned" if r.identity.status == "online" and r.report else r.identity.status
                for r in results
            )
        )

    dids = [d["did"] for d in devices]
    fresh().scan(dids)  # warm-up: imports, spec files, class descriptors
    concurrent: list[float] = []
    sequential: list[float] = []
    found: list[dict[str, int]] = []
    workers = 0
    for _ in range(repeat):
        coordinator = fresh()
        workers = min(coordinator.workers, len(dids))
        start = time.perf_counter()
        results = coordinator.scan(dids)
        concurrent.append(time.perf_counter() - start)
        found.append(scanned(results))

        coordinator = fresh()
        start = time.perf_counter()
        results = [coordinator.scan_one(did) for did in dids]
        sequential.append(time.perf_counter() - start)
        found.append(scanned(results))
    conc, seq = statistics.median(concurrent), statistics.median(sequential)
    return {
        "outcomes": found[0],
        "same_outcomes_every_run": all(f == found[0] for f in found),
        "concurrent": {
            "median_s": round(conc, 3),
            "best_s": round(min(concurrent), 3),
            "workers": workers,
        },
        "sequential": {"median_s": round(seq, 3), "best_s": round(min(sequential), 3)},
        "speedup_vs_sequential": round(seq / conc, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="scans to time on each side")
    parser.add_argument("--timeout", type=float, default=2.0, help="device timeout in seconds")
    parser.add_argument(
        "--latency", type=float, default=0.02, help="reply delay of the second condition (s)"
    )
    parser.add_argument("--fleet-child", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fleet-name", default=FLEET, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("miio").setLevel(logging.CRITICAL)
    if args.fleet_child is not None:
        serve_fleet(args.fleet_child, args.fleet_name)
        return
    conditions: dict[str, Any] = {}
    for name, latency in (("loopback", 0.0), ("latency", args.latency)):
        with fleet_process(latency) as devices:
            conditions[name] = {
                "reply_delay_ms": round(latency * 1000),
                **measure(devices, args.repeat, args.timeout),
            }
    fleet_size = len(devices)
    with fleet_process(0.0, FAMILIES_FLEET) as every_family:
        conditions["families"] = {
            "fleet": FAMILIES_FLEET,
            "devices": len(every_family),
            "families": len({d["family"] for d in every_family}),
            "reply_delay_ms": 0,
            **measure(every_family, args.repeat, args.timeout),
        }
    print(
        json.dumps(
            {
                "benchmark": "scan",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "fleet": FLEET,
                "devices": fleet_size,
                "device_timeout_s": args.timeout,
                "runs": args.repeat,
                **conditions,
                "note": "identify (miIO.info + class) + status + capabilities, fresh handshakes "
                "each run; the fleet runs in another process",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
