"""How far along a person is with each of their devices: features in use and not yet used."""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlmodel import Session

from edu.state import DeviceRow, HouseholdState, load_state


class _Person(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def household_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DeviceProgress:
    """How many of a device's features a person uses."""

    device: int
    name: str
    family: str | None
    status: str
    in_use: list[str]
    not_used: list[str]

    @property
    def total(self) -> int:
        return len(self.in_use) + len(self.not_used)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def device_progress(
    session: Session, person: _Person, *, state: HouseholdState | None = None
) -> list[DeviceProgress]:
    """Return, per device the person uses (by device id), the features in use and not used yet.

    Memoised with the household's state: a list of a shop's devices is read page by page.
    """
    pid = person.id
    assert pid is not None
    state = state or load_state(session, person.household_id)
    memo_key = ("device-progress", pid)
    found = state.memo.get(memo_key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    devices = state.devices
    rows = [
        _progress(state, devices[d], state.used.get(pid, set()))
        for d in sorted(state.devices_of.get(pid, ()), key=lambda d: devices[d].did)
    ]
    state.memo[memo_key] = rows
    return rows


def mapped_features(state: HouseholdState, device: DeviceRow) -> list[str]:
    """The device's mapped features, sorted (kept with its capabilities, see edu.state)."""
    return state.from_features(
        "mapped", device, lambda caps, _device: sorted({c.capability for c in caps if c.mapped})
    )


def _progress(
    state: HouseholdState, device: DeviceRow, used: set[tuple[int, str]]
) -> DeviceProgress:
    mapped = mapped_features(state, device)
    in_use = [c for c in mapped if (device.id, c) in used]
    not_used = [c for c in mapped if (device.id, c) not in used] if in_use else list(mapped)
    return DeviceProgress(
        device.did, device.display_name, device.family, device.status, in_use, not_used
    )


def most_to_learn(
    state: HouseholdState, person_id: int, count: int
) -> tuple[list[DeviceProgress], int, int]:
    """The *count* devices of the person with the most left to learn (least adopted first,
    then more features to learn, then by name), how many devices have known features, and
    how many do not: what a home page shows, without drawing every device of a big shop."""
    used = state.used.get(person_id, set())
    touched = {device_id for device_id, _capability in used}  # the others use nothing yet
    keys, waiting = [], 0
    for device_id in state.devices_of.get(person_id, ()):
        device = state.devices[device_id]
        mapped = mapped_features(state, device)
        if not mapped:
            waiting += 1
            continue
        using = sum((device_id, c) in used for c in mapped) if device_id in touched else 0
        total = len(mapped)
        keys.append((using / total, using - total, device.display_name.lower(), device.did, device))
    top = heapq.nsmallest(count, keys, key=lambda k: k[:4])
    return [_progress(state, k[4], used) for k in top], len(keys), waiting
