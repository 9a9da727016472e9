"""`edu community`, `edu hub serve`, the admin's Community page and the weekly job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from home_fixtures import FAN_FEATURES, FAN_MODEL, LocalHome, make_home
from hub_fixtures import Clock, Home, LiveHub, fan, make_hub
from process_helpers import free_port, get_when_up
from sqlmodel import Session, select
from web_fixtures import Web

from edu.cli import main
from edu.community import link as community
from edu.db import unit_of_work
from edu.hub import store
from edu.jobs import Worker
from edu.lease import acquire_lease, release_lease
from edu.models import Device, DeviceCapability, Household


@pytest.fixture
def small_hub(tmp_path: Path) -> Iterator[LiveHub]:
    """A live hub that publishes a pair two homes report."""
    hub = LiveHub(make_hub(tmp_path / "small-hub", min_homes=2))
    yield hub
    hub.close()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[LocalHome]:
    built = make_home(tmp_path, 0, ("oscillation",))
    yield built
    built.close()


def neighbour_reports(hub: LiveHub, using: tuple[str, ...]) -> None:
    """Another home (straight to the hub's app) reports the same fan model."""
    neighbour = Home(hub.app.test_client(), Clock())
    assert neighbour.join().status_code == 201
    model = {**fan(FAN_MODEL, using), "capabilities": list(FAN_FEATURES), "lessons_done": []}
    assert neighbour.report([model]).status_code == 200


def run(instance: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--instance", str(instance), "community", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_joins_previews_the_exact_bytes_sends_and_leaves(
    small_hub: LiveHub, home: LocalHome
) -> None:
    instance = home.settings.instance
    code, _, err = run(instance, "send")
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    code, out, _ = run(instance, "join", "--hub", small_hub.url)
    assert code == 0 and small_hub.url in out
    key_text = community.key_path(home.settings).read_text()
    code, out, err = run(instance, "preview")
    assert code == 0 and "bytes, exactly" in err
    report = json.loads(out)
    assert out == json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert report["type"] == "report" and report["seq"] == 1
    assert run(instance, "preview", "--json")[1].startswith("{")
    code, out, _ = run(instance, "send", "--json")
    assert code == 0 and json.loads(out)["answer"]["accepted"] is True
    status = json.loads(run(instance, "status", "--json")[1])
    assert status["joined"] and status["reports_sent"] == 1 and status["last_sent_at"]
    code, out, _ = run(instance, "leave")
    assert code == 0 and "deleted" in out
    assert store.counts(small_hub.engine)["homes"] == 0
    for output in (out, json.dumps(status)):
        assert "PRIVATE" not in output and key_text.splitlines()[1] not in output


def test_the_cli_refuses_a_bad_hub_address_in_one_line(home: LocalHome) -> None:
    code, _, err = run(home.settings.instance, "join", "--hub", "ftp://127.0.0.1/hub")
    assert code == 1 and err.count("\n") == 1 and "hub address" in err


def test_edu_hub_serve_answers_on_its_port_and_logs_no_address(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "EDU_HUB_MIN_HOMES": "3"}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "edu"),
            "--instance",
            str(tmp_path / "hub"),
            "hub",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = get_when_up(port, "/hub/v1/openapi.json", time.monotonic() + 30)
        assert status == 200 and json.loads(body)["info"]["title"].endswith("community hub")
        assert get_when_up(port, "/hub/v1/adoption", time.monotonic() + 5)[0] == 400
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "publishing pairs of 3+ homes" in err
    assert "127.0.0.1 -" not in err  # no access log line names the caller


def test_the_community_page_is_off_until_the_admin_joins_then_shows_the_preview(
    small_hub: LiveHub, app: Flask, web: Web
) -> None:
    web.setup(language="zh-CN")
    engine = app.extensions["edu.engine"]
    with unit_of_work(engine) as session:
        household = session.exec(select(Household)).one()
        device = Device(
            household_id=household.id or 0,
            did=4242,
            ip="127.0.0.42",
            name="Hall fan",
            model=FAN_MODEL,
            family="fan",
            status="online",
        )
        session.add(device)
        session.flush()
        for feature in FAN_FEATURES:
            session.add(
                DeviceCapability(device_id=device.id or 0, capability=feature, setting=feature)
            )
    page = web.get("/community/").get_data(as_text=True)
    assert "加入社区中心" in page and "community-preview" not in page
    assert "同款风扇用户" not in web.get("/").get_data(as_text=True)  # kept until the hub's table
    neighbour_reports(small_hub, ("natural-wind",))
    web.post("/community/", {"action": "join", "hub": small_hub.url})
    page = web.get("/community/").get_data(as_text=True)
    assert 'id="community-preview"' in page and FAN_MODEL in page and "Hall fan" not in page
    web.post("/community/", {"action": "send"})
    assert store.counts(small_hub.engine)["homes"] == 2
    home_page = web.get("/").get_data(as_text=True)
    assert "50% 的同款风扇用户在用“自然风”" in home_page
    cards = web.api("GET", "/api/v1/recommendations").get_json()
    wind = next(c for c in cards if c["capability"] == "natural-wind")
    assert wind["community"] == {"homes": 2, "using": 1} and wind["reason_code"] == "owners"
    web.post("/community/", {"action": "leave"})
    assert "加入社区中心" in web.get("/community/").get_data(as_text=True)
    assert "同款风扇用户" not in web.get("/").get_data(as_text=True)  # left: the figures go
    assert store.counts(small_hub.engine)["homes"] == 1


def test_the_weekly_job_sends_once_a_week_while_joined(tmp_path: Path, home: LocalHome) -> None:
    clock = Clock()
    hub = LiveHub(make_hub(tmp_path / "weekly-hub", clock, min_homes=2))  # one clock for both
    worker = Worker(home.engine, home.settings, owner="w1", clock=clock, quick_jobs=False)
    try:
        # hold the lease without starting the scheduler: the test runs the job by hand
        assert acquire_lease(home.engine, "w1", 30 * 24 * 3600, now=clock())
        assert worker.run("community") == {"job": "community", "ok": True, "detail": "not joined"}
        community.join(home.engine, home.settings, hub.url, clock=clock)
        assert worker.run("community")["detail"] == "sent"  # type: ignore[index]
        clock.advance(days=6)
        assert worker.run("community")["detail"] == "not due"  # type: ignore[index]
        clock.advance(days=1, seconds=1)
        assert worker.run("community")["detail"] == "sent"  # type: ignore[index]
        with Session(home.engine) as session:
            link = community.link(session)
            assert link is not None and link.seq == 2
            assert link.last_sent_at == clock()
    finally:
        release_lease(home.engine, "w1")
        hub.close()
