"""`edu simulate` serves a fleet others can find; failing devices back off, then recover."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from lan_fixtures import scanned
from sqlmodel import Session, select

from devices.coordinator import BACKOFF_MAX, backoff
from devices.discovery import sweep
from devices.fleet import Fleet
from devices.fleet_device import PORT
from edu.models import Device
from edu.services.inventory import Inventory

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


def free_block(count: int) -> int:
    """Return N for a 127.0.N.10 block (N in 200-239) whose first *count* miIO ports are free.

    `edu simulate --base` refuses a taken address, as it should; another test run on this
    machine may hold some of these blocks, so pick one nobody holds now.
    """
    for step in range(40):
        block = 200 + (os.getpid() + step) % 40
        with ExitStack() as held:
            try:
                for host in range(10, 10 + count):
                    probe = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                    probe.bind((f"127.0.{block}.{host}", PORT))
            except OSError:
                continue
        return block
    pytest.fail("no free 127.0.2xx.10 block for `edu simulate`")


def test_edu_simulate_runs_a_fleet_a_sweep_finds(tmp_path: Path) -> None:
    block = free_block(len(Fleet.load("household").devices))
    base = f"127.0.{block}.10"
    command = [str(Path(sys.executable).with_name("edu")), "simulate", "--base", base, "--json"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:  # the JSON document ends with a line holding "]"
                lines.append(line)
                if line.rstrip() == "]":
                    break
            devices = json.loads("".join(lines))
            assert len(devices) >= 14
            assert all(d["ip"].startswith(f"127.0.{block}.") for d in devices)
            assert len({d["token"] for d in devices}) == len(devices)
            found = sweep([f"127.0.{block}.0/24"], timeout=1.0)
            assert {f.did for f in found} == {d["did"] for d in devices}
        finally:
            proc.terminate()


def test_backoff_grows_after_repeated_failures_and_is_capped() -> None:
    interval = timedelta(minutes=5)
    delays = [backoff(n, interval) for n in range(1, 12)]
    assert delays[0] == delays[1] == interval
    assert delays[3] > delays[2] > interval
    assert max(delays) == BACKOFF_MAX
    assert delays == sorted(delays)


def test_a_dead_device_waits_longer_between_polls_and_recovers(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    plug = fleet.by_model("chuangmi.plug.v3")
    plug.fault = "no-reply"
    waits = []
    for _ in range(4):
        rows = {r["did"]: r for r in inventory.poll(due_only=False)}
        assert rows[plug.did]["status"] == "offline"
        with Session(inventory.engine) as session:
            device = session.exec(select(Device).where(Device.did == plug.did)).one()
            assert device.next_poll is not None and device.last_polled is not None
            waits.append(device.next_poll - device.last_polled)
    assert waits[-1] > waits[0]
    due = {r["did"] for r in inventory.poll(due_only=True)}
    assert plug.did not in due  # backing off: not due yet
    plug.fault = None
    rows = {r["did"]: r for r in inventory.poll()}
    assert rows[plug.did]["status"] == "online"
