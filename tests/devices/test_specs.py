"""MIoT specs come from the cache, the shipped files, or a stale copy; never a crash."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from devices.specs import SpecStore

SPEC = {
    "type": "urn:miot-spec-v2:device:fan:0000A005:acme-f1:1",
    "description": "Fan",
    "services": [],
}


def write(folder: Path, model: str, data: object, age_hours: float = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model}.json"
    path.write_text(json.dumps(data))
    if age_hours:
        old = time.time() - age_hours * 3600
        os.utime(path, (old, old))
    return path


def test_fresh_cache_wins_over_shipped(tmp_path: Path) -> None:
    write(tmp_path / "cache", "acme.fan.f1", {**SPEC, "description": "cached"})
    write(tmp_path / "shipped", "acme.fan.f1", {**SPEC, "description": "shipped"})
    store = SpecStore(tmp_path / "cache", shipped_dir=tmp_path / "shipped")
    found = store.get("acme.fan.f1")
    assert found is not None and found.source == "cache" and found.spec["description"] == "cached"


def test_shipped_spec_is_used_when_the_cache_is_stale(tmp_path: Path) -> None:
    write(tmp_path / "cache", "acme.fan.f1", {**SPEC, "description": "cached"}, age_hours=1000)
    write(tmp_path / "shipped", "acme.fan.f1", {**SPEC, "description": "shipped"})
    store = SpecStore(tmp_path / "cache", shipped_dir=tmp_path / "shipped", max_age_hours=24)
    found = store.get("acme.fan.f1")
    assert found is not None and found.source == "shipped"


def test_stale_cache_is_the_fallback_when_fetching_fails(tmp_path: Path) -> None:
    write(tmp_path / "cache", "acme.fan.f1", SPEC, age_hours=1000)
    calls: list[str] = []

    def offline_fetch(model: str) -> dict[str, object]:
        calls.append(model)
        raise OSError("network is unreachable")

    store = SpecStore(
        tmp_path / "cache", shipped_dir=tmp_path / "none", max_age_hours=24, fetch=offline_fetch
    )
    found = store.get("acme.fan.f1")
    assert calls == ["acme.fan.f1"]
    assert found is not None and found.source == "stale"


def test_a_fetched_spec_is_cached(tmp_path: Path) -> None:
    store = SpecStore(tmp_path / "cache", shipped_dir=tmp_path / "none", fetch=lambda model: SPEC)
    assert store.get("acme.fan.f1").source == "online"  # type: ignore[union-attr]
    again = SpecStore(tmp_path / "cache", shipped_dir=tmp_path / "none", fetch=None).get(
        "acme.fan.f1"
    )
    assert again is not None and again.source == "cache"


def test_unknown_model_without_any_spec_is_none(tmp_path: Path) -> None:
    assert SpecStore.offline(tmp_path, shipped_dir=tmp_path / "none").get("acme.gizmo.v1") is None


def test_broken_spec_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "acme.fan.f1.json").write_text("{not json")
    write(tmp_path / "shipped", "acme.fan.f1", {"no": "services"})
    assert (
        SpecStore(tmp_path / "cache", shipped_dir=tmp_path / "shipped").get("acme.fan.f1") is None
    )


def test_model_names_cannot_escape_the_folder(tmp_path: Path) -> None:
    write(tmp_path, "secret", SPEC)
    store = SpecStore(tmp_path / "cache", shipped_dir=tmp_path / "cache")
    assert store.get("../secret") is None
