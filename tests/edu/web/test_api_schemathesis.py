"""Fuzz the JSON API with schemathesis against its own OpenAPI document, as a signed-in admin.

Every operation of ``/api/v1/openapi.json`` gets schema-valid and schema-breaking requests
(with the admin's personal token), in-process through the WSGI app, on a copy of the scanned
simulated household. Each response must not be a server error, must use a documented status
code and content type, and must match its documented schema. A third pass aims at real
device ids and lesson ids, so the fuzzer also reaches the paths that touch devices.

Safety: the only requests that send packets are a scan (it sweeps the fleet's own /24 on
loopback, as configured by the fixture), "try it" (a device in the database: the fleet), and
adding a device by address: every address the fuzzer makes up is replaced by a fleet
device's loopback address before it is sent. The network guard backs this up.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
import schemathesis
from demo_fixtures import STAFF, STAFF_PIN
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from sqlmodel import select
from web_fixtures import Web

from devices.fleet import Fleet
from edu.db import key, unit_of_work
from edu.models import Device, Household

# What the checks accept beyond schemathesis' defaults, and why.
CONFIG = {
    "checks": {
        # "no device answered at that address" is the right answer to a well-formed address
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
        },
        # the API is lenient on purpose where it can be: the `limit` of recommendations or the
        # `device` of a lesson it cannot read falls back to its default, as the pages do (the
        # paged lists refuse a bad `limit` or `cursor` with a documented 400)
        "negative_data_rejection": {"enabled": False},
    }
}
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 8}
KNOWN_EXAMPLES = 7
ADD_DEVICE = ("POST", "/api/v1/devices")


@pytest.fixture
def api_token(fleet_app: Flask) -> str:
    """A personal API token for Mia (admin), made on her page as she would."""
    web = Web(fleet_app.test_client())
    web.sign_in(fleet_app, "Mia")
    page = web.post("/me", {"action": "token", "name": "fuzzer"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match, "the new token is shown once"
    return match.group(1)


def _keep_on_loopback(case: Case, fleet: Fleet) -> None:
    """Point a made-up device address at a fleet device, so no packet leaves loopback."""
    if (case.operation.method.upper(), case.operation.path) != ADD_DEVICE:
        return
    if not isinstance(case.body, dict) or "ip" not in case.body:
        return
    try:
        ipaddress.ip_address(str(case.body["ip"]).strip())  # the app's own reading of it
    except ValueError:
        return  # refused as bad input before any packet is sent
    case.body["ip"] = fleet.devices[len(str(case.body["ip"])) % len(fleet.devices)].ip


def _fuzz(
    operation: APIOperation,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    fleet: Fleet,
    **fixed: Any,
) -> None:
    """Run *examples* generated requests against one operation and check every response."""

    @given(case=operation.as_strategy(mode, **fixed))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: Case) -> None:
        _keep_on_loopback(case, fleet)
        case.call_and_validate(headers=headers)

    run()


def _known_ids(operation: APIOperation, fleet: Fleet) -> dict[str, Any] | None:
    """Path parameters naming a real device or lesson, for operations that take one."""
    names = {p.name for p in operation.path_parameters}
    if "did" in names and operation.path.startswith("/api/v1/demo/"):
        return {"path_parameters": {"did": fleet.by_model("zhimi.fan.za4").did}}
    if "did" in names:
        return {"path_parameters": {"did": fleet.by_model("chuangmi.plug.v3").did}}
    if "lesson_id" in names:
        return {"path_parameters": {"lesson_id": "fan-child-lock"}}
    return None


def _fuzz_all(app: Flask, token: str, fleet: Fleet, paths: str = "/api/v1/") -> list[str]:
    """Fuzz every operation under *paths*; return what failed, one entry per operation run."""
    loaded = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG)
    )
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    tried = 0
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), f"the document has a broken operation: {result}"
        operation = result.ok()
        if not operation.path.startswith(paths):
            continue
        tried += 1
        runs: list[tuple[str, GenerationMode, int, dict[str, Any]]] = [
            (mode.value, mode, count, {}) for mode, count in EXAMPLES.items()
        ]
        known = _known_ids(operation, fleet)
        if known is not None:
            runs.append(("known ids", GenerationMode.POSITIVE, KNOWN_EXAMPLES, known))
        for label, mode, count, fixed in runs:
            try:
                _fuzz(operation, mode, count, headers, fleet, **fixed)
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
                failures.append(f"{operation.label} [{label}]: {exc}")
    assert tried, f"no operation under {paths}"
    return failures


@pytest.mark.slow
def test_api_answers_every_generated_request_within_its_schema(
    fleet_app: Flask, fleet: Fleet, api_token: str
) -> None:
    failures = _fuzz_all(fleet_app, api_token, fleet)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_the_demo_api_answers_shop_staff_within_its_schema(store_app: Flask, fleet: Fleet) -> None:
    # On a shop the demo operations do real work: start, show a step, end, reset (loopback).
    web = Web(store_app.test_client())
    web.sign_in(store_app, STAFF, STAFF_PIN)
    page = web.post("/me", {"action": "token", "name": "fuzzer"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match, "the new token is shown once"
    failures = _fuzz_all(store_app, match.group(1), fleet, paths="/api/v1/demo/")
    assert not failures, "\n\n".join(failures)


def test_api_answers_odd_numbers_with_client_errors_not_server_errors(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    # each of these was a 500 before the fuzzer found it (SQLite overflow, int("²"))
    fleet_web.sign_in(fleet_app, "Mia")
    # a device id above 2**31 is a valid miIO id: stored and served on SQLite and PostgreSQL
    with unit_of_work(fleet_app.extensions["edu.engine"]) as session:
        home = session.exec(select(Household)).one()
        session.add(Device(household_id=key(home), did=3_000_000_000, ip="127.0.0.1"))
    assert fleet_web.api("GET", "/api/v1/devices/3000000000").get_json()["did"] == 3_000_000_000
    assert fleet_web.api("GET", f"/api/v1/devices/{2**31 + 5}").status_code == 404
    # PostgreSQL refuses NUL in text: names lose their control characters
    renamed = fleet_web.api("PATCH", "/api/v1/devices/3000000000", {"name": "Ket\x00tle\n"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Kettle"
    for did in (2**32, 2**64):
        for method in ("GET", "PATCH", "DELETE"):
            answer = fleet_web.api(method, f"/api/v1/devices/{did}", {"name": "x"})
            assert answer.status_code == 404 and answer.get_json()["error"] == "not-found"
    assert fleet_web.api("GET", "/api/v1/recommendations?limit=²").status_code == 200
    assert fleet_web.api("GET", "/api/v1/lessons/fan-child-lock?device=²").status_code == 200
    for device in ("²", 2**64, -1, True):
        answer = fleet_web.api("POST", "/api/v1/lessons/fan-child-lock/try", {"device": device})
        assert answer.status_code == 400 and answer.get_json()["error"] == "bad-input"
    # JSON Schema counts 7.0 as an integer, so the API takes it as one
    fan = fleet.by_model("zhimi.fan.za4")
    tried = fleet_web.api("POST", "/api/v1/lessons/fan-child-lock/try", {"device": float(fan.did)})
    assert tried.status_code == 200 and tried.get_json()["device"] == fan.did
