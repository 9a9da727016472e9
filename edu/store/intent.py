"""Sale intent: staff end a demo with "the customer wants to buy", so the shop learns what sells."""

from __future__ import annotations

from datetime import datetime

from edu.db import key, unit_of_work, utcnow
from edu.store import audit, sessions
from edu.store.audit import Staff
from edu.store.models import running
from edu.store.sessions import DemoError, Desk, Reset


def end_with_intent(desk: Desk, staff: Staff, did: int, *, now: datetime | None = None) -> Reset:
    """End the running demo of *did* as a sale intent: mark it, then put the device back.

    The mark is written before the restore: a device that cannot be put back still leaves
    the customer's wish counted.
    """
    now = now or utcnow()
    with unit_of_work(desk.inventory.engine) as session:
        device = sessions.store_device(session, staff.household_id, did)
        demo = running(session, key(device))
        if demo is None:
            raise DemoError("not-running", "start the demo of this device first")
        demo.sale_intent, demo.last_activity = True, now
        audit.record(session, staff, "sale-intent", device_id=device.id, now=now)
    return sessions.end(desk, staff, did, now=now)
