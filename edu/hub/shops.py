"""What shops report to the hub: per model and feature, demos that showed it and sale intents.

A shop is a hub member (its key in ``hub_home``, joined like a home) that sends
``shop-report`` messages. Each report replaces the shop's rows whole: one per (model,
feature) with its week's counts. The table is on the hub's MetaData and hangs off the
member's row, so leaving (which deletes that row) deletes the shop's data with it.
Figures are published only for pairs at least k shops report, summed over those shops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine

from edu.hub.protocol import Message
from edu.hub.store import METADATA, home, with_turn

shop_feature = Table(
    "hub_shop_feature",
    METADATA,
    Column("home_id", Integer, ForeignKey(home.c.id, ondelete="CASCADE"), primary_key=True),
    Column("model", String(80), primary_key=True),
    Column("capability", String(80), primary_key=True),
    Column("family", String(80), nullable=True),
    Column("shown", Integer, nullable=False),  # demo steps that showed it
    Column("demos", Integer, nullable=False),  # demos that showed it
    Column("sales", Integer, nullable=False),  # of those, the ones ending in a sale intent
    Column("kiosk", Integer, nullable=False),  # kiosk reads of it
    Index("ix_hub_shop_feature_model_capability", "model", "capability"),
)


@dataclass(frozen=True)
class Asked:
    """A model's feature as at least k shops report it: their weeks' counts summed."""

    capability: str
    shops: int
    shown: int
    demos: int
    sales: int
    kiosk: int

    def to_dict(self) -> dict[str, int | str]:
        return {
            "capability": self.capability,
            "shops": self.shops,
            "shown": self.shown,
            "demos": self.demos,
            "sales": self.sales,
            "kiosk": self.kiosk,
        }


def accept(engine: Engine, message: Message, now: datetime, per_hour: int) -> int:
    """Store a shop report in place of the shop's previous one; return how many rows it holds."""
    rows = [
        {
            "model": m.model,
            "family": m.family,
            "capability": f.capability,
            "shown": f.shown,
            "demos": f.demos,
            "sales": f.sales,
            "kiosk": f.kiosk,
        }
        for m in message.shop
        for f in m.features
    ]

    def replace(conn: Connection, home_id: int) -> None:
        conn.execute(delete(shop_feature).where(shop_feature.c.home_id == home_id))
        if rows:
            conn.execute(insert(shop_feature), [{"home_id": home_id, **r} for r in rows])

    with_turn(engine, message, now, per_hour, replace)
    return len(rows)


def asked(engine: Engine, model: str, min_shops: int) -> list[Asked]:
    """Return the model's features reported by at least *min_shops* shops, most demos first."""
    shops = func.count()
    query = (
        select(
            shop_feature.c.capability,
            shops.label("shops"),
            func.sum(shop_feature.c.shown).label("shown"),
            func.sum(shop_feature.c.demos).label("demos"),
            func.sum(shop_feature.c.sales).label("sales"),
            func.sum(shop_feature.c.kiosk).label("kiosk"),
        )
        .where(shop_feature.c.model == model)
        .group_by(shop_feature.c.capability)
        .having(shops >= min_shops)
    )
    with engine.connect() as conn:
        found = [
            Asked(
                r.capability, int(r.shops), int(r.shown), int(r.demos), int(r.sales), int(r.kiosk)
            )
            for r in conn.execute(query)
        ]
    return sorted(found, key=lambda a: (-a.demos, -a.kiosk, a.capability))


def published_models(engine: Engine, min_shops: int) -> list[tuple[str | None, str]]:
    """Return (family, model) of every model with at least one published feature."""
    per_pair = (
        select(
            shop_feature.c.model,
            shop_feature.c.capability,
            func.max(shop_feature.c.family).label("family"),
        )
        .group_by(shop_feature.c.model, shop_feature.c.capability)
        .having(func.count() >= min_shops)
        .subquery()
    )
    query = (
        select(func.max(per_pair.c.family), per_pair.c.model)
        .group_by(per_pair.c.model)
        .order_by(per_pair.c.model)
    )
    with engine.connect() as conn:
        return [(family, model) for family, model in conn.execute(query)]


def count(engine: Engine) -> int:
    """Return how many (shop, model, feature) rows the hub holds."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(shop_feature)).scalar_one())
