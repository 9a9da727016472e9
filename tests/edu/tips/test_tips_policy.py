"""The tip policy over a fixed clock: cadence, preferred time, quiet hours, caps, zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from edu.tips import policy as rules
from edu.tips.policy import Counts, Policy, decide

BERLIN = "Europe/Berlin"


def local(*args: int, tz: str = BERLIN) -> datetime:
    return rules.to_local(datetime(*args), tz)  # type: ignore[arg-type]


def test_a_new_person_gets_daily_tips_at_ten_outside_21_to_8_capped_one_a_day_three_a_week() -> (
    None
):
    policy = Policy()
    assert (policy.cadence, policy.at, policy.quiet_start, policy.quiet_end) == (
        "daily",
        time(10),
        time(21),
        time(8),
    )
    assert (policy.daily_cap, policy.weekly_cap) == (1, 3)


def test_a_tip_is_due_at_or_after_the_preferred_time_not_before() -> None:
    policy = Policy()
    assert decide(policy, local(2025, 6, 2, 9, 59), Counts()).reason == "too-early"
    assert decide(policy, local(2025, 6, 2, 10, 0), Counts()).due
    assert decide(policy, local(2025, 6, 2, 16, 30), Counts()).due


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False)],
)
def test_quiet_hours_wrap_around_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert rules.in_quiet_hours(time(hour, minute), time(21), time(8)) is quiet


def test_quiet_hours_within_one_day_and_none_when_the_ends_match() -> None:
    assert rules.in_quiet_hours(time(13), time(12), time(14))
    assert not rules.in_quiet_hours(time(14), time(12), time(14))
    assert not rules.in_quiet_hours(time(3), time(0), time(0))


def test_no_tip_in_quiet_hours_even_after_the_preferred_time() -> None:
    policy = Policy(at=time(7), quiet_start=time(21), quiet_end=time(6))
    assert decide(policy, local(2025, 6, 2, 22, 15), Counts()).reason == "quiet-hours"
    assert decide(policy, local(2025, 6, 2, 20, 15), Counts()).due


def test_the_daily_and_weekly_caps_stop_tips() -> None:
    policy = Policy(daily_cap=2, weekly_cap=3)
    now = local(2025, 6, 4, 12, 0)
    assert decide(policy, now, Counts(today=1, week=1)).due
    assert decide(policy, now, Counts(today=2, week=2)).reason == "daily-cap"
    assert decide(policy, now, Counts(today=0, week=3)).reason == "weekly-cap"


def test_a_weekly_cadence_sends_only_on_its_day() -> None:
    policy = Policy(cadence="weekly", weekday=rules.parse_weekday("Wednesday"))
    assert decide(policy, local(2025, 6, 3, 12, 0), Counts()).reason == "not-today"  # a Tuesday
    assert decide(policy, local(2025, 6, 4, 12, 0), Counts()).due  # a Wednesday


def test_cadence_off_snooze_and_unsubscribe_stop_every_tip() -> None:
    now = local(2025, 6, 4, 12, 0)
    assert decide(Policy(cadence="off"), now, Counts()).reason == "off"
    snoozed = Policy(snooze_until=now + timedelta(days=1))
    assert decide(snoozed, now, Counts()).reason == "snoozed"
    assert decide(snoozed, now + timedelta(days=1), Counts()).due
    assert decide(Policy(unsubscribed=True), now, Counts()).reason == "unsubscribed"


def test_counts_follow_the_local_calendar_day_and_week() -> None:
    now = local(2025, 6, 4, 12, 0)  # Wednesday, UTC+2
    sent = [
        local(2025, 6, 4, 0, 30).astimezone(UTC),  # today, though still 3 June in UTC
        local(2025, 6, 3, 23, 30).astimezone(UTC),  # yesterday, this week
        local(2025, 6, 1, 23, 59).astimezone(UTC),  # last Sunday: last week
    ]
    assert rules.count_tips(sent, now) == Counts(today=1, week=2)


def test_the_spring_forward_day_is_23_hours_and_ten_oclock_is_still_ten() -> None:
    # 30 March 2025: Berlin moves from UTC+1 to UTC+2 at 02:00 local.
    start, end = rules.day_bounds(local(2025, 3, 30, 12, 0))
    assert end - start == timedelta(hours=23)
    assert start == datetime(2025, 3, 29, 23, 0, tzinfo=UTC)
    policy = Policy()
    before = datetime(2025, 3, 30, 7, 59, tzinfo=UTC)  # 09:59 CEST
    after = datetime(2025, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert decide(policy, rules.to_local(before, BERLIN), Counts()).reason == "too-early"
    assert decide(policy, rules.to_local(after, BERLIN), Counts()).due
    # The same UTC moment a day earlier is only 09:00 local (UTC+1).
    assert (
        decide(policy, rules.to_local(after - timedelta(days=1), BERLIN), Counts()).reason
        == "too-early"
    )


def test_quiet_hours_end_at_eight_local_on_both_sides_of_the_autumn_change() -> None:
    # 26 October 2025: Berlin goes back from UTC+2 to UTC+1; the day is 25 hours long.
    start, end = rules.day_bounds(local(2025, 10, 26, 12, 0))
    assert end - start == timedelta(hours=25)
    policy = Policy(at=time(8))
    assert (
        decide(
            policy, rules.to_local(datetime(2025, 10, 25, 5, 59, tzinfo=UTC), BERLIN), Counts()
        ).reason
        == "too-early"
    )
    assert decide(
        policy, rules.to_local(datetime(2025, 10, 25, 6, 0, tzinfo=UTC), BERLIN), Counts()
    ).due
    assert (
        decide(
            policy, rules.to_local(datetime(2025, 10, 26, 6, 59, tzinfo=UTC), BERLIN), Counts()
        ).reason
        == "too-early"
    )
    assert decide(
        policy, rules.to_local(datetime(2025, 10, 26, 7, 0, tzinfo=UTC), BERLIN), Counts()
    ).due


def test_a_tip_sent_on_the_long_autumn_night_counts_for_the_right_day() -> None:
    evening = rules.to_local(
        datetime(2025, 10, 25, 21, 30, tzinfo=UTC), BERLIN
    )  # 23:30 CEST on the 25th
    assert evening.day == 25
    next_morning = local(2025, 10, 26, 10, 0)
    assert rules.count_tips([evening.astimezone(UTC)], next_morning) == Counts(today=0, week=1)


def test_a_naive_time_is_the_households_local_time() -> None:
    assert rules.to_utc(datetime(2025, 1, 15, 10, 0), "Asia/Shanghai") == datetime(
        2025, 1, 15, 2, 0, tzinfo=UTC
    )
    assert rules.to_utc(datetime(2025, 7, 15, 10, 0), "America/New_York") == datetime(
        2025, 7, 15, 14, 0, tzinfo=UTC
    )


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert rules.to_utc(datetime(2025, 1, 15, 10, 0), "Mars/Olympus") == datetime(
        2025, 1, 15, 10, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cadence": "hourly"}, "unknown cadence"),
        ({"daily_cap": 0}, "daily cap"),
        ({"weekly_cap": 100}, "weekly cap"),
        ({"at": time(22)}, "quiet hours"),
        ({"weekday": 7}, "weekday"),
    ],
)
def test_validate_refuses_an_inconsistent_policy(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.validate(Policy(**changes))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["25:00", "10", "ten", "10:61"])
def test_parse_clock_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        rules.parse_clock(text)


def test_retries_back_off_then_give_up() -> None:
    delays = [rules.retry_delay(n) for n in range(1, rules.MAX_ATTEMPTS + 1)]
    assert delays[:-1] == sorted(delays[:-1])  # type: ignore[type-var]
    assert delays[0] == timedelta(minutes=1)
    assert delays[-1] is None
