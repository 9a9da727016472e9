"""Which devices a list shows: the API's keyset pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from edu.models import Device, DeviceCapability, Person, PersonDevice


def sees_all(person: Person) -> bool:
    """Does *person* see every device of the household (admins and people who use them all)?"""
    return person.role == "admin" or person.uses_all_devices


def devices_after(session: Session, person: Person, after: int | None, limit: int) -> list[Device]:
    """Return up to *limit* of the devices *person* sees, by device id, after *after*."""
    query = select(Device).where(Device.household_id == person.household_id)
    if not sees_all(person):
        chosen = select(PersonDevice.device_id).where(PersonDevice.person_id == person.id)
        query = query.where(col(Device.id).in_(chosen))
    if after is not None:
        query = query.where(col(Device.did) > after)
    return list(session.exec(query.order_by(col(Device.did)).limit(limit)))


def capabilities_of(
    session: Session, devices: Sequence[Device]
) -> dict[int | None, list[DeviceCapability]]:
    """Return the capabilities of *devices* (by device row id), in one query."""
    found: dict[int | None, list[DeviceCapability]] = defaultdict(list)
    ids = [d.id for d in devices]
    if ids:
        for cap in session.exec(
            select(DeviceCapability)
            .where(col(DeviceCapability.device_id).in_(ids))
            .order_by(col(DeviceCapability.capability))
        ):
            found[cap.device_id].append(cap)
    return found
