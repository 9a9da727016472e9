"""A shop's side of the community hub: what its demos showed, per model and feature, in a week.

In store mode the weekly message is a ``shop-report`` instead of the household report: per
device **model** and feature, over the week before it is sent, how many demo steps showed
it, how many demos showed it, how many of those ended with the customer wanting to buy,
and how many times customers opened it on the kiosk. It is counted from the demo tables
and the devices' models only: no device id or name, staff person, PIN, token, address or
shop name is read, so none can be sent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from edu.community.data import _ID, report_models
from edu.hub.protocol import SHOP_COUNTS, WEEK, message
from edu.models import Device, Household
from edu.store.board import SHOWN
from edu.store.models import DemoSession, DemoStep, KioskView

PATHS = {"report": "report", "shop-report": "shops/report"}  # message type -> hub address


def since(now: datetime) -> datetime:
    """The start of the week a shop report sent at *now* covers."""
    return now - timedelta(seconds=WEEK)


def shop_models(
    session: Session, household_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Count, per model and feature, what the shop's demos and kiosk showed in [start, end)."""
    devices = {
        d.id: d
        for d in session.exec(select(Device).where(Device.household_id == household_id))
        if d.model and _ID.match(d.model)
    }
    counts: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"shown": 0, "demos": set(), "sales": set(), "kiosk": 0}
    )
    steps = session.exec(
        select(DemoStep, DemoSession.sale_intent)
        .join(DemoSession, col(DemoSession.id) == col(DemoStep.session_id))
        .where(
            DemoSession.household_id == household_id,
            col(DemoStep.status).in_(SHOWN),
            DemoStep.shown_at >= start,
            DemoStep.shown_at < end,
        )
    )
    for step, sale in steps:
        device = devices.get(step.device_id)
        if device is None or not _ID.match(step.capability):
            continue
        row = counts[(str(device.model), step.capability)]
        row["shown"] += 1
        row["demos"].add(step.session_id)
        if sale:
            row["sales"].add(step.session_id)
    reads = session.exec(
        select(KioskView).where(
            KioskView.household_id == household_id,
            KioskView.viewed_at >= start,
            KioskView.viewed_at < end,
        )
    )
    for read in reads:
        device = devices.get(read.device_id)
        if device is not None and _ID.match(read.capability):
            counts[(str(device.model), read.capability)]["kiosk"] += 1
    families = {
        str(d.model): d.family if d.family and _ID.match(d.family) else None
        for d in devices.values()
    }
    per_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (model, capability), row in sorted(counts.items()):
        figures = {n: len(v) if isinstance(v, set) else v for n, v in row.items()}
        per_model[model].append({"capability": capability} | {n: figures[n] for n in SHOP_COUNTS})
    return [
        {"model": model, "family": families.get(model), "features": features}
        for model, features in sorted(per_model.items())
    ]


def weekly_message(
    session: Session, key: Any, household_id: int, seq: int, now: datetime
) -> dict[str, Any]:
    """Build the weekly message: a shop report in store mode, else the household report."""
    household = session.get(Household, household_id)
    sent_at = int(now.timestamp())
    if household is None or household.kind != "store":
        return message(key, "report", seq, sent_at, report_models(session, household_id))
    start = since(now)
    models = shop_models(session, household_id, start, now)
    return message(key, "shop-report", seq, sent_at, models, since=int(start.timestamp()))
