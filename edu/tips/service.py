"""Tip settings, channels, the inbox and unsubscribing: the services the CLI and the pages call.

Query helpers take a session and never commit; the caller owns the unit of work
(`with unit_of_work(engine) as session:`). Only `test_channel` talks to the network, and it
takes the engine so that no transaction stays open while a channel answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from edu.config import Settings
from edu.db import key, unit_of_work, utcnow
from edu.models import Device, Household, Person
from edu.services.people import NotFound, may_see_device, seen_devices
from edu.tips import policy as rules
from edu.tips.channels import ChannelError, ChannelVault, SendResult, describe, send_test
from edu.tips.links import read_unsubscribe_token, unsubscribe_link
from edu.tips.models import TipChannel, TipDelivery, TipMute, TipPolicy, policy_of

PENDING = ("sending", "retry")


def cancel_pending(session: Session, which: Any, reason: str) -> None:
    """Cancel the ledger rows matching *which* that have not gone out yet."""
    session.execute(
        update(TipDelivery)
        .where(which, col(TipDelivery.status).in_(PENDING))
        .values(status="cancelled", last_error=reason, claimed_by=None, claimed_until=None)
    )


# -- policy ----------------------------------------------------------------------------------


def get_policy(session: Session, person: Person) -> rules.Policy:
    """Return the tip policy of *person*."""
    return policy_of(session.get(TipPolicy, person.id))


def _household(session: Session, person: Person) -> Household:
    household = session.get(Household, person.household_id)
    assert household is not None
    return household


def snooze_moment(value: str, tz: str) -> datetime:
    """Read a snooze end: a date (tips resume at its local midnight) or an ISO date-time."""
    text = value.strip()
    try:
        if len(text) == 10:
            return rules.to_utc(datetime.combine(date.fromisoformat(text), time(0, 0)), tz)
        return rules.to_utc(datetime.fromisoformat(text), tz)
    except ValueError:
        raise ValueError(f"snooze until a date like 2025-04-01, not {value!r}") from None


def set_policy(
    session: Session,
    person: Person,
    *,
    cadence: str | None = None,
    weekday: int | str | None = None,
    at: str | None = None,
    quiet: str | None = None,
    daily_cap: int | None = None,
    weekly_cap: int | None = None,
    snooze_until: datetime | None = None,
    clear_snooze: bool = False,
    now: datetime | None = None,
) -> rules.Policy:
    """Change some of a person's tip settings, check the whole, and store it."""
    row = session.get(TipPolicy, person.id)
    if row is None:
        row = TipPolicy(person_id=key(person))
        session.add(row)
    now = now or utcnow()
    if cadence is not None:
        row.cadence = cadence
        row.unsubscribed_at = None  # choosing a cadence again is opting back in
    if weekday is not None:
        row.weekday = weekday if isinstance(weekday, int) else rules.parse_weekday(weekday)
    if at is not None:
        row.at = rules.format_clock(rules.parse_clock(at))
    if quiet is not None:
        start, end = rules.parse_quiet(quiet)
        row.quiet_start, row.quiet_end = rules.format_clock(start), rules.format_clock(end)
    if daily_cap is not None:
        row.daily_cap = daily_cap
    if weekly_cap is not None:
        row.weekly_cap = weekly_cap
    if clear_snooze:
        row.snooze_until = None
    elif snooze_until is not None:
        if snooze_until <= now:
            raise ValueError("snooze until a moment in the future")
        row.snooze_until = snooze_until
    row.updated_at = now
    checked = rules.validate(policy_of(row))
    session.flush()
    return checked


def mute_device(session: Session, person: Person, device: Device, muted: bool = True) -> None:
    """Mute (or unmute) tips about *device* for *person* (one of the devices they see)."""
    if not may_see_device(session, person, device):
        raise NotFound("no such device in this household")
    row = session.get(TipMute, (person.id, device.id))
    if muted and row is None:
        session.add(TipMute(person_id=key(person), device_id=key(device)))
    elif not muted and row is not None:
        session.delete(row)
    session.flush()


def find_device(session: Session, household: Household, ref: str) -> Device:
    """Return the household's device named *ref* (its name, or its device id)."""
    query = select(Device).where(Device.household_id == household.id)
    devices = session.exec(query.order_by(col(Device.did))).all()
    for device in devices:
        if ref.strip() in (device.display_name, str(device.did)):
            return device
    known = ", ".join(f"{d.display_name} ({d.did})" for d in devices) or "none"
    raise NotFound(f"no device called {ref!r} (known: {known})")


def policy_view(session: Session, person: Person) -> dict[str, Any]:
    """Return a person's tip settings as plain data (for JSON and the settings page)."""
    policy = get_policy(session, person)
    household = _household(session, person)
    muted = session.exec(
        select(Device)
        .join(TipMute, col(TipMute.device_id) == col(Device.id))
        .where(col(TipMute.person_id) == person.id, seen_devices(person))
        .order_by(col(Device.did))
    ).all()
    snooze = policy.snooze_until
    return {
        "person": person.name,
        "timezone": household.timezone,
        "cadence": policy.cadence,
        "weekday": rules.WEEKDAYS[policy.weekday],
        "at": rules.format_clock(policy.at),
        "quiet_hours": f"{rules.format_clock(policy.quiet_start)}-{rules.format_clock(policy.quiet_end)}",
        "daily_cap": policy.daily_cap,
        "weekly_cap": policy.weekly_cap,
        "snooze_until": rules.to_local(snooze, household.timezone).isoformat() if snooze else None,
        "unsubscribed": policy.unsubscribed,
        "muted_devices": [{"did": d.did, "name": d.display_name} for d in muted],
    }


# -- channels --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelView:
    """A channel as pages and JSON show it: masked, never the whole URL."""

    id: int
    label: str
    kind: str
    enabled: bool
    created_at: datetime
    last_test_at: datetime | None
    last_test_ok: bool | None

    @classmethod
    def of(cls, row: TipChannel) -> ChannelView:
        assert row.id is not None
        return cls(
            row.id,
            row.label,
            row.kind,
            row.enabled,
            row.created_at,
            row.last_test_at,
            row.last_test_ok,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("created_at", "last_test_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


def add_channel(session: Session, settings: Settings, person: Person, url: str) -> ChannelView:
    """Check *url* with Apprise and store it (encrypted) as one of the person's channels."""
    label, kind = describe(url)
    vault = ChannelVault(settings)
    fingerprint = vault.fingerprint(url)
    taken = session.exec(
        select(TipChannel).where(
            col(TipChannel.person_id) == person.id, col(TipChannel.fingerprint) == fingerprint
        )
    ).first()
    if taken is not None:
        raise ChannelError(f"{person.name} already has this channel (#{taken.id})")
    row = TipChannel(
        person_id=key(person),
        url_ciphertext=vault.encrypt(url.strip()),
        fingerprint=fingerprint,
        label=label,
        kind=kind,
    )
    session.add(row)
    session.flush()
    return ChannelView.of(row)


def list_channels(session: Session, person: Person) -> list[ChannelView]:
    """Return the person's channels, oldest first."""
    rows = session.exec(
        select(TipChannel)
        .where(col(TipChannel.person_id) == person.id)
        .order_by(col(TipChannel.id))
    )
    return [ChannelView.of(row) for row in rows]


def find_channel(session: Session, settings: Settings, person: Person, ref: str) -> TipChannel:
    """Return the person's channel given by number (#3 or 3) or by its exact URL."""
    text = ref.strip().lstrip("#")
    row: TipChannel | None = None
    if text.isdigit():
        row = session.get(TipChannel, int(text))
    elif "://" in text:
        fingerprint = ChannelVault(settings).fingerprint(text)
        row = session.exec(
            select(TipChannel).where(
                col(TipChannel.person_id) == person.id, col(TipChannel.fingerprint) == fingerprint
            )
        ).first()
    if row is None or row.person_id != person.id:
        raise NotFound(f"{person.name} has no such channel (see `edu tips channel list`)")
    return row


def remove_channel(session: Session, settings: Settings, person: Person, ref: str) -> ChannelView:
    """Remove a channel; tips still waiting for it are cancelled, the ledger keeps their record."""
    row = find_channel(session, settings, person, ref)
    view = ChannelView.of(row)
    cancel_pending(session, col(TipDelivery.channel_id) == row.id, "the channel was removed")
    session.delete(row)
    session.flush()
    return view


def test_channel(engine: Engine, settings: Settings, person_id: int, ref: str) -> SendResult:
    """Send a test message on one of the person's channels and remember how it went."""
    with unit_of_work(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound("no such person")
        row = find_channel(session, settings, person, ref)
        url = ChannelVault(settings).decrypt(row.url_ciphertext)
        channel_id, lang = row.id, person.language
    result = send_test(
        url, lang=lang, unsubscribe=unsubscribe_link(settings, person_id, channel_id)
    )
    with unit_of_work(engine) as session:
        stored = session.get(TipChannel, channel_id)
        if stored is not None:
            stored.last_test_at, stored.last_test_ok = utcnow(), result.ok
    return result


# -- unsubscribing ---------------------------------------------------------------------------


def unsubscribe(
    session: Session, settings: Settings, token: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Apply a one-click unsubscribe token: turn off one channel, or all of a person's tips."""
    target = read_unsubscribe_token(settings, token)
    person = session.get(Person, target.person_id)
    if person is None:
        raise ValueError("this unsubscribe link is not valid")
    now = now or utcnow()
    if target.channel_id is not None:
        channel = session.get(TipChannel, target.channel_id)
        if channel is not None and channel.person_id == person.id:
            channel.enabled = False
            cancel_pending(session, col(TipDelivery.channel_id) == channel.id, "unsubscribed")
            return {"person": person.name, "channel": channel.label, "all": False}
        # The channel is gone already: the person asked for no more tips there; done.
        return {"person": person.name, "channel": None, "all": False}
    row = session.get(TipPolicy, person.id)
    if row is None:
        row = TipPolicy(person_id=key(person))
        session.add(row)
    row.unsubscribed_at = row.unsubscribed_at or now
    row.updated_at = now
    cancel_pending(session, col(TipDelivery.person_id) == person.id, "unsubscribed")
    return {"person": person.name, "channel": None, "all": True}
