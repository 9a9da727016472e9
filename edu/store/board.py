"""What the demo board and the shop's analytics show: plain rows, no ORM objects, no secrets."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from edu.catalogue import capability_titles
from edu.db import key
from edu.models import Device
from edu.store.models import DemoDevice, DemoSession, DemoStep, KioskView
from edu.store.script import script

SHOWN = ("changed", "already", "done", "unconfirmed")


@dataclass(frozen=True)
class BoardRow:
    """One device on the demo table, as the board shows it."""

    did: int
    name: str
    family: str | None
    model: str | None
    status: str  # online | offline | auth-failed | unsupported | new
    token_ok: bool
    demo: str  # ready | in-demo | flagged
    started_at: datetime | None
    last_activity: datetime | None
    last_reset: datetime | None
    problem: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    timeout_at: datetime | None = None
    features: int = 0  # steps in its demo script
    token_known: bool = True
    demos: int = 0  # demos run on it so far

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("started_at", "last_activity", "last_reset", "timeout_at"):
            value = data[name]
            data[name] = value.isoformat() if value else None
        return data


def board(session: Session, household_id: int, *, timeout: timedelta) -> list[BoardRow]:
    """Return every device of the shop with its state, demo devices by name."""
    devices = session.exec(select(Device).where(Device.household_id == household_id)).all()
    records = {
        r.device_id: r
        for r in session.exec(
            select(DemoDevice).where(col(DemoDevice.device_id).in_([d.id for d in devices]))
        )
    }
    runs = {
        r.device_id: r
        for r in session.exec(
            select(DemoSession).where(
                DemoSession.household_id == household_id, col(DemoSession.ended_at).is_(None)
            )
        )
    }
    demos = Counter(
        demo.device_id
        for demo in session.exec(
            select(DemoSession).where(DemoSession.household_id == household_id)
        )
    )
    rows = []
    for device in devices:
        record = records.get(device.id)  # type: ignore[arg-type]
        run = runs.get(device.id)  # type: ignore[arg-type]
        status = device.status
        if status not in ("online", "offline", "auth-failed", "unsupported"):
            status = "new" if device.status == "new" else "offline"
        rows.append(
            BoardRow(
                did=device.did,
                name=device.display_name,
                family=device.family,
                model=device.model,
                status=status,
                token_ok=device.token_known and device.status != "auth-failed",
                demo="in-demo" if run else (record.state if record else "ready"),
                started_at=run.started_at if run else None,
                last_activity=run.last_activity if run else None,
                last_reset=record.last_reset if record else None,
                problem=record.problem if record and record.state == "flagged" else "",
                problems=list(record.problems or [])
                if record and record.state == "flagged"
                else [],
                timeout_at=run.last_activity + timeout if run else None,
                features=len(script(session, device)) if status != "unsupported" else 0,
                demos=demos.get(key(device), 0),
                token_known=device.token_known,
            )
        )
    rows.sort(key=lambda r: (r.status == "unsupported", r.name.casefold(), r.did))
    return rows


@dataclass(frozen=True)
class DeviceFigures:
    """The shop's figures for one device."""

    did: int
    name: str
    family: str | None
    demos: int
    features_shown: int
    seconds: float
    asked_again: list[tuple[str, int]]
    kiosk_reads: int
    per_day: list[int]  # demos per day, oldest first

    @property
    def average_seconds(self) -> float:
        return self.seconds / self.demos if self.demos else 0.0


def _length(demo: DemoSession, now: datetime) -> float:
    end = demo.ended_at or demo.last_activity or now
    return max(0.0, (end - demo.started_at).total_seconds())


def analytics(
    session: Session, household_id: int, *, now: datetime, days: int = 14
) -> dict[str, Any]:
    """Return demos run, features shown, time per device and what customers asked again."""
    titles = capability_titles()
    devices = {
        key(d): d for d in session.exec(select(Device).where(Device.household_id == household_id))
    }
    demos = session.exec(select(DemoSession).where(DemoSession.household_id == household_id)).all()
    steps = session.exec(select(DemoStep).where(col(DemoStep.device_id).in_(list(devices)))).all()
    reads = session.exec(select(KioskView).where(KioskView.household_id == household_id)).all()
    first_day = (now - timedelta(days=days - 1)).date()
    per_day: dict[int, list[int]] = defaultdict(lambda: [0] * days)
    seconds: defaultdict[int, float] = defaultdict(float)
    count: Counter[int] = Counter()
    for demo in demos:
        count[demo.device_id] += 1
        seconds[demo.device_id] += _length(demo, now)
        index = (demo.started_at.date() - first_day).days
        if 0 <= index < days:
            per_day[demo.device_id][index] += 1
    shown: Counter[int] = Counter()
    again: dict[int, Counter[str]] = defaultdict(Counter)
    for step in steps:
        if step.status in SHOWN:
            shown[step.device_id] += 1
        if step.again:
            again[step.device_id][titles.get(step.capability, step.capability)] += 1
    kiosk: Counter[int] = Counter(r.device_id for r in reads)
    kiosk_features: Counter[str] = Counter(titles.get(r.capability, r.capability) for r in reads)
    rows = [
        DeviceFigures(
            did=device.did,
            name=device.display_name,
            family=device.family,
            demos=count[device_id],
            features_shown=shown[device_id],
            seconds=seconds[device_id],
            asked_again=again[device_id].most_common(3),
            kiosk_reads=kiosk[device_id],
            per_day=per_day[device_id] if device_id in per_day else [0] * days,
        )
        for device_id, device in devices.items()
        if count[device_id] or kiosk[device_id]
    ]
    rows.sort(key=lambda r: (-r.demos, -r.kiosk_reads, r.name.casefold()))
    asked: Counter[str] = Counter()
    for counter in again.values():
        asked.update(counter)
    return {
        "demos": sum(count.values()),
        "sale_intents": sum(1 for demo in demos if demo.sale_intent),
        "features_shown": sum(shown.values()),
        "seconds": sum(seconds.values()),
        "kiosk_reads": len(reads),
        "asked_again": asked.most_common(5),
        "kiosk_features": kiosk_features.most_common(5),
        "devices": rows,
        "days": days,
        "first_day": first_day,
    }
