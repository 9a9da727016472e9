"""Fixtures for the application on the simulated fleet: an inventory and a scanned household."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.discovery import discover
from devices.fleet import Fleet
from edu.config import Settings
from edu.schema import create_schema, make_engine
from edu.services.inventory import Inventory
from edu.simulated.fleet import token_file_for


@pytest.fixture
def inventory(tmp_path: Path) -> Iterator[Inventory]:
    """An inventory on a fresh SQLite file, with short device timeouts."""
    settings = Settings.from_env(
        {
            "EDU_INSTANCE": str(tmp_path / "instance"),
            "EDU_DEVICE_TIMEOUT": "0.5",
            "EDU_DISCOVERY_TIMEOUT": "0.8",
        }
    )
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    yield Inventory.open(engine, settings)
    engine.dispose()


def import_fleet_tokens(inventory: Inventory, fleet: Fleet, tmp_path: Path) -> None:
    """Import the hidden tokens of the fleet as an admin would, from a cloud-list file."""
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps(token_file_for(fleet)))
    inventory.import_tokens(path)


def scanned(inventory: Inventory, fleet: Fleet, tmp_path: Path) -> dict[int, dict[str, Any]]:
    """Import the tokens, sweep the fleet's /24 and scan it; return rows by did."""
    import_fleet_tokens(inventory, fleet, tmp_path)
    found = discover([fleet.network], timeout=0.8)
    return {row["did"]: row for row in inventory.scan(found)}
