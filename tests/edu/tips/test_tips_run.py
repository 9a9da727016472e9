"""The tip run with a fixed clock: who gets which tip, when, and who gets none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select
from tips_fixtures import TipsDB

from edu.catalogue import catalogue
from edu.db import unit_of_work
from edu.models import Device, Person
from edu.services.people import mark_lesson
from edu.services.recommend import recommend
from edu.tips import service
from edu.tips.links import unsubscribe_token
from edu.tips.models import InboxItem, TipDelivery
from edu.tips.run import preview, run_tips

MONDAY_NOON = datetime(2025, 6, 2, 12, 0)  # naive: the household's local time


def flat(db: TipsDB, timezone: str = "Europe/Berlin") -> dict[str, int]:
    """A flat with a fan and a robot vacuum, and two people: Mia (English) and Li (Chinese)."""
    home = db.household("Flat", timezone)
    return {
        "home": home,
        "fan": db.device(home, "fan", 1001, name="Bedroom fan"),
        "vacuum": db.device(home, "vacuum", 1002, name="Robot"),
        "mia": db.person(home, "Mia"),
        "li": db.person(home, "Li", language="zh-CN"),
    }


def inbox_of(db: TipsDB, person_id: int) -> list[InboxItem]:
    with Session(db.engine) as session:
        query = select(InboxItem).where(col(InboxItem.person_id) == person_id)
        return list(session.exec(query.order_by(col(InboxItem.created_at), col(InboxItem.id))))


def ranked(db: TipsDB, person_id: int, when: datetime) -> list[str]:
    with Session(db.engine) as session:
        person = session.get(Person, person_id)
        assert person is not None
        return [r.lesson for r in recommend(session, person, now=when)]


def test_each_due_person_gets_their_top_recommendation_in_the_inbox(any_db: TipsDB) -> None:
    ids = flat(any_db)
    report = run_tips(any_db.engine, any_db.settings, MONDAY_NOON)
    assert report.sent == 2 and report.decisions["due"] == 2
    when = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    for name in ("mia", "li"):
        (item,) = inbox_of(any_db, ids[name])
        assert item.lesson == ranked(any_db, ids[name], when)[0]
        assert item.read_at is None
        assert item.link == f"http://coach.example:8080/lessons/{item.lesson}"
    (li_item,) = inbox_of(any_db, ids["li"])
    translated = catalogue().get(li_item.lesson, "zh-CN")
    assert translated is not None and li_item.title == translated.title
    with Session(any_db.engine) as session:
        rows = session.exec(select(TipDelivery)).all()
    assert sorted((r.channel, r.status) for r in rows) == [("inbox", "sent"), ("inbox", "sent")]


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_brings_the_next_lesson(
    any_db: TipsDB,
) -> None:
    ids = flat(any_db)
    first = run_tips(any_db.engine, any_db.settings, MONDAY_NOON).tips[0]
    again = run_tips(any_db.engine, any_db.settings, MONDAY_NOON + timedelta(hours=3))
    assert again.sent == 0 and again.decisions["daily-cap"] == 2
    tuesday = run_tips(any_db.engine, any_db.settings, MONDAY_NOON + timedelta(days=1))
    assert tuesday.sent == 2
    lessons = [item.lesson for item in inbox_of(any_db, ids["mia"])]
    assert lessons[0] == first["lesson"] and lessons[1] != lessons[0]
    assert lessons == ranked(any_db, ids["mia"], datetime(2025, 6, 2, tzinfo=UTC))[:2]


def test_the_weekly_cap_holds_back_the_fourth_tip_until_next_week(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    sent = [
        run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=d)).sent
        for d in range(7)
    ]
    assert sent == [2, 2, 2, 0, 0, 0, 0]
    assert run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=7)).sent == 2
    assert len(inbox_of(tips_db, ids["mia"])) == 4


def test_no_tip_before_the_preferred_time_nor_in_quiet_hours(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    early = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 2, 9, 30))
    assert early.sent == 0 and early.decisions["too-early"] == 2
    late = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 2, 21, 30))
    assert late.sent == 0 and late.decisions["quiet-hours"] == 2
    with unit_of_work(tips_db.engine) as session:
        mia = session.get(Person, ids["mia"])
        assert mia is not None
        service.set_policy(session, mia, at="18:00", quiet="22:00-07:00")
    evening = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 2, 21, 30))
    assert [t["person"] for t in evening.tips] == ["Mia"]


def test_never_a_tip_about_an_offline_device(tips_db: TipsDB) -> None:
    home = tips_db.household()
    tips_db.device(home, "fan", 1, status="offline")
    vacuum = tips_db.device(home, "vacuum", 2)
    mia = tips_db.person(home, "Mia")
    report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    assert [t["device"] for t in report.tips] == [2]
    with unit_of_work(tips_db.engine) as session:
        device = session.get(Device, vacuum)
        assert device is not None
        device.status = "offline"
    tuesday = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=1))
    assert tuesday.sent == 0 and tuesday.decisions["nothing-to-teach"] == 1
    assert len(inbox_of(tips_db, mia)) == 1


def test_never_a_tip_about_a_muted_device(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    with unit_of_work(tips_db.engine) as session:
        mia = session.get(Person, ids["mia"])
        fan = session.get(Device, ids["fan"])
        assert mia is not None and fan is not None
        service.mute_device(session, mia, fan)
    for day in range(3):
        run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=day))
    assert {item.device_did for item in inbox_of(tips_db, ids["mia"])} == {1002}
    assert 1001 in {item.device_did for item in inbox_of(tips_db, ids["li"])}


def test_never_a_lesson_learned_dismissed_or_in_use(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    when = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    top = ranked(tips_db, ids["mia"], when)[:3]
    with unit_of_work(tips_db.engine) as session:
        mia = session.get(Person, ids["mia"])
        assert mia is not None
        mark_lesson(session, mia, top[0], "done", now=when)
        mark_lesson(session, mia, top[1], "dismissed", now=when)
        mark_lesson(session, mia, top[2], "snoozed", until=when + timedelta(days=30), now=when)
    capability = catalogue().get(ranked(tips_db, ids["mia"], when)[0])
    assert capability is not None
    tips_db.used(
        ids["home"],
        ids["fan"] if capability.families == ("fan",) else ids["vacuum"],
        capability.capability,
    )
    report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    mia_tip = next(t for t in report.tips if t["person"] == "Mia")
    assert mia_tip["lesson"] not in {*top, capability.id}
    assert mia_tip["lesson"] == ranked(tips_db, ids["mia"], when)[0]


def test_snoozing_all_tips_until_a_date(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    with unit_of_work(tips_db.engine) as session:
        mia = session.get(Person, ids["mia"])
        assert mia is not None
        until = service.snooze_moment("2025-06-04", "Europe/Berlin")
        service.set_policy(session, mia, snooze_until=until, now=datetime(2025, 6, 1, tzinfo=UTC))
    monday = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    assert [t["person"] for t in monday.tips] == ["Li"] and monday.decisions["snoozed"] == 1
    assert (
        run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=1)).decisions[
            "snoozed"
        ]
        == 1
    )
    wednesday = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=2))
    assert "Mia" in [t["person"] for t in wednesday.tips]


def test_the_unsubscribe_link_stops_every_tip_without_signing_in(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    token = unsubscribe_token(tips_db.settings, ids["mia"])
    with unit_of_work(tips_db.engine) as session:
        assert service.unsubscribe(session, tips_db.settings, token) == {
            "person": "Mia",
            "channel": None,
            "all": True,
        }
    report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    assert [t["person"] for t in report.tips] == ["Li"] and report.decisions["unsubscribed"] == 1
    with unit_of_work(tips_db.engine) as session, pytest.raises(ValueError, match="not valid"):
        service.unsubscribe(session, tips_db.settings, token[:-2] + "xx")
    with unit_of_work(tips_db.engine) as session:  # choosing a cadence again opts back in
        mia = session.get(Person, ids["mia"])
        assert mia is not None
        service.set_policy(session, mia, cadence="daily")
    assert run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=1)).sent == 2


def test_a_time_without_offset_is_each_households_local_time(tips_db: TipsDB) -> None:
    berlin = tips_db.household("Berlin", "Europe/Berlin")
    shanghai = tips_db.household("Shanghai", "Asia/Shanghai")
    for home, did in ((berlin, 1), (shanghai, 2)):
        tips_db.device(home, "fan", did)
        tips_db.person(home, f"Person {did}")
    # 02:30 UTC is 10:30 in Shanghai and 04:30 in Berlin.
    at_utc = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 2, 2, 30, tzinfo=UTC))
    assert [t["household"] for t in at_utc.tips] == [shanghai]
    local = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 3, 10, 30))
    assert sorted(t["household"] for t in local.tips) == sorted([berlin, shanghai])


def test_the_preferred_time_holds_across_the_spring_clock_change(tips_db: TipsDB) -> None:
    flat(tips_db)
    # 30 March 2025, Berlin: 07:30 UTC is 09:30 summer time (it would be 08:30 in winter time).
    early = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 3, 30, 7, 30, tzinfo=UTC))
    assert early.sent == 0 and early.decisions["too-early"] == 2
    due = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 3, 30, 8, 5, tzinfo=UTC))
    assert due.sent == 2
    # The 23-hour day ends at 22:00 UTC: from then on it is Monday, a new day for the caps.
    monday = datetime(2025, 3, 31, 8, 0, tzinfo=UTC)  # 10:00 summer time
    assert run_tips(tips_db.engine, tips_db.settings, monday - timedelta(minutes=1)).sent == 0
    assert run_tips(tips_db.engine, tips_db.settings, monday).sent == 2


def test_preview_shows_the_next_tip_without_sending_it(tips_db: TipsDB) -> None:
    ids = flat(tips_db)
    data = preview(tips_db.engine, tips_db.settings, ids["mia"], MONDAY_NOON)
    assert data["due"] and data["decision"] == "due" and data["channels"] == ["inbox"]
    assert data["tip"]["lesson"] == ranked(tips_db, ids["mia"], datetime(2025, 6, 2, tzinfo=UTC))[0]
    assert inbox_of(tips_db, ids["mia"]) == []
    early = preview(tips_db.engine, tips_db.settings, ids["mia"], datetime(2025, 6, 2, 8, 0))
    assert not early["due"] and early["decision"] == "too-early" and early["tip"] is not None


def test_the_inbox_counts_unread_tips_and_marks_them_read(tips_db: TipsDB) -> None:
    from edu.tips import inbox

    ids = flat(tips_db)
    for day in range(2):
        run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=day))
    with unit_of_work(tips_db.engine) as session:
        mia = session.get(Person, ids["mia"])
        assert mia is not None
        items = inbox.inbox(session, mia)
        assert inbox.unread_count(session, mia) == 2
        assert [i["created_at"] for i in items] == sorted(
            (i["created_at"] for i in items), reverse=True
        )
        assert items[0]["channels"] == {"inbox": "sent"}
        assert inbox.mark_read(session, mia, items[0]["id"]) == 1
        assert inbox.unread_count(session, mia) == 1
        assert inbox.mark_read(session, mia) == 1
        assert inbox.unread_count(session, mia) == 0
