"""The hub's published table: counted by a refresh from the latest reports, read by the API.

Reports are one row per home; adoption is read from `hub_published`, which a refresh
recounts (on a timer, on a stale read, or by `edu hub refresh`). These tests recount by
hand from what the homes sent and compare, and run two hubs on one database.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from hub_fixtures import Clock, Home, make_hub
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select

from edu.cli import main
from edu.config import Settings
from edu.hub import aggregates, store

MODELS = {
    "zhimi.fan.za4": ("fan", ["child-lock", "natural-breeze", "oscillation", "off-timer"]),
    "roborock.vacuum.s5": ("vacuum", ["zoned-cleaning", "do-not-disturb", "schedule"]),
    "yeelink.light.ceiling1": ("light", ["color-temperature", "night-light"]),
}


def random_report(rng: random.Random) -> list[dict[str, Any]]:
    """Some of the models, each with some of its features, some of those in use."""
    out = []
    for model in sorted(rng.sample(sorted(MODELS), rng.randint(1, len(MODELS)))):
        family, features = MODELS[model]
        has = sorted(rng.sample(features, rng.randint(1, len(features))))
        out.append(
            {
                "model": model,
                "family": family,
                "capabilities": has,
                "in_use": sorted(f for f in has if rng.random() < 0.5),
                "lessons_done": [],
                "lessons_dismissed": ["fan-child-lock"] if rng.random() < 0.2 else [],
            }
        )
    return out


def recount(latest: dict[int, list[dict[str, Any]]]) -> dict[tuple[str, str], tuple[int, int]]:
    """Count (homes, using) per (model, capability) by hand from each home's last report."""
    counted: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for models in latest.values():
        for item in models:
            for capability in item["capabilities"]:
                pair = counted[(item["model"], capability)]
                pair[0] += 1
                pair[1] += capability in item["in_use"]
    return {pair: (homes, using) for pair, (homes, using) in counted.items()}


def table(engine: Any) -> dict[tuple[str, str], tuple[int, int]]:
    published = store.published
    with engine.connect() as conn:
        rows = conn.execute(select(published))
        return {(r.model, r.capability): (r.homes, r.using) for r in rows}


@pytest.fixture
def slow_hub(tmp_path: Path, hub_clock: Clock) -> Iterator[Flask]:
    """A hub whose table is recounted only when a test says so (or after an hour)."""
    app = make_hub(tmp_path / "hub", hub_clock, min_homes=3, per_hour=5, refresh_seconds=3600)
    yield app
    app.extensions["hub.engine"].dispose()


def test_a_refresh_counts_exactly_what_a_recount_of_the_latest_reports_gives(
    slow_hub: Flask, hub_clock: Clock
) -> None:
    rng, client = random.Random(13), slow_hub.test_client()
    homes = [Home(client, hub_clock) for _ in range(30)]
    latest: dict[int, list[dict[str, Any]]] = {}
    for n, home in enumerate(homes):
        assert home.join().status_code == 201
        for _ in range(rng.randint(1, 3)):  # a later report replaces the earlier one
            latest[n] = random_report(rng)
            assert home.report(latest[n]).status_code == 200
    engine = slow_hub.extensions["hub.engine"]
    done = aggregates.refresh(engine, hub_clock())
    assert done is not None and done.reports == 30
    expected = recount(latest)
    assert table(engine) == expected and done.pairs == len(expected)
    for model in MODELS:
        answer = client.get(f"/hub/v1/adoption?model={model}").get_json()
        assert answer == [
            {"capability": capability, "homes": homes, "using": using}
            for (m, capability), (homes, using) in sorted(expected.items())
            if m == model and homes >= 3
        ]
    assert store.counts(engine)["usage"] == sum(homes for homes, _ in expected.values())


def test_only_pairs_reported_by_k_homes_are_published_in_the_api_and_the_index(
    slow_hub: Flask, hub_clock: Clock
) -> None:
    client = slow_hub.test_client()
    family, features = MODELS["zhimi.fan.za4"]
    fan = {"model": "zhimi.fan.za4", "family": family, "capabilities": features}
    fan |= {"in_use": features[:1], "lessons_done": [], "lessons_dismissed": []}
    light = {**fan, "model": "yeelink.light.ceiling1", "family": "light"}
    light |= {"capabilities": ["night-light"], "in_use": ["night-light"]}
    for n in range(3):  # three homes have the fan, two of them the light: below k = 3
        home = Home(client, hub_clock)
        home.join()
        home.report([fan, light] if n else [fan])
    aggregates.refresh(slow_hub.extensions["hub.engine"], hub_clock())
    assert table(slow_hub.extensions["hub.engine"])[("yeelink.light.ceiling1", "night-light")] == (
        2,
        2,
    )
    assert client.get("/hub/v1/adoption?model=yeelink.light.ceiling1").get_json() == []
    published = client.get("/hub/v1/adoption?model=zhimi.fan.za4").get_json()
    assert published == [
        {"capability": c, "homes": 3, "using": 3 if c == features[0] else 0}
        for c in sorted(features)
    ]
    index = client.get("/hub/").get_data(as_text=True)
    assert "zhimi.fan.za4" in index and "yeelink.light.ceiling1" not in index


def test_a_read_shows_the_last_refresh_and_a_leave_shows_after_the_next(
    slow_hub: Flask, hub_clock: Clock
) -> None:
    client = slow_hub.test_client()
    homes = [Home(client, hub_clock) for _ in range(3)]
    fan = random_report(random.Random(5))[0] | {"model": "zhimi.fan.za4", "family": "fan"}
    for home in homes:
        home.join()
        home.report([fan])
    url = "/hub/v1/adoption?model=zhimi.fan.za4"
    first = client.get(url).get_json()  # never counted yet: the first read counts
    assert first and all(row["homes"] == 3 for row in first)
    assert homes[0].leave().status_code == 200
    assert store.counts(slow_hub.extensions["hub.engine"])["homes"] == 2  # gone at once...
    assert client.get(url).get_json() == first  # ...from the published table at the refresh
    hub_clock.advance(seconds=3601)  # past EDU_HUB_REFRESH_SECONDS: the next read recounts
    assert client.get(url).get_json() == []
    assert aggregates.last_refresh(slow_hub.extensions["hub.engine"])["reports"] == 2


def test_two_hubs_on_one_database_take_reports_and_refresh_safely_at_once(
    tmp_path: Path, hub_clock: Clock
) -> None:
    # one instance folder: one database (a SQLite file, or the PostgreSQL database it names)
    first = make_hub(tmp_path / "hub", hub_clock, min_homes=3, refresh_seconds=3600)
    second = make_hub(tmp_path / "hub", hub_clock, min_homes=3, refresh_seconds=3600)
    try:
        a, b = first.test_client(), second.test_client()
        rng, latest = random.Random(21), {}
        for n in range(12):
            home = Home(a, hub_clock)
            assert home.join().status_code == 201
            home.client = b if n % 2 else a  # reports go to either hub
            for _ in range(2):
                latest[n] = random_report(rng)
                assert home.report(latest[n]).status_code == 200
            home.client = a if n % 2 else b
            refused = home.post("report", home.body("report", latest[n], seq=home.seq))
            assert refused.status_code == 409  # the other hub knows the sequence too
        errors: list[BaseException] = []

        def refresh(app: Flask) -> None:
            try:
                for _ in range(5):
                    aggregates.refresh(app.extensions["hub.engine"], hub_clock(), wait=True)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=refresh, args=(app,)) for app in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert table(first.extensions["hub.engine"]) == recount(latest)
        assert a.get("/hub/v1/adoption?model=zhimi.fan.za4").get_json() == (
            b.get("/hub/v1/adoption?model=zhimi.fan.za4").get_json()
        )
    finally:
        first.extensions["hub.engine"].dispose()
        second.extensions["hub.engine"].dispose()


def test_edu_hub_refresh_counts_now_and_says_what_it_counted(
    tmp_path: Path, hub_clock: Clock
) -> None:
    app = make_hub(tmp_path / "hub", hub_clock, min_homes=1, refresh_seconds=3600)
    client = app.test_client()
    home = Home(client, hub_clock)
    home.join()
    report = random_report(random.Random(3))
    home.report(report)
    app.extensions["hub.engine"].dispose()
    result = CliRunner().invoke(
        main, ["--instance", str(tmp_path / "hub"), "hub", "refresh", "--json"]
    )
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert said["reports"] == 1 and said["pairs"] == len(recount({0: report}))
    model = report[0]["model"]
    rows = client.get(f"/hub/v1/adoption?model={model}").get_json()
    assert {row["capability"] for row in rows} == set(report[0]["capabilities"])
    app.extensions["hub.engine"].dispose()


def test_the_refresh_timer_recounts_without_any_read(tmp_path: Path) -> None:
    app = make_hub(tmp_path / "hub", min_homes=1, refresh_seconds=1)
    engine = app.extensions["hub.engine"]
    home = Home(app.test_client(), app.config["HUB_CLOCK"])
    home.join()
    home.report(random_report(random.Random(8)))
    timer = aggregates.Refresher(engine, 0.2, app.config["HUB_CLOCK"]).start()
    try:
        done = threading.Event()
        for _ in range(100):  # the timer looks every 0.05 s; allow it five seconds
            if aggregates.last_refresh(engine)["reports"] == 1:
                done.set()
                break
            done.wait(0.05)
        assert done.is_set(), "the timer never refreshed the published table"
        assert table(engine)
    finally:
        timer.stop()
        engine.dispose()


def test_a_database_of_the_previous_version_keeps_its_homes_and_drops_its_old_tables(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_hub(tmp_path / "hub")
    engine = app.extensions["hub.engine"]
    old = MetaData()
    for name in store.LEGACY:
        Table(name, old, Column("home_id", Integer), Column("model", String(80)))
    old.create_all(engine)
    home = Home(app.test_client(), app.config["HUB_CLOCK"])
    assert home.join().status_code == 201
    engine.dispose()
    caplog.set_level(logging.WARNING, logger="edu.hub.store")
    again = make_hub(tmp_path / "hub")
    engine = again.extensions["hub.engine"]
    try:
        assert not any(inspect(engine).has_table(name) for name in store.LEGACY)
        assert "dropping the previous version's tables hub_usage, hub_lesson" in caplog.text
        assert store.counts(engine)["homes"] == 1
        home.client = again.test_client()
        assert home.report(random_report(random.Random(2))).status_code == 200
    finally:
        engine.dispose()


def test_edu_hub_serve_with_two_workers_takes_reports_on_one_port_and_stops_them_all(
    tmp_path: Path,
) -> None:
    import http.client
    import os
    import subprocess
    import sys
    import time

    from process_helpers import free_port, get_when_up

    from edu.hub.protocol import SIGNATURE_HEADER, encode, message, new_key, sign

    port, instance = free_port(), str(tmp_path / "hub")
    edu = str(Path(sys.executable).parent / "edu")
    # the workers and `edu hub refresh` on one database (SQLite, or PostgreSQL in that mode)
    database = Settings.from_env({"EDU_INSTANCE": instance}).database_url
    env = {**os.environ, "EDU_HUB_MIN_HOMES": "2", "EDU_HUB_REFRESH_SECONDS": "3600"}
    env["EDU_DATABASE_URL"] = database
    serve = ["--instance", instance, "hub", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(
        [edu, *serve], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert get_when_up(port, "/hub/v1/openapi.json", time.monotonic() + 30)[0] == 200
        report = random_report(random.Random(4))
        now = int(time.time())
        for _ in range(6):  # each on a connection of its own: the kernel picks the worker
            key = new_key()
            for kind, seq in (("join", 0), ("report", 1)):
                body = encode(message(key, kind, seq, now, report if seq else None))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", f"/hub/v1/{kind}", body, {SIGNATURE_HEADER: sign(key, body)})
                assert conn.getresponse().status in (200, 201)
                conn.close()
        said = CliRunner().invoke(
            main, ["--instance", instance, "hub", "refresh", "--json"], env=env
        )
        assert json.loads(said.stdout)["reports"] == 6
        model = report[0]["model"]
        status, body = get_when_up(port, f"/hub/v1/adoption?model={model}", time.monotonic() + 5)
        assert status == 200
        assert {row["homes"] for row in json.loads(body)} == {6}
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "2 worker(s)" in err
    with pytest.raises(OSError):  # no worker is left listening
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/hub/")
