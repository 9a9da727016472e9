"""Fixtures for long lists: a household with hundreds of devices, its admin and a member.

Import them in ``tests/conftest.py``::

    from paging_fixtures import big_household  # noqa: F401
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from sqlmodel import col, select
from web_fixtures import Web, close_app, make_app, settings_for

from edu.db import key, unit_of_work
from edu.models import Device, Person, PersonDevice
from edu.services.people import hash_pin

ROOT = Path(__file__).resolve().parent.parent
DEVICES = 230  # five pages of 50 on the devices page, three of 100 in the API
MEMBER_EVERY = 3  # the member uses every third device (by device id)


def _serve_memory() -> ModuleType:
    """bench/serve_memory.py, whose build() writes a household of N devices in bulk."""
    path = ROOT / "bench" / "serve_memory.py"
    spec = importlib.util.spec_from_file_location("bench_serve_memory", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class BigHousehold:
    """The app on a household of DEVICES devices; Admin sees them all, Leo every third."""

    app: Flask
    pin: str
    dids: list[int]  # every device, by device id
    member_dids: list[int]  # Leo's devices, by device id

    def signed_in(self, name: str) -> Web:
        """A fresh browser signed in as *name* ("Admin" or "Leo")."""
        web = Web(self.app.test_client())
        response = web.sign_in(self.app, name, self.pin)
        assert response.status_code == 302, response.status_code
        return web


def _add_member(app: Flask, pin: str) -> list[int]:
    """Add Leo, a member who uses every third device; return his devices' ids."""
    with unit_of_work(app.extensions["edu.engine"]) as session:
        devices = list(session.exec(select(Device).order_by(col(Device.did))))
        leo = Person(
            household_id=devices[0].household_id,
            name="Leo",
            pin_hash=hash_pin(pin),
            uses_all_devices=False,
        )
        session.add(leo)
        session.flush()
        mine = devices[::MEMBER_EVERY]
        session.add_all(PersonDevice(person_id=key(leo), device_id=key(d)) for d in mine)
        return [d.did for d in mine]


@pytest.fixture
def big_household(tmp_path: Path) -> Iterator[BigHousehold]:
    """A household of DEVICES devices (bench/serve_memory.py's build) with an admin and Leo."""
    bench = _serve_memory()
    instance = tmp_path / "instance"
    bench.build(instance, DEVICES)
    app = make_app(settings_for(instance))
    member_dids = _add_member(app, bench.PIN)
    dids = [100_000_000 + n for n in range(DEVICES)]  # build()'s device ids
    yield BigHousehold(app, bench.PIN, dids, member_dids)
    close_app(app)
