"""Fixtures for the store demo: a shop whose demo table is the simulated fleet.

Import them in ``tests/conftest.py``::

    from demo_fixtures import store, store_instance  # noqa: F401

The shop is scanned once per session (like ``scanned_instance``); each test gets a copy of
its instance folder, a fresh inventory on it, and a throttle on a fake clock that never sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import SHOTS, LiveServer
from database_mode import clone_instance
from fleet_fixtures import miio_client
from sqlmodel import Session, select
from web_fixtures import close_app

from devices.capabilities import snapshot as flatten
from devices.fleet import Fleet, SimulatedDevice
from edu.config import Settings
from edu.models import Device, Person
from edu.schema import create_schema, make_engine
from edu.services.inventory import Inventory
from edu.simulated.household import find_and_scan
from edu.store.audit import Staff
from edu.store.seed import seed_people
from edu.store.sessions import Desk
from edu.store.throttle import Throttle

SHOP = "Corner Electronics"
STAFF, STAFF_PIN = "Sam", "2468"
MANAGER, MANAGER_PIN = "Manager", "1357"
T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def store_settings(instance: Path, **env: str) -> Settings:
    """Settings for a test shop: short device timeouts."""
    return Settings.from_env(
        {
            "EDU_INSTANCE": str(instance),
            "EDU_DEVICE_TIMEOUT": "0.5",
            "EDU_DISCOVERY_TIMEOUT": "0.8",
            **env,
        }
    )


class FakeTime:
    """A monotonic clock that only moves when told to, and a sleep that moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Clock:
    """A wall clock for the demo pages that tests set and advance (thread-safe enough)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Store:
    """The shop on the fleet: its inventory, desk, staff, and ways to reach each device."""

    fleet: Fleet
    inventory: Inventory
    desk: Desk
    staff: Staff
    ticks: FakeTime
    dids: dict[str, int] = field(default_factory=dict)

    def did(self, name: str) -> int:
        """Return the did of the device called *name* in the fleet file."""
        return self.fleet_device(name).did

    def fleet_device(self, name: str) -> SimulatedDevice:
        """Return the simulated device called *name*."""
        return next(d for d in self.fleet.devices if d.name == name)

    def read_back(self, name: str) -> dict[str, Any]:
        """Read the device through python-miio directly (not through Feature Coach)."""
        client = miio_client(self.fleet_device(name))
        return flatten(client.status())

    def session(self) -> Session:
        return Session(self.inventory.engine, expire_on_commit=False)


def build_store(instance: Path, fleet: Fleet) -> None:
    """Scan the fleet into a new shop at *instance*, with a manager and one staff member."""
    seed_store(store_settings(instance), fleet)


def seed_store(settings: Settings, fleet: Fleet) -> None:
    """Put the shop into the database of *settings*, unless it is there already."""
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    with Session(engine) as session:
        seeded = session.exec(select(Person).where(Person.name == STAFF)).first() is not None
    if not seeded:
        inventory = Inventory.open(engine, settings)
        find_and_scan(inventory, fleet)
        seed_people(
            inventory,
            name=SHOP,
            staff=STAFF,
            staff_pin=STAFF_PIN,
            manager=MANAGER,
            manager_pin=MANAGER_PIN,
        )
    engine.dispose()


@pytest.fixture(scope="session")
def store_instance(fleet_session: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shop instance with the whole fleet scanned and polled, staff seeded (built once)."""
    fleet_session.reset()
    instance = tmp_path_factory.mktemp("store") / "instance"
    build_store(instance, fleet_session)
    fleet_session.reset()
    return instance


def copy_store(store_instance: Path, tmp_path: Path, fleet: Fleet) -> Path:
    """Copy the shop's instance folder (and, on PostgreSQL, its database) for one test."""
    instance = tmp_path / "store"
    clone_instance(store_instance, instance)
    seed_store(store_settings(instance), fleet)
    return instance


@pytest.fixture
def store(fleet: Fleet, store_instance: Path, tmp_path: Path) -> Iterator[Store]:
    """A fresh copy of the shop on the running fleet, with a never-sleeping throttle."""
    settings = store_settings(copy_store(store_instance, tmp_path, fleet))
    engine = make_engine(settings.database_url)
    create_schema(engine)
    inventory = Inventory.open(engine, settings)
    ticks = FakeTime()
    desk = Desk(
        inventory,
        throttle=Throttle(clock=ticks, sleep=ticks.sleep),
        timeout=timedelta(seconds=settings.demo_timeout),
    )
    with Session(engine) as session:
        sam = session.exec(select(Person).where(Person.name == STAFF)).one()
        staff = Staff(sam.id, sam.name, sam.household_id)
        dids = {d.name: d.did for d in session.exec(select(Device))}
    yield Store(fleet, inventory, desk, staff, ticks, dids)
    engine.dispose()


def demo_app(
    instance: Path, *, ticks: FakeTime | None = None, clock: Clock | None = None, **config: Any
) -> Any:
    """The web app on a shop instance, with a test clock and a throttle that never sleeps."""
    from web_fixtures import make_app

    settings = store_settings(instance)
    app = make_app(settings, **config)
    ticks = ticks or FakeTime()
    app.extensions["edu.store.clock"] = clock or Clock()
    app.extensions["edu.store.desk"] = Desk(
        app.extensions["edu.inventory"],
        throttle=Throttle(clock=ticks, sleep=ticks.sleep),
        timeout=timedelta(seconds=settings.demo_timeout),
    )
    return app


@pytest.fixture
def store_app(fleet: Fleet, store_instance: Path, tmp_path: Path) -> Iterator[Any]:
    """The web app on a fresh copy of the shop (fixed demo clock at T0)."""
    app = demo_app(copy_store(store_instance, tmp_path, fleet))
    yield app
    close_app(app)


@pytest.fixture
def store_web(store_app: Any) -> Any:
    """A browser-like client on the shop (see web_fixtures.Web)."""
    from web_fixtures import Web

    return Web(store_app.test_client())


# -- a real browser on a real server ------------------------------------------------------

TABLET, KIOSK = {"width": 1024, "height": 768}, {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def demo_browser(browser: Any) -> Any:
    """The shared browser, under the name the demo tests use."""
    return browser


@dataclass
class LiveStore:
    """The shop served for a browser, with the clock the demo pages read."""

    url: str
    app: Any
    clock: Clock


@pytest.fixture
def live_store(fleet: Fleet, store_instance: Path, tmp_path: Path) -> Iterator[LiveStore]:
    """The shop's pages on a real server over a fresh copy of the shop."""
    clock = Clock()
    app = demo_app(copy_store(store_instance, tmp_path, fleet), clock=clock, TESTING=False)
    server = LiveServer(app)
    yield LiveStore(server.url, app, clock)
    server.stop()
    close_app(app)


def shoot(page: Any, name: str, size: dict[str, int], *, full_page: bool = True) -> None:
    """Save a screenshot of the page at *size* under test-output/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(size)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page, animations="disabled")
