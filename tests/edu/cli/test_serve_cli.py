"""`edu serve` and `edu demo`: safe defaults, the demo household, a real server answering."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from process_helpers import get_when_up, running_demo

from edu.cli import main
from edu.cli.common import limit_malloc_arenas, run_server
from edu.cli.serve import is_loopback, split_bind


def test_serve_refuses_a_public_address_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDU_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["--instance", str(tmp_path), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "error: refusing to serve on 0.0.0.0 without a secret: set EDU_SECRET_KEY first"
    )


def test_bind_and_loopback_helpers() -> None:
    assert split_bind("127.0.0.1:5000") == ("127.0.0.1", 5000)
    with pytest.raises(ValueError):
        split_bind("nonsense")
    assert is_loopback("127.0.0.9") and is_loopback("localhost") and not is_loopback("0.0.0.0")


@pytest.mark.slow
def test_demo_serves_the_seeded_household_and_prints_profiles_and_pins(tmp_path: Path) -> None:
    with running_demo(tmp_path) as (port, printed):
        assert [(p["name"], p["role"]) for p in printed["people"]] == [
            ("Mia", "admin"),
            ("Leo", "member"),
            ("Ana", "member"),
        ]
        assert all(p["pin"].isdigit() for p in printed["people"]) and len(printed["devices"]) == 18
        status, body = get_when_up(port, "/signin", time.monotonic() + 15)
        assert status == 200 and all(name in body for name in ("Mia", "Leo", "Ana"))


def test_demo_without_serving_prints_the_scanned_fleet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDU_DISCOVERY_TIMEOUT", "0.8")
    monkeypatch.setenv("EDU_DEVICE_TIMEOUT", "0.5")
    result = CliRunner().invoke(
        main, ["--instance", str(tmp_path), "demo", "--no-serve", "--json", "--base", "127.0.0.10"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 18 and sum(r["status"] == "online" for r in rows) == 17


def test_the_server_shares_malloc_arenas_unless_the_person_chose_a_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False  # their own choice stands
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")


def test_the_server_freezes_what_start_up_made_before_the_worker_and_the_pages_start(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    seen: dict[str, int] = {}
    monkeypatch.setattr(
        "edu.jobs.start_background",
        lambda *a, **k: seen.setdefault("worker", gc.get_freeze_count()),
    )
    monkeypatch.setattr("edu.jobs.stop_background", lambda: None)
    monkeypatch.setattr("edu.cli.common.limit_malloc_arenas", lambda: False)  # not in pytest
    monkeypatch.setattr(
        "waitress.serve", lambda *a, **k: seen.setdefault("pages", gc.get_freeze_count())
    )
    gc.unfreeze()
    try:
        run_server(app, "127.0.0.1", 5000)
        # the objects start-up made (modules, the app) are out of the collector's full passes
        assert seen["worker"] > 10_000
        assert seen["pages"] == seen["worker"]
    finally:
        gc.unfreeze()
