"""A demo that ends with "the customer wants to buy": the tap on the board, in the API, in the log."""

from __future__ import annotations

import re
from typing import Any

from demo_fixtures import MANAGER, MANAGER_PIN, SHOP, STAFF, STAFF_PIN
from flask import Flask
from hub_fixtures import LiveHub
from sqlmodel import Session, select
from web_fixtures import Web

from devices.fleet import Fleet
from edu.models import Person
from edu.store.models import DemoSession, StaffAction

FAN = "Study fan"


def _fan(fleet: Fleet) -> Any:
    return next(d for d in fleet.devices if d.name == FAN)


def _token(web: Web, app: Flask) -> str:
    assert web.sign_in(app, STAFF, STAFF_PIN).status_code == 302
    page = web.post("/me", {"action": "token", "name": "tablet"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match
    return match.group(1)


def _demos(app: Flask) -> list[tuple[bool, str]]:
    with Session(app.extensions["edu.engine"]) as session:
        rows = session.exec(select(DemoSession).order_by(DemoSession.id)).all()
        return [(row.sale_intent, row.end_reason) for row in rows]


def _log(app: Flask) -> list[str]:
    with Session(app.extensions["edu.engine"]) as session:
        return [row.action for row in session.exec(select(StaffAction).order_by(StaffAction.id))]


def test_staff_end_a_demo_as_a_sale_intent_on_the_board_and_the_fan_is_put_back(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    fan = _fan(fleet)
    before = fan.state()
    assert store_web.sign_in(store_app, STAFF, STAFF_PIN).status_code == 302
    store_web.post(f"/demo/device/{fan.did}/start")
    page = store_web.get(f"/demo/device/{fan.did}").get_data(as_text=True)
    assert "Customer wants to buy</button>" in page and 'value="sale"' in page
    store_web.post(f"/demo/device/{fan.did}/show/fan-oscillation")
    assert fan.state()["angle_enable"] == "on"

    ended = store_web.post(f"/demo/device/{fan.did}/end", {"intent": "sale"})
    assert ended.status_code == 302 and ended.headers["Location"].endswith("/demo/")
    board = store_web.get("/demo/").get_data(as_text=True)
    assert "Counted: the customer wants to buy the Study fan." in board
    assert _demos(store_app) == [(True, "ended")]
    assert fan.state() == before  # the intent does not skip the restore
    assert _log(store_app)[-2:] == ["sale-intent", "end-demo"]
    log = store_web.get("/demo/log").get_data(as_text=True)
    assert "Customer wants to buy" in log
    figures = store_web.get("/demo/analytics").get_data(as_text=True)
    assert re.search(
        r'tile-figure">1</span><span class="tile-label">Ended with the customer', figures
    )

    # a plain end is no sale intent; and there is no intent without a running demo
    store_web.post(f"/demo/device/{fan.did}/start")
    store_web.post(f"/demo/device/{fan.did}/end")
    assert _demos(store_app) == [(True, "ended"), (False, "ended")]
    refused = store_web.post(f"/demo/device/{fan.did}/end", {"intent": "sale"})
    assert refused.headers["Location"].endswith(f"/demo/device/{fan.did}")
    assert len(_demos(store_app)) == 2 and _log(store_app).count("sale-intent") == 1


def test_the_api_ends_a_demo_as_a_sale_intent_and_refuses_a_bad_flag(
    store_web: Web, store_app: Flask, fleet: Fleet
) -> None:
    fan = _fan(fleet)
    before = fan.state()
    token = _token(store_web, store_app)
    client = Web(store_app.test_client())

    def call(method: str, url: str, body: Any = None) -> Any:
        return client.api(method, url, body, token=token)

    end = f"/api/v1/demo/devices/{fan.did}/end"
    not_running = call("POST", end, {"sale_intent": True})
    assert not_running.status_code == 409 and not_running.get_json()["error"] == "not-running"
    call("POST", f"/api/v1/demo/devices/{fan.did}/start")
    call("POST", f"/api/v1/demo/devices/{fan.did}/show", {"lesson": "fan-oscillation"})
    for bad in ({"sale_intent": "yes"}, {"sale_intent": 1}, {"sale_intent": None}):
        answer = call("POST", end, bad)
        assert answer.status_code == 400 and answer.get_json()["error"] == "bad-input", bad
    assert _demos(store_app) == [(False, "")]  # still running: a refused flag ends nothing
    ended = call("POST", end, {"sale_intent": True})
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["ok"] and "back to normal" in ended.get_json()["message"]
    assert _demos(store_app) == [(True, "ended")]
    assert fan.state() == before
    document = call("GET", "/api/v1/openapi.json").get_json()
    body = document["paths"]["/api/v1/demo/devices/{did}/end"]["post"]["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"]["properties"] == {
        "sale_intent": {"type": "boolean"}
    }


def test_a_shops_community_page_previews_the_shop_report_in_both_languages(
    store_web: Web, store_app: Flask, live_hub: LiveHub
) -> None:
    assert store_web.sign_in(store_app, MANAGER, MANAGER_PIN).status_code == 302
    page = store_web.get("/community/").get_data(as_text=True)
    assert 'id="community-shop"' in page and "ended with the customer wanting to buy" in page
    joined = store_web.post("/community/", {"action": "join", "hub": live_hub.url})
    assert joined.status_code == 302
    page = store_web.get("/community/").get_data(as_text=True)
    preview = page.split('<pre id="community-preview">', 1)[1].split("</pre>", 1)[0]
    assert "&#34;type&#34;: &#34;shop-report&#34;" in preview
    for secret in (SHOP, STAFF, MANAGER, STAFF_PIN, MANAGER_PIN):
        assert secret not in preview
    with Session(store_app.extensions["edu.engine"]) as session, session.begin():
        session.exec(select(Person).where(Person.name == MANAGER)).one().language = "zh-CN"
    page = store_web.get("/community/").get_data(as_text=True)
    assert "这是一家门店" in page and "顾客想看的功能" in page
