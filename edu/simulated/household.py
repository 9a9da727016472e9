"""The demo household: the simulated fleet found and scanned by the real code, three people, history.

The same services as a real home, given other inputs (the fleet as the network, people and
history made up): no ``if demo`` anywhere else.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from edu.db import unit_of_work, utcnow
from edu.models import Device, DeviceCapability, Household, Person
from edu.services.people import add_person, mark_lesson, set_devices
from edu.services.usage import record_usage

if TYPE_CHECKING:
    from devices.fleet import Fleet
    from edu.services.inventory import Inventory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoPerson:
    """One demo profile: who, which PIN, which devices (by fleet name; None is all)."""

    name: str
    role: str
    pin: str
    language: str
    devices: tuple[str, ...] | None
    uses: tuple[tuple[str, str], ...] = ()  # (device name, capability) they tried before
    knows: tuple[str, ...] = ()  # lessons they marked as known


PEOPLE = (
    DemoPerson(
        "Mia",
        "admin",
        "1111",
        "en",
        None,
        uses=(("Study fan", "oscillation"), ("Living room vacuum", "do-not-disturb")),
        knows=("fan-oscillation",),
    ),
    DemoPerson(
        "Leo",
        "member",
        "2222",
        "en",
        ("Study fan", "Bedroom fan", "Living room vacuum", "Kitchen ceiling light", "Kettle plug"),
        uses=(("Study fan", "child-lock"), ("Kitchen ceiling light", "brightness")),
    ),
    DemoPerson(
        "Ana",
        "member",
        "3333",
        "zh-CN",
        (
            "Bedroom purifier",
            "Nursery humidifier",
            "Bathroom heater",
            "Tower fan",
            "Desk lamp bulb",
        ),
        uses=(("Bedroom purifier", "auto-mode"),),
    ),
)
# Features the devices themselves show in use (someone used them with a remote or the app).
DEVICE_HISTORY = (
    ("Bedroom purifier", "filter-life"),
    ("Living room vacuum", "consumables"),
    ("Study fan", "speed-level"),
)


def find_and_scan(inventory: Inventory, fleet: Fleet) -> list[dict[str, Any]]:
    """Import the hidden tokens as an admin would, then sweep the fleet's /24, scan and poll once."""
    from devices.networks import parse_networks
    from edu.services.scans import scan_networks
    from edu.simulated.fleet import token_file_for

    path = inventory.settings.ensure_instance() / "demo-tokens.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(token_file_for(fleet)), encoding="utf-8")
    try:
        inventory.import_tokens(path)
    finally:
        path.unlink(missing_ok=True)
    names = {d.did: d.name for d in fleet.devices}  # as people name them
    scan_networks(inventory, parse_networks(fleet.network), names=names, poll=True)
    return inventory.devices()


def seed_people(
    inventory: Inventory, *, name: str = "Demo home", timezone: str = "Europe/Berlin"
) -> list[DemoPerson]:
    """Add the demo people, their devices and a little history; return who was added."""
    now = utcnow()
    with unit_of_work(inventory.engine) as session:
        household = inventory.household(session)
        household.name, household.timezone = name, timezone
        devices = {
            d.name: d
            for d in session.exec(select(Device).where(Device.household_id == household.id))
        }
        for index, spec in enumerate(PEOPLE):
            person = add_person(
                session, household, spec.name, role=spec.role, pin=spec.pin, language=spec.language
            )
            ids = (
                None
                if spec.devices is None
                else [devices[n].id for n in spec.devices if n in devices]
            )
            set_devices(session, person, ids)  # type: ignore[arg-type]
            session.flush()
            for device_name, capability in spec.uses:
                _use(
                    session,
                    devices.get(device_name),
                    capability,
                    person,
                    now - timedelta(days=3 + index),
                )
            for lesson in spec.knows:
                mark_lesson(session, person, lesson, "done", now=now)
        for device_name, capability in DEVICE_HISTORY:
            _use(session, devices.get(device_name), capability, None, now - timedelta(days=10))
    return list(PEOPLE)


def _use(
    session: Any, device: Device | None, capability: str, person: Person | None, when: Any
) -> None:
    if device is None:
        return
    has = session.exec(
        select(DeviceCapability).where(
            DeviceCapability.device_id == device.id, DeviceCapability.capability == capability
        )
    ).first()
    if has is None:
        logger.debug("demo history: %s has no %s", device.display_name, capability)
        return
    record_usage(
        session,
        device,
        capability,
        "tried" if person else "state",
        person_id=person.id if person else None,
        when=when,
    )


def household_name(inventory: Inventory) -> str:
    """Return the household's name."""
    with unit_of_work(inventory.engine) as session:
        home = session.exec(select(Household)).first()
        return home.name if home else ""
