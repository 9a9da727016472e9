"""Fixtures for the simulated fleet: one household per session, reset before every test.

Import them in ``tests/conftest.py``::

    from fleet_fixtures import fleet, fleet_session, offline_miot  # noqa: F401
"""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from miio import DeviceFactory
from miio.device import Device
from miio.integrations.genericmiot.genericmiot import GenericMiot
from miio.miot_models import DeviceModel

from devices.fleet import Fleet, SimulatedDevice
from devices.fleet_sim import DATA


def start_on_free_block(fleet: Fleet) -> Fleet:
    """Start a fleet on the first free 127.0.N.10 block: other test runs may hold some."""
    return fleet.start_in_free_block()


def miio_client(device: SimulatedDevice, *, timeout: float = 1.0, retries: int = 0) -> Any:
    """Return python-miio's own client for a simulated device, with a short timeout.

    GenericMiot models get their shipped spec injected, so no client ever goes online.
    """
    dev: Device
    spec_file = DATA / "specs" / f"{device.model}.json"
    if DeviceFactory.class_for_model(device.model) is GenericMiot:
        dev = GenericMiot(device.ip, device.token, model=device.model)
        if spec_file.is_file():
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
            dev._miot_model = DeviceModel.parse_obj(spec)
            dev._create_descriptors()
    else:
        dev = DeviceFactory.create(device.ip, device.token, model=device.model)
    dev._protocol._timeout = timeout  # type: ignore[assignment]  # floats work
    dev.retry_count = retries
    return dev


def collect_leaked_sockets() -> None:
    """Collect the sockets python-miio leaves open, quietly, before they warn in another test.

    python-miio opens a UDP socket per request and never closes it; when one is caught in a
    reference cycle (a traceback) it is freed by the garbage collector at a random moment.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def offline_miot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make python-miio's MIoT spec download fail loudly instead of reaching the internet."""
    from miio.miot_cloud import MiotCloud

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("python-miio tried to download a MIoT spec; inject the shipped one")

    monkeypatch.setattr(MiotCloud, "get_device_model", refuse)
    monkeypatch.setattr(MiotCloud, "get_model_schema", refuse)
    monkeypatch.setattr(MiotCloud, "get_release_list", refuse)


@pytest.fixture(scope="session")
def fleet_session() -> Iterator[Fleet]:
    """Run the household fleet once for the whole test session."""
    fleet = start_on_free_block(Fleet.load("household"))
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture
def fleet(fleet_session: Fleet, offline_miot: None) -> Iterator[Fleet]:
    """Give a test the running household, fresh: first state, no faults, counters at zero."""
    fleet_session.reset()
    yield fleet_session
    fleet_session.reset()
    collect_leaked_sockets()
