"""Households and shops built cheaply for the community hub's tests: own instance and database.

A home has one admin and fans of one model with known features; which of them are in use
is chosen per home. A shop is a household in store mode with the same fan and a week of demos
as rows. No devices answer: the hub's tests need the household's tables only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from edu.config import Settings
from edu.db import key, unit_of_work, utcnow
from edu.models import Device, DeviceCapability, Household, Person
from edu.schema import create_schema, make_engine
from edu.services.recommend import Recommendation, recommend
from edu.store.models import DemoSession, DemoStep, KioskView

FAN_MODEL = "zhimi.fan.za4"
FAN_FEATURES = ("buzzer", "child-lock", "natural-wind", "oscillation")
SECRETS = (
    "Secret Flat 7",
    "Ms Secret Owner",
    "Bedroom secret fan",
    "aa:bb:cc:dd:ee:07",
    "127.0.0.77",
)


@dataclass
class LocalHome:
    """One household on its own instance folder and database."""

    settings: Settings
    engine: Engine

    def recommendations(self) -> list[Recommendation]:
        with Session(self.engine) as session:
            person = session.exec(select(Person)).one()
            return recommend(session, person)

    def close(self) -> None:
        self.engine.dispose()


def make_home(root: Path, n: int, using: tuple[str, ...] = ()) -> LocalHome:
    """A household with one admin and a fan whose *using* features are in use."""
    settings = Settings.from_env({"EDU_INSTANCE": str(root / f"home-{n}")})
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    name, person, device_name, mac, ip = SECRETS
    with unit_of_work(engine) as session:
        household = Household(name=name)
        session.add(household)
        session.flush()
        assert household.id is not None
        session.add(Person(household_id=household.id, name=person, role="admin"))
        device = Device(
            household_id=household.id,
            did=100_000 + n,
            mac=mac,
            ip=ip,
            name=device_name,
            model=FAN_MODEL,
            family="fan",
            status="online",
            token_ciphertext="not-a-real-token-ciphertext",
        )
        session.add(device)
        session.flush()
        assert device.id is not None
        for feature in FAN_FEATURES:
            session.add(
                DeviceCapability(
                    device_id=device.id,
                    capability=feature,
                    setting=feature,
                    in_use=feature in using,
                )
            )
    return LocalHome(settings, engine)


# What each shop's week holds, as (features shown in order, ended in a sale intent):
# oscillation is shown in both demos, natural wind twice in the one that sold.
SHOP_DEMOS = ((("oscillation", "natural-wind", "natural-wind"), True), (("oscillation",), False))


def make_shop(root: Path, n: int, now: datetime | None = None) -> LocalHome:
    """A shop (store mode) with the fan, the week of demos in SHOP_DEMOS and a kiosk read.

    Rows the week must not count are there too: a failed step, and a sold demo 10 days old.
    """
    shop = make_home(root, n)
    now = now or utcnow()
    with unit_of_work(shop.engine) as session:
        household = session.exec(select(Household)).one()
        household.kind = "store"
        staff = session.exec(select(Person)).one()
        staff.role = "staff"
        fan = session.exec(select(Device)).one()
        when = now - timedelta(days=1)
        for shown, sold in (*SHOP_DEMOS, (("child-lock",), True)):
            old = shown == ("child-lock",)
            start = now - timedelta(days=10) if old else when
            demo = DemoSession(
                household_id=key(household),
                device_id=key(fan),
                person_id=staff.id,
                started_at=start,
                last_activity=start,
                ended_at=start + timedelta(minutes=3),
                end_reason="ended",
                restored=True,
                sale_intent=sold,
            )
            session.add(demo)
            session.flush()
            for feature in shown:
                session.add(_step(demo, feature, "changed", start))
            session.add(_step(demo, "buzzer", "failed", start))
        session.add(
            KioskView(
                household_id=key(household),
                device_id=key(fan),
                lesson="fan-child-lock",
                capability="child-lock",
                viewed_at=when,
            )
        )
    return shop


def _step(demo: DemoSession, feature: str, status: str, when: datetime) -> DemoStep:
    return DemoStep(
        session_id=key(demo),
        device_id=demo.device_id,
        lesson=f"fan-{feature}",
        capability=feature,
        status=status,
        shown_at=when,
    )
