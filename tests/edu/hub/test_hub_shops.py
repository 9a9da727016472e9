"""Shop reports on the hub, in-process: strict checks, published only past k, leaving deletes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hub_fixtures import Clock, Home
from werkzeug.test import TestResponse

from edu.hub import shops
from edu.hub.protocol import MAX_BODY, MAX_COUNT, WEEK, encode, message, new_key, sign

MODEL = "zhimi.fan.za4"


def feature(capability: str = "oscillation", **counts: int) -> dict[str, Any]:
    return {"capability": capability, "shown": 3, "demos": 2, "sales": 1, "kiosk": 0} | counts


def fan(*features: dict[str, Any]) -> dict[str, Any]:
    return {"model": MODEL, "family": "fan", "features": list(features) or [feature()]}


class Shop(Home):
    """A shop as the hub sees it: a home's key and sequence, sending shop reports."""

    def shop_body(
        self, models: list[dict[str, Any]], change: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.seq += 1
        sent_at = int(self.clock().timestamp())
        body = message(self.key, "shop-report", self.seq, sent_at, models, since=sent_at - WEEK)
        return body | (change or {})

    def send(
        self, models: list[dict[str, Any]], change: dict[str, Any] | None = None
    ) -> TestResponse:
        return self.post("shops/report", encode(self.shop_body(models, change)))


@pytest.fixture
def shops_joined(hub_client: FlaskClient, hub_clock: Clock) -> list[Shop]:
    joined = [Shop(hub_client, hub_clock) for _ in range(3)]
    for shop in joined:
        assert shop.join().status_code == 201
    return joined


def test_shop_figures_are_published_only_once_k_shops_report_a_feature(
    hub_client: FlaskClient, shops_joined: list[Shop]
) -> None:
    first, second, third = shops_joined  # the test hub's k is 3
    url = f"/hub/v1/shops/asked?model={MODEL}"
    read_only = feature("child-lock", shown=0, demos=0, sales=0, kiosk=4)
    assert first.send([fan(feature(), read_only)]).get_json()["rows"] == 2
    answer = second.send([fan(feature(shown=5, demos=4, sales=3))])
    assert answer.status_code == 200 and answer.get_json()["rows"] == 1
    assert hub_client.get(url).get_json() == []
    assert hub_client.get(f"/hub/shops/models/{MODEL}").status_code == 404
    assert third.send([fan(feature(shown=1, demos=1, sales=0))]).status_code == 200

    answer = hub_client.get(url)
    assert answer.headers["Cache-Control"].startswith("public, max-age=")
    assert answer.get_json() == [
        {"capability": "oscillation", "shops": 3, "shown": 9, "demos": 7, "sales": 4, "kiosk": 0}
    ]  # child lock: one shop only, never published
    page = hub_client.get(f"/hub/shops/models/{MODEL}").get_data(as_text=True)
    assert "features customers ask to see" in page and "<svg" in page
    assert "4 of 7 demos" in page and "Child lock" not in page
    assert MODEL in hub_client.get("/hub/shops/").get_data(as_text=True)
    assert "/hub/shops/" in hub_client.get("/hub/").get_data(as_text=True)
    # a new week replaces the shop's last one: the sums follow
    assert third.send([fan(feature(shown=2, demos=2, sales=2))]).status_code == 200
    assert hub_client.get(url).get_json()[0]["sales"] == 6


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"shop": "Corner Electronics"}, "a shop-report message has exactly"),
        ({"version": 2}, "version 1"),
        ({"version": True}, "version 1"),
        ({"since": 0}, "at most the week"),
        ({"models": [fan(feature() | {"staff": "Sam"})]}, "each feature has exactly"),
        ({"models": [fan() | {"name": "Window fan"}]}, "each model has exactly"),
        ({"models": [fan(feature(sales=3))]}, "sales <= demos <= shown"),
        ({"models": [fan(feature(demos=4))]}, "sales <= demos <= shown"),
        ({"models": [fan(feature(shown=0, demos=0, sales=0))]}, "something shown or read"),
        ({"models": [fan(feature(kiosk=-1))]}, "kiosk must be a whole number"),
        ({"models": [fan(feature(kiosk=MAX_COUNT + 1))]}, "kiosk must be a whole number"),
        ({"models": [fan(feature(shown=True))]}, "shown must be a whole number"),
        ({"models": [fan(feature(), feature())]}, "once per model"),
        ({"models": [fan(), fan()]}, "each model may appear once"),
        ({"models": [{"model": MODEL, "family": "fan", "features": []}]}, "1 to"),
        ({"models": [fan(feature("Child Lock"))]}, "lower-case id"),
        ({"models": [fan() | {"model": "192.168.1.7 fan"}]}, "lower-case model id"),
    ],
)
def test_a_malformed_shop_report_is_refused_in_one_line(
    shops_joined: list[Shop], change: dict[str, Any], words: str
) -> None:
    answer = shops_joined[0].send([fan()], change)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "malformed" and words in body["message"]
    assert "\n" not in body["message"]


def test_forged_replayed_misrouted_and_oversized_shop_reports_are_refused(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock, shops_joined: list[Shop]
) -> None:
    shop = shops_joined[0]
    body = encode(shop.shop_body([fan()]))
    assert shop.post("shops/report", body, sign(new_key(), body)).get_json()["error"] == (
        "bad-signature"
    )
    assert shop.post("shops/report", body, None).get_json()["error"] == "unsigned"
    assert shop.post("shops/report", body).status_code == 200
    replay = shop.post("shops/report", body)
    assert (replay.status_code, replay.get_json()["error"]) == (409, "replayed")
    # a shop report is not a household report, nor the other way round
    wrong = shop.post("report", encode(shop.shop_body([fan()])))
    assert wrong.status_code == 400 and "takes a report message" in wrong.get_json()["message"]
    stranger = Shop(hub_client, hub_clock)  # never joined
    assert stranger.send([fan()]).get_json()["error"] == "not-joined"
    hub_clock.advance(hours=1)
    stale = encode(shop.shop_body([fan()]))
    hub_clock.advance(hours=1)
    assert shop.post("shops/report", stale).get_json()["error"] == "stale"
    big = shop.shop_body([fan()]) | {"padding": "x" * MAX_BODY}
    assert shop.post("shops/report", encode(big)).status_code == 413
    assert shops.count(hub_app.extensions["hub.engine"]) == 1


def test_a_shop_that_leaves_takes_its_figures_with_it(
    hub_app: Flask, hub_client: FlaskClient, shops_joined: list[Shop]
) -> None:
    for shop in shops_joined:
        assert shop.send([fan()]).status_code == 200
    url = f"/hub/v1/shops/asked?model={MODEL}"
    assert hub_client.get(url).get_json()[0]["shops"] == 3
    assert shops_joined[0].leave().status_code == 200
    assert shops.count(hub_app.extensions["hub.engine"]) == 2
    assert hub_client.get(url).get_json() == []
    assert shops_joined[0].send([fan()]).get_json()["error"] == "not-joined"


def test_the_asked_endpoint_needs_a_model_and_the_document_lists_the_shop_api(
    hub_client: FlaskClient,
) -> None:
    for url in ("/hub/v1/shops/asked", "/hub/v1/shops/asked?model=" + "x" * 81):
        answer = hub_client.get(url)
        assert answer.status_code == 400 and answer.get_json()["error"] == "bad-input"
    paths = hub_client.get("/hub/v1/openapi.json").get_json()["paths"]
    assert {"/hub/v1/shops/report", "/hub/v1/shops/asked"} <= set(paths)
    assert hub_client.get("/hub/shops/models/NOT A MODEL").status_code == 404
    assert json.loads(hub_client.get("/hub/v1/shops/asked?model=nobody.fan.x").data) == []
