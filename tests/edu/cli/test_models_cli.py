"""`edu models`: every known model with its class, family and counts, computed offline."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edu.cli import main

SPEC = (
    Path(__file__).parent.parent
    / "services"
    / "data"
    / "spec_service"
    / "sims"
    / "cuco.socket.zz9.json"
)


def _no_sockets(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("edu models opened a socket")


def test_models_json_lists_every_model_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    (instance / "specs").mkdir(parents=True)
    shutil.copy(SPEC, instance / "specs" / SPEC.name)
    monkeypatch.setattr(socket, "socket", _no_sockets)
    result = CliRunner().invoke(main, ["--instance", str(instance), "models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) >= 253
    assert all(
        set(row) == {"model", "class", "family", "capabilities", "lessons", "source"}
        for row in rows
    )
    by_model = {row["model"]: row for row in rows}
    assert len(by_model) == len(rows) and "*" not in by_model
    for row in rows:
        if row["source"] == "python-miio":
            assert row["family"], row
            assert row["lessons"] >= 1, row
            assert row["capabilities"] >= 3, row
    assert by_model["zhimi.heater.nb1"]["source"] == "shipped spec"
    outlet = by_model["cuco.socket.zz9"]
    assert (outlet["class"], outlet["family"], outlet["source"]) == (
        "GenericMiot",
        "plug",
        "instance spec",
    )
    assert outlet["capabilities"] >= 3 and outlet["lessons"] >= 1
    assert by_model["chunmi.cooker.normal2"]["family"] == "cooker"


def test_models_of_one_family_and_an_unknown_family(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--instance", str(tmp_path / "instance"), "models"]
    result = runner.invoke(main, [*base, "--family", "dehumidifier"])
    assert result.exit_code == 0, result.output
    assert "1 model(s)" in result.output and "nwt.derh.wdh318efw1" in result.output
    failed = runner.invoke(main, [*base, "--family", "spaceship"])
    assert failed.exit_code != 0
    assert failed.output.strip() == "error: no known model of family 'spaceship'"


def test_the_shipped_model_table_is_current(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--instance", str(tmp_path), "models", "--markdown"])
    assert result.exit_code == 0, result.output
    shipped = Path(__file__).resolve().parents[3] / "docs" / "models.md"
    assert result.output == shipped.read_text(encoding="utf-8"), (
        "docs/models.md is out of date: run `edu models --markdown > docs/models.md`"
    )
