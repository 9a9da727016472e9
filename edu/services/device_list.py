"""Which devices a list shows: the admin's filtered pages and the API's keyset pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, func, literal, or_
from sqlmodel import Session, col, select

from edu.models import DEVICE_STATUSES, Device, DeviceCapability, Person
from edu.paging import Page, last_page
from edu.services.people import seen_devices
from edu.text import plain_text

# Working devices first, then the ones that need the admin, then the rest.
STATUS_ORDER = {"online": 0, "auth-failed": 1, "new": 2, "offline": 3, "error": 3, "unsupported": 4}


@dataclass(frozen=True)
class DeviceFilter:
    """What the admin typed to find a device: part of its name, model or address; a status."""

    text: str = ""
    status: str = ""  # a Device.status, or "" for any

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> DeviceFilter:
        """Read ``?q=`` and ``?status=``; what cannot be read is left out."""
        status = args.get("status", "")
        return cls(plain_text(args.get("q", "")), status if status in DEVICE_STATUSES else "")

    @property
    def active(self) -> bool:
        return bool(self.text or self.status)

    def args(self) -> dict[str, str]:
        """The query arguments that keep this filter on the other pages."""
        return {k: v for k, v in (("q", self.text), ("status", self.status)) if v}

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.text:
            found.append(
                or_(
                    col(Device.name).icontains(self.text, autoescape=True),
                    col(Device.model).icontains(self.text, autoescape=True),
                    col(Device.ip).contains(self.text, autoescape=True),
                )
            )
        if self.status:
            found.append(col(Device.status) == self.status)
        return found


def _display_name() -> Any:
    """Device.display_name in SQL: the name, else the model, else "device <did>"."""
    return func.coalesce(
        func.nullif(col(Device.name), ""),
        func.nullif(col(Device.model), ""),
        literal("device ") + cast(col(Device.did), String),
    )


def count_devices(
    session: Session, household_id: int, found: DeviceFilter | None = None, *conditions: Any
) -> int:
    """Count the household's devices (those the filter finds and the conditions hold for)."""
    query = select(func.count()).select_from(Device).where(Device.household_id == household_id)
    for condition in [*(found.conditions() if found else ()), *conditions]:
        query = query.where(condition)
    return int(session.exec(query).one())


def device_page(
    session: Session, household_id: int, found: DeviceFilter, number: int, size: int
) -> Page[Device]:
    """Return one page of the household's devices the filter finds, working ones first."""
    total = count_devices(session, household_id, found)
    number = last_page(number, total, size)
    query = select(Device).where(Device.household_id == household_id)
    for condition in found.conditions():
        query = query.where(condition)
    rank = case(STATUS_ORDER, value=col(Device.status), else_=3)
    query = query.order_by(rank, func.lower(_display_name()), col(Device.did))
    rows = session.exec(query.offset((number - 1) * size).limit(size)).all()
    return Page(list(rows), number, size, total)


def devices_after(session: Session, person: Person, after: int | None, limit: int) -> list[Device]:
    """Return up to *limit* of the devices *person* sees, by device id, after *after*."""
    query = select(Device).where(seen_devices(person))
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
