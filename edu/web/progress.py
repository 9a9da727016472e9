"""What the home and progress pages show: learn-next cards, per-device and household progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import g
from sqlmodel import Session

from edu.catalogue import capability_titles
from edu.db import key, utcnow
from edu.models import Household, Person
from edu.paging import Page, page_of
from edu.services.progress import DeviceProgress, device_progress, most_to_learn
from edu.services.recommend import (
    Recommendation,
    changes_at,
    load_state,
    recommend,
)
from edu.state import DeviceRow, HouseholdState, PersonRow
from edu.web.i18n import gettext as _


def feature_title(capability: str) -> str:
    """Return a capability's title in the request's language (English when untranslated)."""
    # a home page names hundreds of features, few of them distinct: translate each once
    cache: dict[str, str] = g.setdefault("feature_titles", {})
    title = cache.get(capability)
    if title is None:
        english = capability_titles().get(capability, capability.replace("-", " ").capitalize())
        title = cache[capability] = _(english)
    return title


def reason_text(item: Recommendation) -> str:
    """Return a recommendation's reason in the request's language."""
    params = item.reason_params
    if item.reason_code == "community":
        if params.get("where") == "in the shop":
            return _(
                "%(count)s of %(people)s people in the shop use this",
                count=params.get("count"),
                people=params.get("people"),
            )
        return _(
            "%(count)s of %(people)s people at home use this",
            count=params.get("count"),
            people=params.get("people"),
        )
    if item.reason_code == "owners":
        return _(
            "%(percent)s%% of owners of this %(family)s use %(feature)s",
            percent=params.get("percent"),
            family=_(str(params.get("family") or "device").replace("-", " ")),
            feature=feature_title(item.capability),
        )
    if item.reason_code == "builds-on":
        return _("Builds on “%(lesson)s”, which you know", lesson=params.get("lesson"))
    if item.reason_code == "new-device":
        return _("New: your %(device)s arrived recently", device=params.get("device"))
    if item.reason_code == "automatic":
        return _(
            "Your %(device)s has this feature; no one has written a lesson for it yet",
            device=params.get("device"),
        )
    return _("You haven't used this on your %(device)s yet", device=params.get("device"))


HOME_DEVICES = 24  # devices on a person's home page; the others are on their own pages
PAGE_SIZE = 24  # devices per page of the progress lists


@dataclass(frozen=True)
class Home:
    """A person's home page: what to learn next and how far along each device is."""

    cards: list[Recommendation]
    devices: list[DeviceProgress]  # the ones with the most left to learn, HOME_DEVICES at most
    more: int = 0
    waiting: int = 0  # devices whose features are not known yet (no token, unsupported ...)
    ready: int = 0  # devices whose features are known, shown here or not
    until: datetime | None = None  # when the clock alone changes this (a snooze ends ...)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendations": [c.to_dict() for c in self.cards],
            "devices": [d.to_dict() for d in self.devices],
        }


def home(session: Session, person: Person, *, limit: int = 6) -> Home:
    """Read what *person*'s home page shows, in one pass over the household's state."""
    household = session.get(Household, person.household_id)
    assert household is not None
    state = load_state(session, household)
    now = utcnow()
    items = recommend(session, person, state=state, now=now)
    shown, ready, waiting = most_to_learn(state, key(person), HOME_DEVICES)
    return Home(
        items[:limit],
        shown,
        max(len(items) - limit, 0),
        waiting=waiting,
        ready=ready,
        until=changes_at(state, key(person), now),
    )


def my_devices(session: Session, person: Person, number: int) -> tuple[Page[DeviceProgress], int]:
    """Return page *number* of the person's devices whose features are known, by name, and
    how many of their devices are not ready yet."""
    rows = device_progress(session, person)
    ready = sorted((r for r in rows if r.total), key=lambda r: (r.name.lower(), r.device))
    return page_of(ready, number, PAGE_SIZE), len(rows) - len(ready)


@dataclass
class FeatureRow:
    """One feature of one device, and who in the household uses it."""

    capability: str
    title: str
    users: list[str] = field(default_factory=list)
    by_device: bool = False  # the device state shows it in use, for everyone who uses it


@dataclass
class DeviceAdoption:
    """How much of one device the household uses."""

    did: int
    name: str
    family: str | None
    status: str
    people: list[str]
    features: list[FeatureRow]

    @property
    def used(self) -> int:
        return sum(1 for f in self.features if f.users)

    @property
    def total(self) -> int:
        return len(self.features)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            used=self.used,
            total=self.total,
            unused=[f.capability for f in self.features if not f.users],
        )
        return data


@dataclass(frozen=True)
class UnusedFeature:
    """A feature nobody uses yet, on how many devices, and the first few of them by name."""

    capability: str
    title: str
    devices: int
    examples: list[str]

    @property
    def others(self) -> int:
        return self.devices - len(self.examples)


_ORDERS: dict[str, Callable[[DeviceRow], Any]] = {
    "did": lambda d: d.did,
    "name": lambda d: (d.display_name.lower(), d.did),
}


def _devices_by(state: HouseholdState, order: str) -> list[DeviceRow]:
    """The household's devices by device id or by name (memoised with the state)."""
    memo_key = ("devices-by", order)
    found = state.memo.get(memo_key)
    if found is None:
        found = state.memo[memo_key] = sorted(state.devices.values(), key=_ORDERS[order])
    return found  # type: ignore[no-any-return]


def _users(state: HouseholdState, device_id: int) -> list[PersonRow]:
    return [p for p in state.people if device_id in state.devices_of.get(p.id, ())]


def _who(
    state: HouseholdState, device_id: int, capability: str, users: list[PersonRow]
) -> list[str]:
    """The names of the people among *users* who use this feature of this device."""
    return [p.name for p in users if (device_id, capability) in state.used.get(p.id, ())]


def _adoption(state: HouseholdState, device: DeviceRow) -> DeviceAdoption:
    """Each mapped feature of *device* and the people who use it."""
    users = _users(state, device.id)
    features = [
        FeatureRow(
            cap.capability,
            feature_title(cap.capability),
            _who(state, device.id, cap.capability, users),
            by_device=bool(cap.in_use),
        )
        for cap in state.capabilities.get(device.id, ())
        if cap.mapped
    ]
    return DeviceAdoption(
        device.did,
        device.display_name,
        device.family,
        device.status,
        [p.name for p in users],
        features,
    )


def household_progress(
    session: Session, household: Household, *, after: int | None = None, limit: int | None = None
) -> list[DeviceAdoption]:
    """Return, per device by device id (after *after*, at most *limit*), each feature and the
    people who use it (for the admin)."""
    state = load_state(session, household)
    devices = [d for d in _devices_by(state, "did") if after is None or d.did > after]
    return [_adoption(state, device) for device in devices[:limit]]


def adoption_page(session: Session, household: Household, number: int) -> Page[DeviceAdoption]:
    """Return page *number* of the household's devices by name, each feature and its users."""
    state = load_state(session, household)
    devices = page_of(_devices_by(state, "name"), number, PAGE_SIZE)
    rows = [_adoption(state, device) for device in devices.items]
    return Page(rows, devices.number, devices.size, devices.total)


def unused_features(
    session: Session, household: Household, *, limit: int = 12, examples: int = 3
) -> tuple[list[UnusedFeature], int]:
    """Return the features nobody uses yet, those on the most devices first (at most *limit*,
    each with its first *examples* devices by name), and how many more such features there are."""
    grouped = _nobody_uses(load_state(session, household))
    shown = [
        UnusedFeature(
            cap, feature_title(cap), len(devices), [d.display_name for d in devices[:examples]]
        )
        for cap, devices in grouped[:limit]
    ]
    return shown, max(len(grouped) - limit, 0)


def _nobody_uses(state: HouseholdState) -> list[tuple[str, list[DeviceRow]]]:
    """Each feature nobody uses yet with its devices, on the most devices first (memoised)."""
    found = state.memo.get("nobody-uses")
    if found is not None:
        return found  # type: ignore[no-any-return]
    grouped: dict[str, list[DeviceRow]] = defaultdict(list)
    for device in _devices_by(state, "name"):
        users = _users(state, device.id)
        for cap in state.capabilities.get(device.id, ()):
            if cap.mapped and not _who(state, device.id, cap.capability, users):
                grouped[cap.capability].append(device)
    found = state.memo["nobody-uses"] = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return found
