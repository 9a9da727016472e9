"""The household's side of the community hub: its link and cached table, and what a report holds.

A report says, per device **model**, which vocabulary features the household's devices of that
model have, which are in use (by the device's state or a person), and which of their lessons
someone has done or dismissed. It is built from those tables only: no device id, name,
address, MAC, token, person, PIN or household name is read, so none can be sent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from edu.catalogue import capability_titles
from edu.db import UTCDateTime
from edu.models import Device, DeviceCapability, FeatureUse, LessonProgress, Person

_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,79}$")  # what the hub accepts (edu.hub.protocol)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)  # type: ignore[call-overload]


class CommunityLink(SQLModel, table=True):
    """The household's membership of a hub (the signing key itself is in the instance folder)."""

    __tablename__ = "community_link"

    household_id: int = Field(foreign_key="household.id", primary_key=True)
    hub_url: str
    joined_at: datetime = _when()
    seq: int = Field(default=0, sa_type=BigInteger)
    last_sent_at: datetime | None = _when(default=None)
    last_result: str = ""
    adoption_fetched_at: datetime | None = _when(default=None)
    # the hub said at join that its homes are made up (the hub `edu demo --hub` starts)
    hub_simulated: bool = False


class CommunityAdoption(SQLModel, table=True):
    """One published pair of the hub's table, as last fetched."""

    __tablename__ = "community_adoption"
    __table_args__ = (UniqueConstraint("model", "capability"),)

    id: int | None = Field(default=None, primary_key=True)
    model: str = Field(index=True)
    capability: str
    homes: int
    in_use: int


class CommunityTipDraft(SQLModel, table=True):
    """A tip someone at home wrote for other owners; the admin sends it (never automatically)."""

    __tablename__ = "community_tip_draft"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    model: str
    lesson: str
    lang: str = "en"
    text: str
    created_at: datetime = _when()
    sent_at: datetime | None = _when(default=None)
    hub_id: int | None = None
    last_result: str = ""


class CommunityTip(SQLModel, table=True):
    """An approved tip from other owners, as last fetched from the hub."""

    __tablename__ = "community_tip"

    id: int | None = Field(default=None, primary_key=True)
    hub_id: int = Field(index=True)
    model: str = Field(index=True)
    lesson: str
    lang: str
    text: str


@dataclass(frozen=True)
class Published:
    """How many homes report a model's feature on the hub, and how many of them use it."""

    homes: int
    using: int

    @property
    def percent(self) -> int:
        return round(100 * self.using / self.homes) if self.homes else 0

    def to_dict(self) -> dict[str, int]:
        return {"homes": self.homes, "using": self.using}


Table = Mapping[tuple[str, str], Published]  # (model, capability) -> Published


def household_models(session: Session, household_id: int) -> list[str]:
    """The models of the household's devices that a report may name."""
    query = select(Device.model).where(Device.household_id == household_id).distinct()
    return sorted(m for m in session.exec(query) if m and _ID.match(m))


def report_models(session: Session, household_id: int) -> list[dict[str, Any]]:
    """Build the per-model part of the household's report (sorted, ids only)."""
    devices = {
        d.id: d
        for d in session.exec(select(Device).where(Device.household_id == household_id))
        if d.model and _ID.match(d.model)
    }
    has: dict[str, set[str]] = defaultdict(set)
    using: dict[str, set[str]] = defaultdict(set)
    family: dict[str, str | None] = {}
    rows = session.exec(
        select(DeviceCapability).where(col(DeviceCapability.device_id).in_(list(devices)))
    )
    for cap in rows:
        device = devices[cap.device_id]
        if not cap.mapped or not _ID.match(cap.capability):
            continue  # unmapped descriptors are the model's own words: not compared across homes
        model = str(device.model)
        has[model].add(cap.capability)
        family[model] = device.family if device.family and _ID.match(device.family) else None
        if cap.in_use:
            using[model].add(cap.capability)
    uses = session.exec(select(FeatureUse).where(FeatureUse.household_id == household_id))
    for use in uses:
        owner = devices.get(use.device_id)
        if owner is not None and use.capability in has[str(owner.model)]:
            using[str(owner.model)].add(use.capability)
    marks = _lesson_marks(session, household_id)
    out = []
    for model in sorted(has):
        prefix = f"{family[model]}-" if family[model] else None
        done: set[str] = set()
        dismissed: set[str] = set()
        for (lesson, capability), state in marks.items():
            if capability in has[model] and prefix and lesson.startswith(prefix):
                (done if state == "done" else dismissed).add(lesson)
        out.append(
            {
                "model": model,
                "family": family[model],
                "capabilities": sorted(has[model]),
                "in_use": sorted(using[model]),
                "lessons_done": sorted(done),
                "lessons_dismissed": sorted(dismissed),
            }
        )
    return out


def _lesson_marks(session: Session, household_id: int) -> dict[tuple[str, str], str]:
    """(lesson, capability) -> done, or dismissed when nobody has done it."""
    query = (
        select(LessonProgress)
        .join(Person, col(Person.id) == col(LessonProgress.person_id))
        .where(Person.household_id == household_id)
        .where(col(LessonProgress.state).in_(("done", "dismissed")))
    )
    marks: dict[tuple[str, str], str] = {}
    for row in session.exec(query):
        if not _ID.match(row.lesson) or not _ID.match(row.capability):
            continue
        pair = (row.lesson, row.capability)
        if marks.get(pair) != "done":
            marks[pair] = row.state
    return marks


def adoption_table(
    session: Session, models: list[str] | set[str]
) -> dict[tuple[str, str], Published]:
    """The cached published pairs of these models: (model, capability) -> Published."""
    if not models:
        return {}
    query = select(CommunityAdoption).where(col(CommunityAdoption.model).in_(sorted(models)))
    return {(r.model, r.capability): Published(r.homes, r.in_use) for r in session.exec(query)}


def published(adoption: Table | None, model: str | None, capability: str) -> Published | None:
    """The hub's published figures for this model and feature, if any."""
    if not adoption or not model:
        return None
    return adoption.get((model, capability))


def share_of(owners: Published | None) -> float:
    """The share of owners who use a feature (0 where nothing is published): a ranking signal."""
    return owners.using / owners.homes if owners is not None and owners.homes else 0.0


def owners_reason(
    owners: Published, family: str | None, capability: str
) -> tuple[str, dict[str, Any], str]:
    """The community reason: its code, its parameters and its English words."""
    feature = capability_titles().get(capability, capability)
    feature = feature[:1].lower() + feature[1:]
    kind = (family or "device").replace("-", " ")
    params = {"percent": owners.percent, "family": kind, "feature": feature}
    return "owners", params, f"{owners.percent}% of owners of this {kind} use {feature}"


def table_for_states(session: Session, states: Iterable[Any]) -> Table:
    """The cached published pairs for the models of these households' states (tip runs)."""
    models = {d.model for state in states for d in state.devices.values() if d.model}
    return adoption_table(session, models)
