"""When a person is due a tip: cadence, preferred time, quiet hours and caps, over a given clock.

Everything here is a pure function of its arguments: the caller passes the moment ("now"),
the household's time zone and what was already sent, so tests can fix the clock.
Local days and weeks follow the household's zone, daylight-saving changes included
(a local day is 23 or 25 hours long on the days the clocks change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CADENCES = ("daily", "weekly", "off")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CAP = 24
# After a failed send: wait 1 min, 5 min, 30 min, 2 h, then give up (shown as failed).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


@dataclass(frozen=True)
class Policy:
    """A person's tip policy (the defaults are what a new person gets)."""

    cadence: str = "daily"
    weekday: int = 0
    at: time = time(10, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    daily_cap: int = 1
    weekly_cap: int = 3
    snooze_until: datetime | None = None
    unsubscribed: bool = False


@dataclass(frozen=True)
class Counts:
    """Tips a person already received today and this week (local calendar)."""

    today: int = 0
    week: int = 0


@dataclass(frozen=True)
class Decision:
    """Whether a tip is due now, and a short reason code saying why (not)."""

    due: bool
    reason: str  # due | unsubscribed | off | snoozed | not-today | too-early | quiet-hours | daily-cap | weekly-cap

    def __bool__(self) -> bool:
        return self.due


# -- parsing ---------------------------------------------------------------------------------


def parse_clock(text: str) -> time:
    """Parse a local time of day written as HH:MM."""
    try:
        hours, minutes = text.strip().split(":")
        value = time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"a time of day is HH:MM, like 10:00, not {text!r}") from None
    return value


def format_clock(value: time) -> str:
    """Write a time of day as HH:MM."""
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_quiet(text: str) -> tuple[time, time]:
    """Parse quiet hours written as HH:MM-HH:MM (equal ends mean no quiet hours)."""
    try:
        start, end = text.split("-")
    except ValueError:
        raise ValueError(f"quiet hours are HH:MM-HH:MM, like 21:00-08:00, not {text!r}") from None
    return parse_clock(start), parse_clock(end)


def parse_weekday(text: str) -> int:
    """Parse a weekday name (mon, monday, Mon ...) into 0 (Monday) to 6 (Sunday)."""
    short = text.strip().lower()[:3]
    if short not in WEEKDAYS:
        raise ValueError(f"unknown weekday {text!r} (use {', '.join(WEEKDAYS)})")
    return WEEKDAYS.index(short)


def validate(policy: Policy) -> Policy:
    """Return *policy* when it is consistent; raise ValueError saying what is wrong."""
    if policy.cadence not in CADENCES:
        raise ValueError(f"unknown cadence {policy.cadence!r} (choose {', '.join(CADENCES)})")
    if not 0 <= policy.weekday <= 6:
        raise ValueError("the weekday is 0 (Monday) to 6 (Sunday)")
    for name, cap in (("daily", policy.daily_cap), ("weekly", policy.weekly_cap)):
        if not 1 <= cap <= MAX_CAP:
            raise ValueError(
                f"the {name} cap is 1 to {MAX_CAP} tips (set the cadence to off for none)"
            )
    if in_quiet_hours(policy.at, policy.quiet_start, policy.quiet_end):
        raise ValueError(
            f"the preferred time {format_clock(policy.at)} falls in the quiet hours "
            f"{format_clock(policy.quiet_start)}-{format_clock(policy.quiet_end)}"
        )
    return policy


# -- clocks and zones ------------------------------------------------------------------------


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """Return the time zone called *name*; an unknown name falls back to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_local(now: datetime, tz: str) -> datetime:
    """Return *now* on the household's wall clock; a naive *now* already is local time."""
    if now.tzinfo is None:
        # A wall-clock time that does not exist (the spring gap) or exists twice (the autumn
        # fold) resolves the way zoneinfo does with fold=0: the offset before the change.
        return now.replace(tzinfo=zone(tz))
    return now.astimezone(zone(tz))


def to_utc(now: datetime, tz: str) -> datetime:
    """Return *now* in UTC; a naive *now* is read as the household's local time."""
    return to_local(now, tz).astimezone(UTC)


class RunTime:
    """One run's moment on every household's wall clock, each time zone worked out once.

    A naive *now* is each household's local time (``edu tips run --now 10:30``); an aware one
    is the same instant everywhere.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        #: *now* read as UTC: within 14 hours of every household's moment, for generous bounds
        self.as_utc = to_utc(now, "UTC")
        self._zones: dict[str, tuple[datetime, datetime]] = {}

    def at(self, tz: str) -> tuple[datetime, datetime]:
        """Return the moment in zone *tz* as (local wall-clock time, UTC)."""
        moment = self._zones.get(tz)
        if moment is None:
            local = to_local(self.now, tz)
            moment = self._zones[tz] = (local, local.astimezone(UTC))
        return moment


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone(tz)).astimezone(UTC)


def day_bounds(local: datetime) -> tuple[datetime, datetime]:
    """Return the UTC start and end of the local calendar day holding *local*."""
    tz = str(local.tzinfo)
    day = local.date()
    return _midnight(day, tz), _midnight(day + timedelta(days=1), tz)


def week_bounds(local: datetime) -> tuple[datetime, datetime]:
    """Return the UTC start and end of the local week (Monday to Sunday) holding *local*."""
    tz = str(local.tzinfo)
    monday = local.date() - timedelta(days=local.weekday())
    return _midnight(monday, tz), _midnight(monday + timedelta(days=7), tz)


def in_quiet_hours(moment: time | datetime, start: time, end: time) -> bool:
    """Is the wall-clock time of *moment* inside the quiet hours start-end (end excluded)?"""
    clock = moment.timetz().replace(tzinfo=None) if isinstance(moment, datetime) else moment
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def count_tips(sent: Iterable[datetime], local: datetime) -> Counts:
    """Count the tips sent (UTC times) on the local day and in the local week of *local*."""
    day_start, day_end = day_bounds(local)
    week_start, week_end = week_bounds(local)
    today = week = 0
    for when in sent:
        if week_start <= when < week_end:
            week += 1
            if day_start <= when < day_end:
                today += 1
    return Counts(today=today, week=week)


# -- the decision ----------------------------------------------------------------------------


def decide(policy: Policy, local: datetime, counts: Counts) -> Decision:
    """Decide whether a tip is due at the local moment *local*, given what was sent already."""
    if policy.unsubscribed:
        return Decision(False, "unsubscribed")
    if policy.cadence == "off":
        return Decision(False, "off")
    if policy.snooze_until is not None and local < policy.snooze_until:
        return Decision(False, "snoozed")
    if policy.cadence == "weekly" and local.weekday() != policy.weekday:
        return Decision(False, "not-today")
    clock = local.timetz().replace(tzinfo=None)
    if clock < policy.at:
        return Decision(False, "too-early")
    if in_quiet_hours(clock, policy.quiet_start, policy.quiet_end):
        return Decision(False, "quiet-hours")
    if counts.today >= policy.daily_cap:
        return Decision(False, "daily-cap")
    if counts.week >= policy.weekly_cap:
        return Decision(False, "weekly-cap")
    return Decision(True, "due")


def may_deliver_now(policy: Policy, local: datetime) -> bool:
    """May an already chosen tip (a retry) go out at *local*? Not in quiet hours, not snoozed."""
    if policy.snooze_until is not None and local < policy.snooze_until:
        return False
    return not in_quiet_hours(local, policy.quiet_start, policy.quiet_end)


def retry_delay(attempts: int) -> timedelta | None:
    """Return how long to wait after the *attempts*-th failed send, or None to give up."""
    if attempts < 1:
        return RETRY_DELAYS[0]
    if attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1]
