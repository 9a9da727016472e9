"""The demo's simulated community: made-up homes that own the fleet's models and report to a hub.

Each home has its own Ed25519 key and goes through the hub's real signed HTTP API (join, then
one weekly report), exactly as `edu community join` and `send` do. What the homes own and use
is drawn with a fixed seed: each owns some of the demo household's models, with the
capabilities the scan found on them, and uses each feature at about the share one would guess
for it (TYPICAL), a little different per model, so the hub's bars differ from feature to feature
as they would and are the same on every run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from edu.community.data import report_models
from edu.community.link import post_signed
from edu.db import utcnow
from edu.hub.protocol import encode, message, new_key
from edu.models import Household

SEED = 13
OWNS = 0.45  # the chance that a simulated home owns a given model of the fleet
SENDERS = 8  # homes reporting at once (the hub's waitress serves 8 requests at a time)
SPREAD = 0.08  # how far one model's owners may stray from the feature's typical share
USUAL = 0.3  # the typical share of a feature not listed below
# The share of owners who use a feature, as one would guess it: what a device is bought for
# and the readings on its screen by most, comfort settings by about half, the rest by few.
TYPICAL = {
    **dict.fromkeys(
        ("brightness", "start-cleaning", "battery-level", "pm25-reading", "speed-level"), 0.88
    ),
    **dict.fromkeys(
        ("temperature-reading", "humidity-reading", "remote-power", "return-to-dock", "map"),
        0.8,
    ),
    **dict.fromkeys(
        ("auto-mode", "target-temperature", "filter-life", "oscillation", "co2-reading"), 0.7
    ),
    **dict.fromkeys(
        ("suction-power", "target-humidity", "heat-level", "mist-level", "color-temperature"),
        0.6,
    ),
    **dict.fromkeys(
        ("consumables", "current-clean-stats", "water-level", "tvoc-reading", "power-usage"),
        0.55,
    ),
    **dict.fromkeys(
        ("sleep-mode", "natural-wind", "night-light", "cleaning-history", "water-box"), 0.48
    ),
    **dict.fromkeys(
        ("off-timer", "room-cleaning", "do-not-disturb", "scheduled-cleaning", "rgb-color"), 0.4
    ),
    **dict.fromkeys(
        ("oscillation-angle", "favorite-level", "eco-mode", "indicator-light", "volume"), 0.34
    ),
    **dict.fromkeys(
        ("buzzer", "scenes", "wifi-led", "zoned-cleaning", "manual-fan-level", "turbo"), 0.28
    ),
    **dict.fromkeys(
        ("nudge-direction", "spot-cleaning", "dry-mode", "carpet-boost", "purified-volume"),
        0.24,
    ),
    **dict.fromkeys(
        ("child-lock", "find-robot", "clean-mode", "usb-power", "error-help", "color-flow"), 0.17
    ),
    **dict.fromkeys(
        ("power-on-state", "buzzer-volume", "voice-pack", "remote-control", "learn-mode"), 0.11
    ),
    **dict.fromkeys(("music-mode", "lan-control", "power-on-default", "leakage-current"), 0.06),
}


@dataclass(frozen=True)
class SimulatedHome:
    """One made-up home: its key and the per-model part of its report."""

    key: Any
    models: tuple[dict[str, Any], ...]


def fleet_models(engine: Engine) -> list[dict[str, Any]]:
    """The demo household's models as its report names them: model, family, capabilities."""
    with Session(engine) as session:
        household = session.exec(select(Household).order_by(col(Household.id))).first()
        if household is None or household.id is None:
            return []
        return [
            {"model": m["model"], "family": m["family"], "capabilities": m["capabilities"]}
            for m in report_models(session, household.id)
        ]


def adoption_rate(model: str, capability: str, seed: int = SEED) -> float:
    """The share of simulated owners of *model* who use *capability* (fixed per seed)."""
    digest = hashlib.sha256(f"{seed}:{model}:{capability}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    return min(0.95, max(0.02, TYPICAL.get(capability, USUAL) + rng.uniform(-SPREAD, SPREAD)))


def simulated_homes(
    models: list[dict[str, Any]], count: int, *, seed: int = SEED
) -> list[SimulatedHome]:
    """Make *count* homes, each owning some of *models* (at least one), with keys of their own."""
    if not models:
        raise ValueError("the demo household has no models to simulate owners of")
    rng = random.Random(seed)
    homes = []
    for _ in range(count):
        owned = [m for m in models if rng.random() < OWNS] or [rng.choice(models)]
        homes.append(
            SimulatedHome(
                new_key(),
                tuple(
                    {
                        "model": m["model"],
                        "family": m["family"],
                        "capabilities": list(m["capabilities"]),
                        "in_use": [
                            c
                            for c in m["capabilities"]
                            if rng.random() < adoption_rate(m["model"], c, seed)
                        ],
                        "lessons_done": [],
                        "lessons_dismissed": [],
                    }
                    for m in owned
                ),
            )
        )
    return homes


def join_and_report(
    hub: str, home: SimulatedHome, *, clock: Callable[[], datetime] = utcnow
) -> None:
    """Join *hub* with the home's key and send its report, both signed (CommunityError if refused)."""
    sent_at = int(clock().timestamp())
    post_signed(hub, "join", home.key, encode(message(home.key, "join", 0, sent_at)))
    body = encode(message(home.key, "report", 1, sent_at, list(home.models)))
    post_signed(hub, "report", home.key, body)


def seed_hub(hub: str, homes: list[SimulatedHome], *, senders: int = SENDERS) -> int:
    """Have every home join *hub* and report, *senders* at a time; return how many did."""
    with ThreadPoolExecutor(max_workers=senders, thread_name_prefix="simulated-home") as pool:
        for _ in pool.map(lambda home: join_and_report(hub, home), homes):
            pass  # the first refusal raises here, in one line
    return len(homes)
