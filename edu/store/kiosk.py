"""What the customer-facing kiosk shows: the features of the devices on the table, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from edu.db import key, utcnow
from edu.models import Device, Household
from edu.store.models import KioskView
from edu.store.script import Step, features

PER_DEVICE = 6


@dataclass(frozen=True)
class TableDevice:
    """A device on the demo table with the features a customer can read about."""

    did: int
    name: str
    family: str | None
    steps: list[Step]


def is_store(session: Session, household_id: int | None) -> bool:
    """Tell whether the household is a shop."""
    household = session.get(Household, household_id) if household_id is not None else None
    return household is not None and household.kind == "store"


def table(session: Session, household_id: int, *, lang: str = "en") -> list[TableDevice]:
    """Return the shop's devices that have features to tell about, by name."""
    devices = session.exec(
        select(Device).where(
            Device.household_id == household_id, col(Device.status) != "unsupported"
        )
    ).all()
    out = []
    for device in sorted(devices, key=lambda d: (d.display_name.casefold(), d.did)):
        steps = features(session, device, lang=lang)[:PER_DEVICE]
        if steps:
            out.append(TableDevice(device.did, device.display_name, device.family, steps))
    return out


def feature(
    session: Session, household_id: int, did: int, lesson_id: str, *, lang: str = "en"
) -> tuple[TableDevice, Step] | None:
    """Return a device of the table and one of its features, or None."""
    for item in table(session, household_id, lang=lang):
        if item.did == did:
            step = next((s for s in item.steps if s.lesson == lesson_id), None)
            return (item, step) if step is not None else None
    return None


def record_view(
    session: Session, household_id: int, did: int, step: Step, *, now: datetime | None = None
) -> None:
    """Count that a customer opened a feature on the kiosk; the caller owns the transaction."""
    device = session.exec(
        select(Device).where(Device.household_id == household_id, Device.did == did)
    ).one()
    session.add(
        KioskView(
            household_id=household_id,
            device_id=key(device),
            lesson=step.lesson,
            capability=step.capability,
            viewed_at=now or utcnow(),
        )
    )
