"""The tip run's fast chooser agrees with `edu.services.recommend` on varied households."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select
from tips_fixtures import TipsDB, family_capabilities

from edu.catalogue import catalogue
from edu.db import unit_of_work
from edu.models import (
    Device,
    DeviceCapability,
    FeatureUse,
    Household,
    LessonProgress,
    Person,
    PersonDevice,
)
from edu.services.recommend import recommend
from edu.state import read_state, read_states
from edu.tips.pick import Picker

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
FAMILIES = ["fan", "air-purifier", "vacuum", "light", "plug", "heater", "humidifier"]


def random_households(db: TipsDB, seed: int, count: int = 25) -> None:
    """Households with random devices, people, device choices, usage and lesson marks."""
    rng = random.Random(seed)
    lessons = catalogue().ids()
    with unit_of_work(db.engine) as session:
        for h in range(count):
            home = Household(name=f"Home {h}", kind=rng.choice(["home", "home", "store"]))
            session.add(home)
            session.flush()
            devices = []
            for d in range(rng.randint(0, 3)):
                family = rng.choice(FAMILIES)
                device = Device(
                    household_id=home.id,
                    did=h * 10 + d,
                    ip="127.0.0.1",
                    family=family,
                    status=rng.choice(["online", "online", "offline"]),
                    first_seen=NOW - timedelta(days=rng.randint(0, 40)),
                )
                session.add(device)
                session.flush()
                devices.append(device)
                caps = family_capabilities(family)
                for cap in rng.sample(caps, rng.randint(1, len(caps))):
                    session.add(DeviceCapability(device_id=device.id, capability=cap))
                session.add(
                    DeviceCapability(
                        device_id=device.id,
                        capability=f"mystery-{d}",
                        mapped=False,
                        details={"name": "Mystery", "writable": True},
                    )
                )
            people = []
            for p in range(rng.randint(1, 4)):
                person = Person(
                    household_id=home.id,
                    name=f"P{p}",
                    language=rng.choice(["en", "zh-CN"]),
                    uses_all_devices=rng.random() < 0.7,
                )
                session.add(person)
                session.flush()
                people.append(person)
                if not person.uses_all_devices:
                    for device in rng.sample(devices, rng.randint(0, len(devices))):
                        session.add(PersonDevice(person_id=person.id, device_id=device.id))
                for lesson in rng.sample(lessons, rng.randint(0, 6)):
                    state = rng.choice(["done", "dismissed", "snoozed"])
                    until = (
                        NOW + timedelta(days=rng.choice([-2, 3])) if state == "snoozed" else None
                    )
                    session.add(
                        LessonProgress(
                            person_id=person.id,
                            lesson=lesson,
                            capability="x",
                            state=state,
                            until=until,
                        )
                    )
            for device in devices:
                for cap in rng.sample(family_capabilities(device.family or ""), 2):
                    key = rng.choice([0, *(p.id for p in people)])
                    session.add(
                        FeatureUse(
                            household_id=home.id,
                            device_id=device.id,
                            capability=cap,
                            person_key=key,
                            uses=1,
                        )
                    )


def test_reading_many_households_at_once_equals_reading_each_alone(tips_db: TipsDB) -> None:
    random_households(tips_db, seed=7)
    with Session(tips_db.engine) as session:
        households = list(session.exec(select(Household).order_by(col(Household.id))))
        batched = read_states(session, households)
        for household in households:
            one = read_state(session, household)
            many = batched[household.id]  # type: ignore[index]
            for name in (
                "household_id",
                "kind",
                "people",
                "devices",
                "devices_of",
                "used",
                "progress",
            ):
                assert getattr(many, name) == getattr(one, name), name
            assert {d: list(c) for d, c in many.capabilities.items() if c} == {
                d: list(c) for d, c in one.capabilities.items() if c
            }


def test_the_pick_is_the_first_recommendation_the_filters_allow(tips_db: TipsDB) -> None:
    random_households(tips_db, seed=11, count=40)
    rng = random.Random(3)
    checked = 0
    with Session(tips_db.engine) as session:
        households = list(session.exec(select(Household).order_by(col(Household.id))))
        states = read_states(session, households)
        for household in households:
            state = states[household.id]  # type: ignore[index]
            picker = Picker(state, catalogue(), NOW)
            for row in state.people:
                person = session.get(Person, row.id)
                assert person is not None
                ranked = recommend(session, person, now=NOW)
                everything = picker.pick(row, lambda device, lesson: True)
                assert everything == (ranked[0] if ranked else None)
                refused = {r.lesson for r in ranked if rng.random() < 0.4}

                def allowed(device, lesson, refused=refused):  # type: ignore[no-untyped-def]
                    return device.status == "online" and lesson not in refused

                status = {d.did: d.status for d in state.devices.values()}
                first = next(
                    (r for r in ranked if r.lesson not in refused and status[r.device] == "online"),
                    None,
                )
                assert picker.pick(row, allowed) == first
                checked += 1 if ranked else 0
    assert checked > 30


def test_the_pick_agrees_with_recommend_when_the_hubs_table_is_known(tips_db: TipsDB) -> None:
    from edu.community.data import CommunityAdoption, table_for_states

    random_households(tips_db, seed=5, count=30)
    rng = random.Random(9)
    with unit_of_work(tips_db.engine) as session:
        for device in session.exec(select(Device)):  # the random households' devices have no model
            device.model = f"test.{device.family or 'device'}.v{rng.randint(1, 2)}"
    with unit_of_work(tips_db.engine) as session:
        pairs = session.exec(
            select(Device.model, DeviceCapability.capability)
            .join(DeviceCapability, col(DeviceCapability.device_id) == col(Device.id))
            .distinct()
        ).all()
        for model, capability in pairs:
            if model and rng.random() < 0.6:
                homes = rng.randint(10, 60)
                session.add(
                    CommunityAdoption(
                        model=model,
                        capability=capability,
                        homes=homes,
                        in_use=rng.randint(0, homes),
                    )
                )
    checked = owners = 0
    with Session(tips_db.engine) as session:
        households = list(session.exec(select(Household).order_by(col(Household.id))))
        states = read_states(session, households)
        table = table_for_states(session, states.values())
        assert table
        for household in households:
            state = states[household.id]  # type: ignore[index]
            picker = Picker(state, catalogue(), NOW, table)
            for row in state.people:
                person = session.get(Person, row.id)
                assert person is not None
                ranked = recommend(session, person, now=NOW)
                owners += sum(1 for r in ranked if r.reason_code == "owners")
                assert picker.pick(row, lambda device, lesson: True) == (
                    ranked[0] if ranked else None
                )
                checked += 1 if ranked else 0
    assert checked > 20 and owners > 0
