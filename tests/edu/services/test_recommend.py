"""Recommendations on the simulated fleet: what each person has not used yet, ranked."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleet_fixtures import miio_client
from lan_fixtures import scanned
from sqlmodel import Session, select

from devices.fleet import Fleet
from edu.catalogue import catalogue
from edu.cli import main
from edu.db import unit_of_work, utcnow
from edu.models import Device, Person
from edu.services.inventory import Inventory
from edu.services.people import NotFound, add_person, find_person, mark_lesson, set_devices
from edu.services.progress import device_progress
from edu.services.recommend import Recommendation, recommend
from edu.simulated.fleet import token_file_for

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


def household_of(inventory: Inventory, *names: str) -> None:
    with unit_of_work(inventory.engine) as session:
        household = inventory.household(session)
        for n, name in enumerate(names):
            add_person(session, household, name, role="admin" if n == 0 else "member")


def items_for(inventory: Inventory, name: str, **kwargs: object) -> list[Recommendation]:
    with Session(inventory.engine) as session:
        person = find_person(session, inventory.household(session), name)
        return recommend(session, person, **kwargs)  # type: ignore[arg-type]


def lessons_of(inventory: Inventory, name: str) -> set[str]:
    return {item.lesson for item in items_for(inventory, name)}


def only_devices(inventory: Inventory, name: str, dids: list[int]) -> None:
    with unit_of_work(inventory.engine) as session:
        person = find_person(session, inventory.household(session), name)
        ids = [d.id for d in session.exec(select(Device).where(Device.did.in_(dids)))]  # type: ignore[attr-defined]
        set_devices(session, person, ids)


def test_recommendations_cover_the_fleets_capabilities(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia")
    items = items_for(inventory, "Mia")
    covered = {item.capability for item in items}
    with Session(inventory.engine) as session:
        rows = session.exec(select(Device)).all()
        online = [d for d in rows if d.status == "online"]
        person = session.exec(select(Person)).one()
        progress = {p.device: p for p in device_progress(session, person)}
    book = catalogue()
    for device in online:
        for cap in progress[device.did].not_used:
            curated = book.for_capability(cap, device.family, device.model)
            assert cap in covered, (device.model, cap, [c.id for c in curated])
    assert all(item.reason for item in items)
    # a lesson shared by several devices (three fans) is suggested once, for the newest
    assert {item.family for item in items} == {d.family for d in online}
    assert len({item.lesson for item in items}) == len(items)
    assert any(item.automatic for item in items), "unmapped features get automatic drafts"


def test_ranking_is_deterministic_and_easy_first_when_prerequisites_are_met(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia")
    first = items_for(inventory, "Mia")
    assert [i.to_dict() for i in first] == [i.to_dict() for i in items_for(inventory, "Mia")]
    levels = {"beginner": 0, "intermediate": 1, "advanced": 2}
    met = [
        i for i in first if not catalogue().get(i.lesson) or not catalogue().get(i.lesson).requires
    ]  # type: ignore[union-attr]
    ranks = [levels[i.level] for i in met]
    assert ranks == sorted(ranks)
    assert items_for(inventory, "Mia", limit=5) == first[:5]


def test_child_lock_lesson_leaves_the_list_once_the_device_shows_it_in_use(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia")
    fans = [fleet.by_model(m) for m in ("zhimi.fan.za4", "dmaker.fan.p5", "dmaker.fan.p9")]
    assert "fan-child-lock" in lessons_of(inventory, "Mia")
    inventory.poll()
    miio_client(fans[0]).set_child_lock(True)
    inventory.poll()
    assert "fan-child-lock" not in lessons_of(inventory, "Mia")


def test_marking_a_lesson_done_removes_it_for_that_person_only(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia", "Leo")
    assert "fan-oscillation" in lessons_of(inventory, "Mia") & lessons_of(inventory, "Leo")
    with unit_of_work(inventory.engine) as session:
        mark_lesson(
            session,
            find_person(session, inventory.household(session), "Leo"),
            "fan-oscillation",
            "done",
        )
    assert "fan-oscillation" not in lessons_of(inventory, "Leo")
    mia = {i.lesson: i for i in items_for(inventory, "Mia")}
    assert mia["fan-oscillation"].reason == "1 of 2 people at home use this"


def test_the_community_reason_appears_once_someone_at_home_uses_the_feature(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia", "Leo", "Ana")
    bedroom, living = fleet.by_model("zhimi.fan.za4"), fleet.by_model("dmaker.fan.p5")
    only_devices(inventory, "Leo", [bedroom.did])
    only_devices(inventory, "Ana", [living.did])
    leo = {i.lesson: i for i in items_for(inventory, "Leo")}
    assert leo["fan-child-lock"].reason_code != "community"
    inventory.poll()
    miio_client(living).set_child_lock(True)  # Ana's fan: the device shows the lock on
    inventory.poll()
    assert "fan-child-lock" not in lessons_of(inventory, "Ana")
    leo = {i.lesson: i for i in items_for(inventory, "Leo")}
    assert (
        leo["fan-child-lock"].reason == "2 of 3 people at home use this"
    )  # Ana and Mia (all devices)
    assert leo["fan-child-lock"].at_home == 2


def test_snoozed_and_dismissed_lessons_stay_away_until_due(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia")
    now = utcnow()
    with unit_of_work(inventory.engine) as session:
        mia = find_person(session, inventory.household(session), "Mia")
        mark_lesson(
            session, mia, "fan-oscillation", "snoozed", until=now + timedelta(days=2), now=now
        )
        mark_lesson(session, mia, "fan-buzzer", "dismissed", now=now)
    assert not {"fan-oscillation", "fan-buzzer"} & {
        i.lesson for i in items_for(inventory, "Mia", now=now)
    }
    later = {i.lesson for i in items_for(inventory, "Mia", now=now + timedelta(days=3))}
    assert "fan-oscillation" in later and "fan-buzzer" not in later


def test_unknown_person_and_lesson_are_clear_errors(inventory: Inventory) -> None:
    household_of(inventory, "Mia")
    with unit_of_work(inventory.engine) as session:
        household = inventory.household(session)
        with pytest.raises(NotFound, match="no person called 'Zed' \\(known: Mia\\)"):
            find_person(session, household, "Zed")
        with pytest.raises(NotFound, match="no lesson 'fan-teleport'"):
            mark_lesson(session, find_person(session, household, "Mia"), "fan-teleport", "done")
        with pytest.raises(ValueError, match="already someone called 'Mia'"):
            add_person(session, household, "Mia")
        with pytest.raises(ValueError, match="PIN is 4 to 8 digits"):
            add_person(session, household, "Kim", pin="12ab")


def test_cli_people_recommend_and_progress(fleet: Fleet, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"EDU_INSTANCE": str(tmp_path / "instance"), "EDU_DEVICE_TIMEOUT": "0.5"}
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(token_file_for(fleet)))

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(main, list(args), env=env)
        assert (result.exit_code == 0) == ok, result.output
        assert "Traceback" not in result.output
        return result.output

    run("tokens", "import", str(tokens))
    run("scan", "--network", fleet.network, "--timeout", "0.8", "--json")
    run("people", "add", "Mia", "--role", "admin", "--pin", "2468")
    run("people", "add", "Leo")
    items = json.loads(run("recommend", "--person", "Mia", "--limit", "5", "--json"))
    assert len(items) == 5
    assert all({"lesson", "capability", "device", "title", "reason"} <= set(item) for item in items)
    first = items[0]["lesson"]
    run("lessons", "done", "--person", "Mia", "--lesson", first)
    again = json.loads(run("recommend", "--person", "Mia", "--json"))
    assert first not in {item["lesson"] for item in again}
    assert first in {
        item["lesson"] for item in json.loads(run("recommend", "--person", "Leo", "--json"))
    }
    snoozed = json.loads(
        run(
            "lessons",
            "snooze",
            "--person",
            "Leo",
            "--lesson",
            first,
            "--until",
            "2099-01-01",
            "--json",
        )
    )
    assert snoozed["state"] == "snoozed" and snoozed["until"].startswith("2099-01-01")
    assert "no person called 'Zed'" in run("recommend", "--person", "Zed", ok=False)
    assert "no lesson 'fan-teleport'" in run(
        "lessons", "dismiss", "--person", "Mia", "--lesson", "fan-teleport", ok=False
    )
    assert "not a date" in run(
        "lessons", "snooze", "--person", "Mia", "--lesson", first, "--until", "soon", ok=False
    )
    lint = runner.invoke(main, ["lessons", "lint"], env=env)
    assert lint.exit_code == 0, lint.output
    listed = json.loads(run("lessons", "list", "--json"))
    assert len([r for r in listed if r["lang"] == "en"]) >= 80
    assert all(r["sources"] for r in listed)
    narrowed = {r["id"]: r["models"] for r in listed if r["models"] and r["lang"] == "en"}
    assert narrowed["heater-off-timer-up-to-8-hours"] == ["zhimi.heater.za2"]
    coverage = json.loads(run("lessons", "coverage", "--json"))
    assert coverage["capabilities"] >= 60


def test_a_device_that_joins_an_existing_home_is_announced_as_new(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, fleet, tmp_path)
    household_of(inventory, "Mia")
    at_setup = items_for(inventory, "Mia")
    assert not any(i.reason_code == "new-device" for i in at_setup)  # everything is new at set-up
    heater = fleet.by_model("zhimi.heater.za1")
    with unit_of_work(inventory.engine) as session:
        for device in session.exec(select(Device)):
            device.first_seen = device.first_seen - timedelta(
                days=60 if device.did != heater.did else 0
            )
    later = [i for i in items_for(inventory, "Mia") if i.device == heater.did]
    assert later and all(i.reason_code in ("new-device", "community", "builds-on") for i in later)
    assert any(i.reason == f"New: your {i.device_name} arrived recently" for i in later)


def test_names_lose_control_characters_before_they_are_stored(inventory: Inventory) -> None:
    with unit_of_work(inventory.engine) as session:
        person = add_person(session, inventory.household(session), "Ki\x00m\t  Lee\x07")
        assert person.name == "Kim Lee"


def test_a_device_of_no_family_gets_lessons_worded_for_any_device_and_honest_drafts() -> None:
    from types import SimpleNamespace

    from edu.services.recommend import lessons_for

    book = catalogue()
    dehumidifier = SimpleNamespace(family=None, model="nwt.derh.wdh318efw1")

    def cap(capability: str, mapped: bool = True, **details: object) -> SimpleNamespace:
        return SimpleNamespace(
            capability=capability,
            mapped=mapped,
            setting=None,
            action=None,
            details=details or None,
        )

    # never a fan's or a purifier's child-lock lesson: the one worded for any device
    assert [lesson.id for lesson in lessons_for(cap("child-lock"), dehumidifier, book)] == [
        "any-child-lock"
    ]
    # a capability with lessons only for other families: a draft from the vocabulary
    [draft] = lessons_for(cap("speed-level"), dehumidifier, book)
    assert draft.automatic and draft.id == "device-speed-level"
    assert draft.title == "Set “Fan speed” from your phone"  # a setter method: Set, not Read
    assert draft.summary == "Sets exactly how strongly the fan blows, in fine steps."
    # a fan keeps its own lesson
    fan = SimpleNamespace(family="fan", model="dmaker.fan.p9")
    assert [lesson.id for lesson in lessons_for(cap("child-lock"), fan, book)] == ["fan-child-lock"]
    # no draft for an action python-miio declares for a whole class, nor for internal fields
    wash = cap("RoborockVacuum.start_mop_washing", False, name="Start mop washing", kind="action")
    vacuum = SimpleNamespace(family="vacuum", model="roborock.vacuum.s5")
    assert lessons_for(wash, vacuum, book) == []
    state_code = cap("VacuumStatus.state_code", False, name="State code", kind="sensor")
    assert lessons_for(state_code, vacuum, book) == []
