"""Households built cheaply for the community hub's tests: own instance and database, rows only.

A home has one admin and fans of one model with known features; which of them are in use
is chosen per home. No devices answer: the hub's tests need the household's tables only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from edu.config import Settings
from edu.db import unit_of_work
from edu.models import Device, DeviceCapability, Household, Person
from edu.schema import create_schema, make_engine
from edu.services.recommend import Recommendation, recommend

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
