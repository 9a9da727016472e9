"""The JSON API: personal tokens, what each role sees, the actions, and the OpenAPI document."""

from __future__ import annotations

import re

from flask import Flask
from fleet_fixtures import miio_client
from sqlmodel import Session, select
from web_fixtures import Web

from devices.fleet import Fleet
from edu.models import ApiToken

STUDY_FAN = "zhimi.fan.za4"


def _new_token(web: Web) -> str:
    page = web.post("/me", {"action": "token", "name": "Home Assistant"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match, "the new token is shown once"
    return match.group(1)


def test_openapi_document_is_public_and_describes_every_api_route(app: Flask, web: Web) -> None:
    web.setup()
    web.sign_out()
    doc = web.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1") and doc["components"]["securitySchemes"]["bearer"]
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        if "{what}" in path:
            paths = [path.replace("{what}", "known"), path.replace("{what}", "later")]
        else:
            paths = [path]
        for method in rule.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            served.update((p, method) for p in paths)
    assert served == documented


def test_a_personal_token_works_once_shown_is_stored_hashed_and_can_be_revoked(
    app: Flask, web: Web
) -> None:
    web.setup()
    token = _new_token(web)
    assert token.startswith("fc_")
    assert token not in web.get("/me").get_data(as_text=True)  # shown only once
    with Session(app.extensions["edu.engine"]) as session:
        row = session.exec(select(ApiToken)).one()
        assert token not in (row.digest, row.hint) and row.hint == token[-4:]
        row_id = row.id
    web.sign_out()
    assert web.api("GET", "/api/v1/me", token=token).get_json()["name"] == "Mia"
    assert web.api("GET", "/api/v1/me", token="fc_wrong").status_code == 401
    assert web.api("GET", "/api/v1/me").status_code == 401
    assert web.api("GET", "/api/v1/tokens", token=token).get_json()[0]["hint"] == token[-4:]
    web.sign_in(app, "Mia")
    web.post("/me", {"action": "revoke", "token": str(row_id)})
    assert web.api("GET", "/api/v1/me", token=token).status_code == 401


def test_a_token_acts_without_csrf_but_only_for_its_owner(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    token = _new_token(fleet_web)
    fleet_web.sign_out()
    fan = fleet.by_model(STUDY_FAN)
    response = fleet_web.api(
        "POST", "/api/v1/lessons/fan-child-lock/try", {"device": fan.did}, token=token
    )
    outcome = response.get_json()
    assert (
        response.status_code == 200 and outcome["status"] == "changed" and outcome["after"] is True
    )
    assert miio_client(fan).status().child_lock is True
    progress = fleet_web.api("GET", "/api/v1/progress", token=token).get_json()
    assert "child-lock" in next(d for d in progress if d["device"] == fan.did)["in_use"]
    purifier = fleet.by_model("zhimi.airpurifier.v6")  # not Leo's
    assert fleet_web.api("GET", f"/api/v1/devices/{purifier.did}", token=token).status_code == 404
    assert (
        fleet_web.api(
            "POST",
            "/api/v1/lessons/air-purifier-child-lock/try",
            {"device": purifier.did},
            token=token,
        ).status_code
        == 404
    )
    assert fleet_web.api("GET", "/api/v1/household/progress", token=token).status_code == 403


def test_devices_api_gives_admins_everything_and_members_their_own(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    everything = fleet_web.api("GET", "/api/v1/devices").get_json()
    assert len(everything) == len(fleet.devices)
    assert all("token" not in row for row in everything)
    assert {row["status_words"] for row in everything} >= {"Working", "Not supported yet"}
    fleet_web.sign_in(fleet_app, "Leo")
    mine = fleet_web.api("GET", "/api/v1/devices").get_json()
    assert sorted(r["name"] for r in mine) == sorted(
        ["Study fan", "Bedroom fan", "Living room vacuum", "Kitchen ceiling light"]
    )


def test_admin_renames_removes_and_adds_devices_through_the_api(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    plug = fleet.by_model("chuangmi.plug.v3")
    renamed = fleet_web.api("PATCH", f"/api/v1/devices/{plug.did}", {"name": "Kettle"}).get_json()
    assert renamed["name"] == "Kettle"
    assert fleet_web.api("DELETE", f"/api/v1/devices/{plug.did}").get_json() == {
        "removed": plug.did
    }
    assert fleet_web.api("GET", f"/api/v1/devices/{plug.did}").status_code == 404
    added = fleet_web.api(
        "POST", "/api/v1/devices", {"ip": plug.ip, "token": plug.token, "name": "Plug"}
    )
    assert added.status_code == 201 and added.get_json()["status"] == "online"
    assert fleet_web.api("POST", "/api/v1/devices", {"ip": "x", "token": "y"}).status_code == 400


def test_recommendations_lessons_and_marks_through_the_api(
    fleet_web: Web, fleet_app: Flask
) -> None:
    fleet_web.sign_in(fleet_app, "Ana")
    items = fleet_web.api("GET", "/api/v1/recommendations?limit=3").get_json()
    assert len(items) == 3 and all(item["reason_text"] for item in items)
    lesson = fleet_web.api("GET", f"/api/v1/lessons/{items[0]['lesson']}").get_json()
    assert lesson["html"].startswith("<") and lesson["lang"] in ("zh-CN", "en")
    marked = fleet_web.api("POST", f"/api/v1/lessons/{items[0]['lesson']}/later").get_json()
    assert marked["state"] == "snoozed" and marked["until"]
    assert (
        fleet_web.api("POST", f"/api/v1/lessons/{items[1]['lesson']}/known").get_json()["state"]
        == "done"
    )
    after = [i["lesson"] for i in fleet_web.api("GET", "/api/v1/recommendations").get_json()]
    assert items[0]["lesson"] not in after and items[1]["lesson"] not in after
    assert fleet_web.api("GET", "/api/v1/lessons/nope").status_code == 404
    assert fleet_web.api("GET", "/api/v1/nope").get_json()["error"] == "not-found"


def test_scan_through_the_api_reports_progress(fleet_web: Web, fleet_app: Flask) -> None:
    fleet_web.sign_in(fleet_app, "Mia")
    started = fleet_web.api("POST", "/api/v1/devices/scan")
    assert started.status_code == 202 and started.get_json()["started"] is True
    fleet_app.extensions["edu.scans"].wait(20)
    state = fleet_web.api("GET", "/api/v1/devices/scan").get_json()
    assert state["phase"] == "done" and state["percent"] == 100
