"""The more-families fleet: one simulated device of each newer family, scanned online."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lan_fixtures import scanned

from devices.fleet import Fleet
from devices.vocabulary import Vocabulary
from edu.services.inventory import Inventory

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


@pytest.fixture
def more_families(offline_miot: None) -> Iterator[Fleet]:
    fleet = Fleet.load("more-families").start_in_free_block()
    try:
        yield fleet
    finally:
        fleet.stop()


def test_every_device_of_the_more_families_fleet_scans_online_with_its_family(
    more_families: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    rows = scanned(inventory, more_families, tmp_path)
    newer = set(Vocabulary.load().families[8:])
    covered = {d.family for d in more_families.devices} & newer
    assert covered == newer  # one simulated device of every newer family
    for device in more_families.devices:
        row = rows[device.did]
        assert (row["status"], row["family"]) == ("online", device.family), row
        assert len(row["capabilities"]) >= 3, row
        assert all(device.family in Vocabulary.load()[c].families for c in row["capabilities"])


def test_the_default_household_is_unchanged() -> None:
    assert {d.family for d in Fleet.load("household").devices} <= set(
        Vocabulary.load().families[:8]
    )


def test_using_a_newer_familys_feature_on_the_device_is_detected(
    more_families: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    scanned(inventory, more_families, tmp_path)
    inventory.poll()
    dehumidifier = more_families.by_model("nwt.derh.wdh318efw1")
    fountain = more_families.by_model("mmgg.pet_waterer.s1")
    dehumidifier.set_state("mode", "dry_cloth")  # someone pressed dry-clothes on the device
    fountain.set_state("pet-drinking-fountain:mode", 2)  # and switched the fountain to smart
    rows = {row["did"]: row for row in inventory.poll()}
    assert "dehumidifier-dry-clothes" in rows[dehumidifier.did]["in_use"]
    assert "fountain-mode" in rows[fountain.did]["in_use"]
