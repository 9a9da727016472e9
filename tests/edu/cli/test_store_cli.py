"""`edu demo --store`: the fleet as a shop's demo table, served, with the staff PIN and kiosk URL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from process_helpers import get_when_up, running_demo

from edu.cli import main
from edu.cli.demos import _announce, urls
from edu.config import Settings
from edu.store.seed import Shop


@pytest.mark.slow
def test_store_demo_serves_the_kiosk_and_prints_the_staff_pin(tmp_path: Path) -> None:
    with running_demo(tmp_path, "--store") as (port, printed):
        staff = printed["staff"]
        assert isinstance(staff, dict) and str(staff["pin"]).isdigit()
        assert printed["kiosk"] == f"http://127.0.0.1:{port}/demo/kiosk"
        assert printed["devices"] == 18
        status, body = get_when_up(port, "/demo/kiosk", time.monotonic() + 15)
        assert status == 200 and "Discover what these devices can do" in body
        assert str(staff["pin"]) not in body
    assert (tmp_path / "store-demo" / "feature-coach.sqlite3").exists()


def test_the_store_demo_says_where_the_kiosk_is_and_the_pin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shop = Shop("Demo store", "Sam", "246810", "Manager", "135790", 18)
    settings = Settings.from_env({"EDU_INSTANCE": str(tmp_path)})
    _announce(shop, urls("127.0.0.1", 5050), settings, as_json=False)
    out = capsys.readouterr().out
    assert "Kiosk (customer screen): http://127.0.0.1:5050/demo/kiosk" in out
    assert "Staff PIN: 246810" in out and "5 minutes" in out


def test_the_store_demo_refuses_a_fleet_off_loopback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--instance", str(tmp_path), "demo", "--store", "--base", "10.0.0.10"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: the simulated fleet lives on 127.0.0.0/8 only, not 10.0.0.10"
    )
