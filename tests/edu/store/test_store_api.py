"""The store demo through the JSON API: staff run a guided demo with a token; homes get 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from demo_fixtures import MANAGER_PIN, STAFF, STAFF_PIN
from flask import Flask
from web_fixtures import Web

from devices.fleet import Fleet
from edu.store import sessions
from edu.store.sessions import DemoError

FAN = "Study fan"


def _token(web: Web, app: Flask, name: str, pin: str) -> str:
    """Sign in as *name* and make a personal API token on the "Me" page, as they would."""
    assert web.sign_in(app, name, pin).status_code == 302
    page = web.post("/me", {"action": "token", "name": "tablet"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match, "the new token is shown once"
    return match.group(1)


@pytest.fixture
def staff_api(store_web: Web, store_app: Flask) -> Any:
    token = _token(store_web, store_app, STAFF, STAFF_PIN)
    client = Web(store_app.test_client())  # no session: the token alone

    def call(method: str, url: str, body: Any = None) -> Any:
        return client.api(method, url, body, token=token)

    return call


def _fan(fleet: Fleet) -> Any:
    return next(d for d in fleet.devices if d.name == FAN)


def test_staff_run_a_guided_demo_through_the_api_and_the_fan_is_put_back(
    staff_api: Any, fleet: Fleet
) -> None:
    fan = _fan(fleet)
    before = fan.state()

    board = staff_api("GET", "/api/v1/demo/devices")
    assert board.status_code == 200
    row = next(d for d in board.get_json() if d["did"] == fan.did)
    assert (row["status_text"], row["demo"], row["can_demo"]) == ("Online", "ready", True)

    script = staff_api("GET", f"/api/v1/demo/devices/{fan.did}").get_json()
    assert script["running"] is False
    showable = [s["lesson"] for s in script["steps"] if s["can_show"]]
    assert "fan-oscillation" in showable and any(s["points"] for s in script["steps"])

    started = staff_api("POST", f"/api/v1/demo/devices/{fan.did}/start")
    assert started.status_code == 200 and started.get_json()["running"] is True
    assert started.get_json()["demo"] == "in-demo"

    shown = staff_api("POST", f"/api/v1/demo/devices/{fan.did}/show", {"lesson": "fan-oscillation"})
    assert shown.status_code == 200, shown.get_json()
    answer = shown.get_json()
    assert answer["ok"] and answer["status"] == "changed" and answer["after"] is True
    assert "Study fan: Oscillation is now on" in answer["message"]
    assert fan.state()["angle_enable"] == "on"  # what the simulated fan itself now holds
    again = staff_api("GET", f"/api/v1/demo/devices/{fan.did}").get_json()
    assert next(s for s in again["steps"] if s["lesson"] == "fan-oscillation")["shown"] == 1

    ended = staff_api("POST", f"/api/v1/demo/devices/{fan.did}/end")
    assert ended.status_code == 200
    result = ended.get_json()
    assert result["ok"] and result["written"] == 1 and "back to normal" in result["message"]
    assert fan.state() == before
    assert staff_api("GET", f"/api/v1/demo/devices/{fan.did}").get_json()["running"] is False


def test_only_a_step_of_a_running_demo_can_be_shown(staff_api: Any, fleet: Fleet) -> None:
    did = _fan(fleet).did
    url = f"/api/v1/demo/devices/{did}/show"
    not_started = staff_api("POST", url, {"lesson": "fan-oscillation"})
    assert not_started.status_code == 409 and not_started.get_json()["error"] == "not-running"
    staff_api("POST", f"/api/v1/demo/devices/{did}/start")
    for lesson in ("heater-target-temperature", "no-such-lesson"):
        refused = staff_api("POST", url, {"lesson": lesson})
        assert refused.status_code == 409 and refused.get_json()["error"] == "no-step"
    for body in ({}, {"lesson": 7}, {"lesson": ""}, ["fan-oscillation"]):
        assert staff_api("POST", url, body).status_code == 400
    assert staff_api("POST", "/api/v1/demo/devices/4242/start").status_code == 404
    assert staff_api("POST", "/api/v1/demo/reset-all").status_code == 200


def test_a_busy_device_answers_429_with_retry_after(
    staff_api: Any, fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    did = _fan(fleet).did
    staff_api("POST", f"/api/v1/demo/devices/{did}/start")

    def busy(*_args: Any, **_kwargs: Any) -> Any:
        raise DemoError("busy", "one command a second", retry_after=0.4)

    monkeypatch.setattr(sessions, "show", busy)  # fault injection: a command still under way
    answer = staff_api("POST", f"/api/v1/demo/devices/{did}/show", {"lesson": "fan-oscillation"})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert "still busy" in answer.get_json()["message"]


def test_the_demo_api_is_for_the_shops_staff_only(
    store_app: Flask, fleet: Fleet, fleet_app: Flask
) -> None:
    did = _fan(fleet).did
    stranger = Web(store_app.test_client())
    assert stranger.api("GET", "/api/v1/demo/devices", token="edu_nope").status_code == 401
    manager = _token(Web(store_app.test_client()), store_app, "Manager", MANAGER_PIN)
    assert (
        Web(store_app.test_client()).api("GET", "/api/v1/demo/devices", token=manager).status_code
        == 200
    )
    # A home has no demo table: its admin gets 404, as on the pages.
    home = Web(fleet_app.test_client())
    home.sign_in(fleet_app, "Mia")
    for method, url in (
        ("GET", "/api/v1/demo/devices"),
        ("GET", f"/api/v1/demo/devices/{did}"),
        ("POST", f"/api/v1/demo/devices/{did}/start"),
        ("POST", "/api/v1/demo/reset-all"),
    ):
        assert home.api(method, url).status_code == 404, url


def test_the_demo_api_shows_no_secret(staff_api: Any, fleet: Fleet) -> None:
    did = _fan(fleet).did
    texts = [
        staff_api("GET", "/api/v1/demo/devices").get_data(as_text=True),
        staff_api("GET", f"/api/v1/demo/devices/{did}").get_data(as_text=True),
        staff_api("POST", f"/api/v1/demo/devices/{did}/start").get_data(as_text=True),
        staff_api("POST", f"/api/v1/demo/devices/{did}/end").get_data(as_text=True),
    ]
    secrets = [d.token for d in fleet.devices] + [STAFF_PIN, MANAGER_PIN]
    assert not [s for s in secrets for text in texts if s in text]
    assert not any("token_ciphertext" in text for text in texts)
