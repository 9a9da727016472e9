"""`edu serve` killed with SIGKILL mid-scan and mid-tip-run: no committed row lost, SQLite intact.

Each test runs the real command in a subprocess on a copy of the scanned simulated household
(the fleet answers on loopback from this process), kills it at a moment it is visibly busy,
then checks the database file as the kill left it: every row that was committed before the
kill is still there, ``PRAGMA integrity_check`` says ``ok``, and a new server on the same
instance serves the home page. Nothing here talks to anything but 127.0.0.0/8.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from database_mode import clone_instance, postgres_mode
from process_helpers import free_port
from sqlalchemy import insert
from sqlmodel import select
from tips_fixtures import HttpReceiver
from web_fixtures import PINS, settings_for

from devices.fleet import Fleet
from edu.db import key, unit_of_work
from edu.models import Household, Person
from edu.schema import make_engine
from edu.tips.channels import ChannelVault, describe
from edu.tips.models import TipChannel, TipPolicy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_mode(), reason="checks the SQLite file a kill leaves behind (SQLite only)"
    ),
]

DATABASE = "feature-coach.sqlite3"
# Rows these tables may drop or rewrite in normal running, so "before" need not be in "after":
# login attempts are pruned, the lease row and APScheduler's job rows are rewritten in place.
CHURN = {"loginattempt", "schedulerlease", "apscheduler_jobs"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EXTRA_PEOPLE = 120
KILL_AT = 40  # the webhook request during which the tip run is killed


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll *condition* until it returns something truthy; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        pause.wait(0.05)


class Server:
    """`edu serve` in a subprocess on a free loopback port, and a browser session for it."""

    def __init__(self, instance: Path, networks: tuple[str, ...], log: Path) -> None:
        self.instance = instance
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("EDU_") and "proxy" not in k.lower()
        }
        env.update(
            EDU_INSTANCE=str(instance),
            EDU_DEVICE_TIMEOUT="3",
            EDU_DISCOVERY_TIMEOUT="1.5",
        )
        if networks:
            env["EDU_NETWORKS"] = ",".join(networks)
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "edu"), "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.http = requests.Session()
        self.http.trust_env = False  # never a proxy: loopback only
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=10, **kwargs)

    def ready(self) -> bool:
        """Does the server answer yet?"""
        if self.process.poll() is not None:
            raise AssertionError(f"edu serve exited early:\n{self.tail()}")
        try:
            return self.get("/signin").status_code == 200
        except requests.ConnectionError:
            return False

    def sign_in(self, name: str) -> requests.Response:
        """Pick the profile and enter the PIN, as a person at the browser does."""
        person_id = rows(self.instance, "SELECT id FROM person WHERE name = ?", name)[0][0]
        form = self.get(f"/signin/{person_id}")
        match = _CSRF.search(form.text)
        assert match, "the PIN page has a CSRF field"
        home = self.http.post(
            f"{self.url}/signin/{person_id}",
            data={"pin": PINS[name], "csrf_token": match.group(1)},
            timeout=10,
        )
        found = _CSRF.search(home.text)
        self.csrf = found.group(1) if found else ""
        return home

    def api(self, method: str, path: str, body: Any = None) -> requests.Response:
        """Call the JSON API with the signed-in session and its CSRF header."""
        assert self.csrf, "sign in first"
        return self.http.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body,
            headers={"X-CSRF-Token": self.csrf},
            timeout=10,
        )

    def kill(self) -> None:
        """SIGKILL the server and reap it."""
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.http.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def serving(instance: Path, networks: tuple[str, ...], log: Path) -> Iterator[Server]:
    """Start `edu serve` on *instance*, wait until it answers, and stop it afterwards."""
    server = Server(instance, networks, log)
    try:
        wait_until(server.ready, 60, "edu serve to answer")
        yield server
    finally:
        server.stop()


@contextmanager
def read_only(instance: Path) -> Iterator[sqlite3.Connection]:
    """Open the instance's SQLite file read-only (beside a running server: WAL allows it)."""
    conn = sqlite3.connect(f"file:{instance / DATABASE}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def rows(instance: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one read-only query on the instance's SQLite file."""
    with read_only(instance) as conn:
        return conn.execute(query, params).fetchall()


def committed(instance: Path) -> dict[str, set[int]]:
    """Return the rowids of every table, read in one transaction (what is committed now)."""
    with read_only(instance) as conn:
        conn.execute("BEGIN")
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        # the table names come from sqlite_master itself
        query = 'SELECT rowid FROM "{}"'
        return {t: {r for (r,) in conn.execute(query.format(t))} for t in tables}


def integrity(instance: Path) -> list[tuple[Any, ...]]:
    """Open the file as the kill left it (WAL and all) and run SQLite's integrity check."""
    conn = sqlite3.connect(instance / DATABASE, timeout=10)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def assert_nothing_lost(before: dict[str, set[int]], after: dict[str, set[int]]) -> None:
    lost = {
        table: sorted(ids - after.get(table, set()))[:10]
        for table, ids in before.items()
        if table not in CHURN and ids - after.get(table, set())
    }
    assert not lost, f"rows committed before the kill are gone: {lost}"


def assert_restart_serves_home(instance: Path, tmp_path: Path) -> None:
    with serving(instance, (), tmp_path / "restart.log") as again:
        home = again.sign_in("Mia")
        assert home.status_code == 200 and home.url.rstrip("/") == again.url, again.tail()
        assert again.get("/").status_code == 200


@pytest.fixture
def instance(scanned_instance: Path, tmp_path: Path) -> Path:
    """A private copy of the scanned household for one server to work on."""
    target = tmp_path / "instance"
    clone_instance(scanned_instance, target)
    return target


def test_serve_killed_during_a_scan_keeps_every_committed_row_and_a_sound_database(
    fleet: Fleet, instance: Path, tmp_path: Path
) -> None:
    for device in fleet.devices[::2]:  # half the fleet answers late: the scan takes seconds
        device.fault = "slow"
        device.slow_seconds = 1.0
    plug = fleet.by_model("chuangmi.plug.v3")
    with serving(instance, (fleet.network,), tmp_path / "serve.log") as server:
        assert server.sign_in("Mia").status_code == 200
        # committed by this very server just before the scan
        renamed = server.api("PATCH", f"/devices/{plug.did}", {"name": "Kettle"})
        assert renamed.status_code == 200, renamed.text
        started = server.api("POST", "/devices/scan")
        assert started.status_code == 202 and started.json()["started"] is True, started.text

        def scan_is_reading() -> bool:
            state = server.api("GET", "/devices/scan").json()
            assert state["phase"] not in ("done", "failed"), f"the scan ended first: {state}"
            return bool(state["phase"] == "reading")

        wait_until(scan_is_reading, 20, "the scan to reach its reading phase")
        before = committed(instance)
        server.kill()

    assert integrity(instance) == [("ok",)]
    after = committed(instance)
    assert_nothing_lost(before, after)
    assert len(after["device"]) == len(before["device"]) == len(fleet.devices)
    assert rows(instance, "SELECT name FROM device WHERE did = ?", plug.did) == [("Kettle",)]
    assert_restart_serves_home(instance, tmp_path)


def add_people_with_webhooks(instance: Path, count: int, url: str) -> None:
    """Add *count* people who use every device, are due a tip at any hour, and have a webhook."""
    settings = settings_for(instance)
    vault = ChannelVault(settings)
    label, kind = describe(url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            home = key(session.exec(select(Household)).one())
            people = [Person(household_id=home, name=f"Guest {n}") for n in range(count)]
            session.add_all(people)
            session.flush()
            session.execute(
                insert(TipPolicy),
                [
                    # no quiet hours and an early preferred time: due whatever the clock says
                    {"person_id": p.id, "at": "00:00", "quiet_start": "00:00", "quiet_end": "00:00"}
                    for p in people
                ],
            )
            session.add_all(
                TipChannel(
                    person_id=p.id,  # type: ignore[arg-type]
                    url_ciphertext=vault.encrypt(url),
                    fingerprint=vault.fingerprint(url),
                    label=label,
                    kind=kind,
                )
                for p in people
            )
    finally:
        engine.dispose()


def test_serve_killed_during_a_tip_run_keeps_every_committed_row_and_a_sound_database(
    fleet: Fleet, instance: Path, http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    add_people_with_webhooks(instance, EXTRA_PEOPLE, http_receiver.url("/tips"))
    servers: list[Server] = []
    seen: dict[str, Any] = {}

    def kill_in_flight(count: int) -> None:
        # the server waits for this answer: row KILL_AT - 1 is marked sent, KILL_AT is not
        if count == KILL_AT:
            seen["before"] = committed(instance)
            seen["sent"] = rows(
                instance, "SELECT id FROM tipdelivery WHERE channel != 'inbox' AND status = 'sent'"
            )
            servers[0].kill()

    http_receiver.on_request = kill_in_flight
    # the scheduler in `edu serve` starts the tip run as soon as the process is up
    server = Server(instance, (), tmp_path / "serve.log")
    servers.append(server)
    try:
        wait_until(
            lambda: server.process.poll() is not None, 60, "the tip run to reach the webhook"
        )
    finally:
        server.stop()
    assert server.process.returncode == -signal.SIGKILL, server.tail()
    assert len(seen["sent"]) == KILL_AT - 1

    assert integrity(instance) == [("ok",)]
    after = committed(instance)
    assert_nothing_lost(seen["before"], after)
    owed = rows(instance, "SELECT status, count(*) FROM tipdelivery GROUP BY status")
    assert dict(owed)["sending"] >= EXTRA_PEOPLE - KILL_AT + 1  # claimed, still owed
    assert (
        rows(instance, "SELECT id FROM tipdelivery WHERE channel != 'inbox' AND status = 'sent'")
        == seen["sent"]
    )
    assert len(after["inboxitem"]) >= EXTRA_PEOPLE  # every tip's inbox copy was committed first
    assert_restart_serves_home(instance, tmp_path)
