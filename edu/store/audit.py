"""The staff action log: who did what on the demo table, and when."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from edu.db import utcnow
from edu.models import Device
from edu.store.models import StaffAction

logger = logging.getLogger(__name__)

ACTIONS = (
    "start-demo",
    "show",
    "show-again",
    "end-demo",
    "sale-intent",
    "reset",
    "reset-all",
    "timeout",
    "undo",
    "kiosk-open",
    "kiosk-exit",
    "kiosk-exit-refused",
)
SYSTEM = "system"


@dataclass(frozen=True)
class Staff:
    """Who acts: a signed-in person of the shop (plain values, safe to pass between sessions)."""

    id: int | None
    name: str
    household_id: int


def record(
    session: Session,
    staff: Staff,
    action: str,
    *,
    device_id: int | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> StaffAction:
    """Add one line to the log; the caller owns the transaction. Never pass a secret in *detail*."""
    if action not in ACTIONS:
        raise ValueError(f"unknown staff action {action!r}")
    row = StaffAction(
        household_id=staff.household_id,
        person_id=staff.id,
        who=staff.name,
        action=action,
        device_id=device_id,
        detail=detail[:200],
        at=now or utcnow(),
    )
    session.add(row)
    logger.info("staff action %s by person %s on device row %s", action, staff.id, device_id)
    return row


def recent(session: Session, household_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """Return the newest log lines first, with the device's name."""
    rows = session.exec(
        select(StaffAction, Device)
        .join(Device, col(StaffAction.device_id) == Device.id, isouter=True)
        .where(StaffAction.household_id == household_id)
        .order_by(col(StaffAction.at).desc(), col(StaffAction.id).desc())
        .limit(limit)
    ).all()
    return [
        {
            "at": action.at,
            "who": action.who,
            "action": action.action,
            "device": device.display_name if device is not None else "",
            "detail": action.detail,
        }
        for action, device in rows
    ]
