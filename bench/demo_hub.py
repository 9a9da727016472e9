"""Benchmark: seconds for `edu demo --hub` to seed its hub with simulated homes, and the rest.

Does what `edu demo --hub` does before it serves the page, in this process: the household
fleet on loopback, scanned into a fresh demo household; a hub (the real app, waitress, its own
SQLite file) on a free loopback port; --homes made-up homes (300, the demo's default), each
with its own Ed25519 key, joining and reporting over the signed HTTP API, 8 at a time; then
the household joining, sending and fetching the published table. Reports the wall seconds of
the seeding alone (target: under 10 s for 300 homes on this machine), homes per second, and
the whole hub start-up (hub, seeding, the household's join and send) beside it.

Prints one JSON object. Usage: python bench/demo_hub.py [--homes 300]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    from edu.cli.common import Context
    from edu.cli.demo_hub import demo_hub
    from edu.community.link import status
    from edu.simulated.fleet import load_fleet
    from edu.simulated.household import find_and_scan, seed_people

    with tempfile.TemporaryDirectory(prefix="bench-demo-hub-") as folder:
        root = Path(folder)
        ctx = Context(instance=root / "demo")
        fleet = load_fleet("household")
        fleet.start_in_free_block()
        try:
            inventory = ctx.inventory()
            find_and_scan(inventory, fleet)
            seed_people(inventory)
            started = time.perf_counter()
            with demo_hub(ctx, root, "127.0.0.1", 0, args.homes, quiet=True) as hub:
                total = time.perf_counter() - started
                published = status(ctx.engine)["published"]
        finally:
            fleet.stop()
            ctx.close()
    print(
        json.dumps(
            {
                "homes": args.homes,
                "seed_seconds": round(hub.seed_seconds, 2),
                "homes_per_second": round(args.homes / hub.seed_seconds, 1),
                "start_seconds": round(total, 2),
                "published_pairs": published,
                "database": "sqlite",
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "targets": {"seed_seconds_max": TARGET_S},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
