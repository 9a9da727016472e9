"""Seed a shop: a household of kind "store", its people, and the devices found on its network.

`edu demo --store` and the tests use it with the simulated fleet as the demo table (found and
scanned by ``edu.simulated.household.find_and_scan``, as for the demo home); a real shop gets the
same rows from `edu init --store`, `edu scan` and the people page.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from edu.db import unit_of_work
from edu.models import Person
from edu.services.people import add_person, hash_pin

if TYPE_CHECKING:
    from edu.services.inventory import Inventory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shop:
    """Who can sign in to a seeded shop (the PINs are shown once, to whoever seeded it)."""

    name: str
    staff: str
    staff_pin: str
    manager: str
    manager_pin: str
    devices: int


def new_pin() -> str:
    """Return a random six-digit PIN."""
    return f"{secrets.randbelow(1_000_000):06d}"


def seed_people(
    inventory: Inventory,
    *,
    name: str,
    staff: str = "Sam",
    staff_pin: str | None = None,
    manager: str = "Manager",
    manager_pin: str | None = None,
    timezone: str = "UTC",
) -> Shop:
    """Make the inventory's household a shop with a manager (admin) and one staff member."""
    staff_pin = staff_pin or new_pin()
    manager_pin = manager_pin or new_pin()
    with unit_of_work(inventory.engine) as session:
        household = inventory.household(session)
        household.name, household.kind, household.timezone = name, "store", timezone
        for who, role, pin in ((manager, "admin", manager_pin), (staff, "staff", staff_pin)):
            person = session.exec(
                select(Person).where(Person.household_id == household.id, Person.name == who)
            ).first()
            if person is None:
                add_person(session, household, who, role=role, pin=pin)
            else:
                person.role, person.pin_hash = role, hash_pin(pin)
    return Shop(name, staff, staff_pin, manager, manager_pin, inventory.device_count())
