"""Benchmark: resident memory of `edu serve` holding 10,000 devices, beside an empty household.

For each case a temporary instance gets a SQLite database with one household and its admin
(with a PIN); the big case adds 10,000 devices (encrypted tokens, a last status snapshot,
four mapped capabilities and one unmapped descriptor each, the models and families of the
bench50 fleet). `edu serve --port <free>` then runs as a subprocess with EDU_INSTANCE
pointing there; the admin signs in and requests the home page and the devices page once
(so the devices are loaded and rendered), and the server's VmRSS (and its peak, VmHWM) is
read from /proc/<pid>/status. The server's own worker starts polling the devices, as it does
at every start; their addresses are on 127.0.0.0/8, where nothing answers: nothing leaves the
machine.

The import floor, measured in the same run: a fresh interpreter (the one `edu` runs on) that
imports FLOOR_IMPORTS and reads its own VmRSS. That list is issue 14's (ISSUE_IMPORTS) without
apprise and markdown, a stricter floor than the issue's; the target is judged against it. Two
more floors are reported beside it: the issue's whole list, and those of its libraries the
empty server imported in this run (read from its `-X importtime` log: a server that loads
less than the floor gets no credit for it there).

Prints one JSON object. Usage: python bench/serve_memory.py [--devices 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_http.py
from _http import free_port, request, sign_in

EDU = str(Path(sys.executable).with_name("edu"))
PIN = "2468"
CAPS_PER_DEVICE = 4
# issue 14's import floor, and the stricter one the target is judged against (less two)
ISSUE_IMPORTS = ("flask", "sqlmodel", "miio", "apprise", "zeroconf", "waitress", "apscheduler")
ISSUE_IMPORTS += ("flask_babel", "markdown", "alembic")
FLOOR_IMPORTS = tuple(name for name in ISSUE_IMPORTS if name not in ("apprise", "markdown"))
EMPTY_OVER_FLOOR = 1.15  # the targets of issue 14
FULL_OVER_EMPTY_MB = 30


def build(instance: Path, devices: int) -> int:
    """Create the instance database with a household, an admin and *devices* devices."""
    import yaml
    from sqlalchemy import insert, text

    from devices.fleet import fleet_path
    from devices.vault import TokenVault
    from devices.vocabulary import Vocabulary
    from edu.config import Settings
    from edu.db import unit_of_work, utcnow
    from edu.models import Device, DeviceCapability, Household, Person
    from edu.schema import create_schema, make_engine
    from edu.services.people import hash_pin

    settings = Settings.from_env({"EDU_INSTANCE": str(instance)})
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    vocabulary = Vocabulary.load()
    vault = TokenVault(instance)
    models = [
        (e["model"], e["family"])
        for e in yaml.safe_load(fleet_path("bench50").read_text(encoding="utf-8"))["devices"]
    ]
    now = utcnow()
    with unit_of_work(engine) as session:
        home = Household(name="Bench home", timezone="Europe/Berlin")
        session.add(home)
        session.flush()
        admin = Person(
            household_id=home.id or 0, name="Admin", role="admin", pin_hash=hash_pin(PIN)
        )
        session.add(admin)
        session.flush()
        home_id, admin_id = home.id, admin.id
    rows: list[dict[str, Any]] = []
    for n in range(devices):
        model, family = models[n % len(models)]
        rows.append(
            {
                "household_id": home_id,
                "did": 100_000_000 + n,
                "mac": f"04:cf:8c:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
                "ip": f"127.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                "name": f"{family} {n}",
                "model": model,
                "family": family,
                "status": "online" if n % 10 else "offline",
                "status_detail": "",
                "token_ciphertext": vault.encrypt(f"{n:032x}"),
                "token_source": "import",
                "consecutive_failures": 0,
                "last_snapshot": {
                    "power": "on",
                    "mode": "auto",
                    "child_lock": bool(n % 3),
                    "buzzer": True,
                    "led_brightness": 1,
                    "temperature": 21.5,
                    "humidity": 40,
                    "delay_off_countdown": 0,
                },
                "first_seen": now,
                "last_seen": now,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(Device), rows[start : start + 2000])
        ids = conn.execute(text("SELECT id, family FROM device")).all()
        caps: list[dict[str, Any]] = []
        for device_id, family in ids:
            for cap in vocabulary.for_family(family)[:CAPS_PER_DEVICE]:
                caps.append(capability_row(device_id, cap.id, mapped=True))
            caps.append(capability_row(device_id, "Vendor.unmapped_prop", mapped=False))
        for start in range(0, len(caps), 5000):
            conn.execute(insert(DeviceCapability), caps[start : start + 5000])
    engine.dispose()
    assert admin_id is not None
    return admin_id


def capability_row(device_id: int, capability: str, *, mapped: bool) -> dict[str, Any]:
    """One DeviceCapability row: a mapped setting, or an unmapped descriptor with details."""
    return {
        "device_id": device_id,
        "capability": capability,
        "mapped": mapped,
        "setting": capability if mapped else None,
        "in_use": False,
        "details": None if mapped else {"name": "Unmapped prop", "writable": True},
    }


def memory_of(pid: int) -> dict[str, float]:
    """Return VmRSS and VmHWM of *pid* in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss_mb": values["VmRSS"], "peak_rss_mb": values["VmHWM"]}


def import_floor(imports: tuple[str, ...] = FLOOR_IMPORTS) -> float:
    """Return the VmRSS in MiB of a fresh interpreter that imported *imports*."""
    code = (
        f"import {', '.join(imports)}\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmRSS:')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(int(done.stdout.split()[-1]) / 1024, 1)


def measure(devices: int) -> dict[str, Any]:
    """Build an instance with *devices* devices, serve it, load two pages, read the memory
    and which of the floor's libraries the server imported."""
    with tempfile.TemporaryDirectory(prefix="edu-bench-mem-") as tmp:
        instance = Path(tmp) / "instance"
        started = time.perf_counter()
        admin = build(instance, devices)
        build_s = time.perf_counter() - started
        log = Path(tmp) / "imports.log"
        found = served(instance, admin, imports_log=log)
        imported = imported_of(log.read_text(encoding="utf-8", errors="replace"))
        return {"devices": devices, "build_s": round(build_s, 1), **found, "imported": imported}


def imported_of(log: str) -> list[str]:
    """Return which of ISSUE_IMPORTS an `-X importtime` log shows imported, in the list's order."""
    names = {
        line.rpartition("|")[2].strip()
        for line in log.splitlines()
        if line.startswith("import time:")
    }
    return [name for name in ISSUE_IMPORTS if name in names]


def served(instance: Path, admin: int, imports_log: Path | None = None) -> dict[str, Any]:
    """Run `edu serve` on *instance*, sign *admin* in, load / and /devices/ once; return the
    server's memory after signing in and after the pages, and how long each page took. With
    *imports_log*, the server writes its `-X importtime` log there (its stderr; the log is
    timings only, written as modules load, and keeps nothing in the server's memory)."""
    port = free_port()
    env = {**os.environ, "EDU_INSTANCE": str(instance)}
    env.pop("EDU_DATABASE_URL", None)
    if imports_log is not None:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    stderr = imports_log.open("w") if imports_log is not None else subprocess.DEVNULL
    try:
        server = subprocess.Popen(
            [EDU, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    finally:
        if imports_log is not None:
            stderr.close()  # type: ignore[union-attr]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                cookie = sign_in(port, admin, PIN)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)  # the server is still starting
        idle = memory_of(server.pid)
        pages: dict[str, Any] = {}
        for name, path in (("home", "/"), ("devices", "/devices/")):
            start = time.perf_counter()
            status, _, body = request(port, "GET", path, cookie=cookie)
            pages[name] = {
                "status": status,
                "seconds": round(time.perf_counter() - start, 2),
                "kb": round(len(body.encode()) / 1024),
            }
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        loaded = memory_of(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {"rss_after_sign_in_mb": idle["rss_mb"], **loaded, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()
    floor = import_floor()
    empty = measure(0)
    full = measure(args.devices)
    difference = round(full["rss_mb"] - empty["rss_mb"], 1)
    over_floor = round(empty["rss_mb"] / floor, 3)
    others = {
        "issue": ISSUE_IMPORTS,
        "loaded": tuple(empty["imported"]),  # of the issue's list, what the empty server loaded
    }
    other_floors = {}
    for name, imports in others.items():
        if not imports:
            continue
        rss = import_floor(imports)
        other_floors[name] = {
            "imports": list(imports),
            "rss_mb": rss,
            "empty_over_floor": round(empty["rss_mb"] / rss, 3),
        }
    print(
        json.dumps(
            {
                "benchmark": "serve_memory",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "import_floor": {"imports": list(FLOOR_IMPORTS), "rss_mb": floor},
                "other_floors": other_floors,
                "empty": empty,
                "full": full,
                "empty_over_floor": over_floor,
                "rss_difference_mb": difference,
                "targets": {
                    "empty_over_floor_max": EMPTY_OVER_FLOOR,
                    "difference_max_mb": FULL_OVER_EMPTY_MB,
                },
                "rss_kb_per_device": round(
                    (full["rss_mb"] - empty["rss_mb"]) * 1024 / args.devices, 2
                ),
                "capabilities_per_device": CAPS_PER_DEVICE + 1,
                "note": "VmRSS of the `edu serve` process after the admin loaded / and /devices/ once",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
