"""A worker killed (SIGKILL) in the middle of a tip run for 1,000 people: no tip lost, none doubled.

The worker sends each person's tip to the inbox and to a JSON webhook on loopback. The
receiver kills the worker while answering its 300th request, so that request is the worst
case: received, but never recorded as sent. After the restart every tip is delivered once,
counted at the receiver by its idempotency key; the one in flight at the kill is sent again
with the same key and the receiver keeps one copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlmodel import Session, col, func, select
from tips_fixtures import ARRIVED, HttpReceiver, TipsDB, family_capabilities

from edu.db import unit_of_work
from edu.models import Device, DeviceCapability, Household, Person
from edu.tips.channels import ChannelVault, describe
from edu.tips.models import InboxItem, TipChannel, TipDelivery

PEOPLE = 1000
KILL_AT = 300


def populate(db: TipsDB, url: str) -> None:
    """250 households of four people, each with a fan, and every person on the webhook."""
    vault = ChannelVault(db.settings)
    label, kind = describe(url)
    caps = family_capabilities("fan")
    with unit_of_work(db.engine) as session:
        households = [
            Household(name=f"Home {h}", timezone="Europe/Berlin") for h in range(PEOPLE // 4)
        ]
        session.add_all(households)
        session.flush()
        devices = [
            Device(
                household_id=h.id,
                did=1000 + i,
                ip="127.0.0.1",
                family="fan",
                status="online",
                first_seen=ARRIVED,
            )
            for i, h in enumerate(households)
        ]
        session.add_all(devices)
        session.flush()
        session.execute(
            insert(DeviceCapability),
            [
                {"device_id": d.id, "capability": c, "mapped": True, "in_use": False}
                for d in devices
                for c in caps
            ],
        )
        people = [Person(household_id=h.id, name=f"P{n}") for h in households for n in range(4)]
        session.add_all(people)
        session.flush()
        session.add_all(
            TipChannel(
                person_id=p.id,
                url_ciphertext=vault.encrypt(url),  # type: ignore[arg-type]
                fingerprint=vault.fingerprint(url),
                label=label,
                kind=kind,
            )
            for p in people
        )


def tip_run(db: TipsDB, now: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EDU_INSTANCE": str(db.settings.instance),
        "EDU_DATABASE_URL": db.settings.database_url,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from edu.cli import main; main()",
                "tips",
                "run",
                "--now",
                now,
                "--json",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
def test_a_worker_killed_mid_run_delivers_every_tip_exactly_once_after_restart(
    tips_db: TipsDB, http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    populate(tips_db, http_receiver.url("/tips"))
    worker: list[subprocess.Popen[bytes]] = []

    def kill_in_flight(count: int) -> None:
        if count == KILL_AT:
            worker[0].send_signal(signal.SIGKILL)
            worker[0].wait(timeout=30)

    http_receiver.on_request = kill_in_flight
    worker.append(tip_run(tips_db, "2025-06-02T12:00", tmp_path / "first.log"))
    assert worker[0].wait(timeout=120) == -signal.SIGKILL
    assert len(http_receiver.requests) == KILL_AT

    with Session(tips_db.engine) as session:
        states = Counter(
            session.exec(select(TipDelivery.status).where(col(TipDelivery.channel) != "inbox"))
        )
    # Inbox items and ledger rows were committed before sending: all there, most still owed.
    assert states == {"sent": KILL_AT - 1, "sending": PEOPLE - KILL_AT + 1}

    # Restart after the crashed run's claims ran out (10 minutes).
    http_receiver.on_request = None
    restart = tip_run(tips_db, "2025-06-02T12:15", tmp_path / "second.log")
    assert restart.wait(timeout=180) == 0, (tmp_path / "second.log").read_text()[-2000:]
    output = (tmp_path / "second.log").read_text()
    report = json.loads(output[output.index("{") :])
    assert report["tips_sent"] == 0 and report["decisions"] == {"daily-cap": PEOPLE}
    assert len(report["retried"]) == PEOPLE - KILL_AT + 1

    with Session(tips_db.engine) as session:
        rows = session.exec(select(TipDelivery).where(col(TipDelivery.channel) != "inbox")).all()
        inbox_per_person = Counter(session.exec(select(InboxItem.person_id)))
        people = session.exec(select(func.count()).select_from(Person)).one()
    assert people == PEOPLE
    assert len(inbox_per_person) == PEOPLE and set(inbox_per_person.values()) == {1}
    assert len(rows) == PEOPLE and {r.status for r in rows} == {"sent"}
    # Counted at the receiver: one kept copy per tip; only the request in flight came twice.
    keys = Counter(r["headers"]["Idempotency-Key"] for r in http_receiver.requests)
    assert set(http_receiver.kept) == {r.idempotency_key for r in rows}
    assert len(http_receiver.kept) == PEOPLE
    assert len(http_receiver.requests) == PEOPLE + 1
    assert [n for n in keys.values() if n > 1] == [2]
