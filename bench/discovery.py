"""Benchmark: unicast sweep of a /24 holding 50 simulated devices vs python-miio, one address at a time.

Both sides search the same /24 with the same hello timeout. The other 204 addresses hold
silent listeners (a host that is up but is no miIO device, or a device that ignores us),
because on loopback an empty address refuses at once, while on a real LAN it stays silent
until the timeout: without them the baseline would look far better than it is at home.

Prints one JSON object. Usage: python bench/discovery.py [--timeout 0.5]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import platform
import socket
import time
from contextlib import ExitStack

from devices.discovery import sweep
from devices.fleet import Fleet


def silent_listeners(stack: ExitStack, network: str, taken: set[str]) -> int:
    """Bind a UDP socket that never answers on every free address of *network*."""
    count = 0
    for host in ipaddress.IPv4Network(network).hosts():
        if str(host) in taken:
            continue
        sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        try:
            sock.bind((str(host), 54321))
        except OSError:
            continue
        count += 1
    return count


def sequential_baseline(network: str, timeout: float) -> tuple[float, int]:
    """python-miio's unicast discover, address after address, as a script would do it."""
    from miio.miioprotocol import MiIOProtocol

    found = 0
    start = time.perf_counter()
    for host in ipaddress.IPv4Network(network).hosts():
        if MiIOProtocol.discover(str(host), timeout=timeout) is not None:  # type: ignore[arg-type]
            found += 1
    return time.perf_counter() - start, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=0.5, help="hello timeout in seconds")
    parser.add_argument("--repeat", type=int, default=5, help="sweeps to time (best and median)")
    args = parser.parse_args()
    logging.getLogger("miio").setLevel(logging.CRITICAL)

    fleet = Fleet.load("bench50").start_in_free_block()
    try:
        with ExitStack() as stack:
            network = fleet.network
            silent = silent_listeners(stack, network, {d.ip for d in fleet.devices})
            times, counts = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                found = sweep([network], timeout=args.timeout)
                times.append(time.perf_counter() - start)
                counts.append(len(found))
            times.sort()
            baseline_seconds, baseline_found = sequential_baseline(network, args.timeout)
    finally:
        fleet.stop()
    median = times[len(times) // 2]
    print(
        json.dumps(
            {
                "benchmark": "discovery",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(__import__("os").sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "network": network,
                "devices": len(fleet.devices),
                "silent_addresses": silent,
                "hello_timeout_s": args.timeout,
                "sweep": {
                    "median_s": round(median, 4),
                    "best_s": round(times[0], 4),
                    "found": min(counts),
                    "runs": args.repeat,
                },
                "sequential_python_miio": {
                    "seconds": round(baseline_seconds, 3),
                    "found": baseline_found,
                },
                "sweep_vs_timeout": round(median / args.timeout, 3),
                "speedup_vs_sequential": round(baseline_seconds / median, 1),
                "targets": {"sweep_vs_timeout_max": 1.5, "speedup_min": 20},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
