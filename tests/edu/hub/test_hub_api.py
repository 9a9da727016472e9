"""The hub's API: signed joins, reports and leaves; refusals in one line; adoption past k only."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hub_fixtures import Clock, Home, fan
from sqlalchemy import select

from edu.hub import store
from edu.hub.protocol import MAX_BODY, encode, message, new_key, sign


def homes(client: FlaskClient, clock: Clock, n: int) -> list[Home]:
    joined = [Home(client, clock) for _ in range(n)]
    for home in joined:
        assert home.join().status_code == 201
    return joined


def refused(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["error"] == code
    assert "\n" not in body["message"] and body["message"]


def test_adoption_is_published_only_once_k_homes_report_a_pair(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    first, second, third = homes(hub_client, hub_clock, 3)
    assert first.report([fan(using=("natural-breeze",))]).status_code == 200
    assert second.report([fan(using=())]).status_code == 200
    answer = hub_client.get("/hub/v1/adoption?model=zhimi.fan.za4")
    assert answer.status_code == 200 and answer.get_json() == []
    assert "public" in answer.headers["Cache-Control"]
    assert third.report([fan(using=("natural-breeze", "child-lock"))]).status_code == 200
    rows = hub_client.get("/hub/v1/adoption?model=zhimi.fan.za4").get_json()
    assert rows == [
        {"capability": "child-lock", "homes": 3, "using": 1},
        {"capability": "natural-breeze", "homes": 3, "using": 2},
        {"capability": "oscillation", "homes": 3, "using": 0},
    ]
    assert hub_client.get("/hub/v1/adoption?model=other.model").get_json() == []


def test_a_new_report_replaces_the_homes_previous_one(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    group = homes(hub_client, hub_clock, 3)
    for home in group:
        home.report([fan(using=())])
    group[0].report([fan(using=("oscillation",))])
    rows = {
        r["capability"]: r
        for r in hub_client.get("/hub/v1/adoption?model=zhimi.fan.za4").get_json()
    }
    assert rows["oscillation"] == {"capability": "oscillation", "homes": 3, "using": 1}


def test_leave_deletes_everything_the_home_sent(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    group = homes(hub_client, hub_clock, 3)
    for home in group:
        home.report([fan()])
    assert group[0].leave().status_code == 200
    engine = hub_app.extensions["hub.engine"]
    assert store.counts(engine) == {"homes": 2, "usage": 6, "lessons": 2}
    assert hub_client.get("/hub/v1/adoption?model=zhimi.fan.za4").get_json() == []
    refused(group[0].report([fan()]), 401, "not-joined")


def test_unsigned_missigned_and_foreign_signed_reports_are_refused(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    (home,) = homes(hub_client, hub_clock, 1)
    body = home.body("report", [fan()])
    refused(home.post("report", body, signature=None), 401, "unsigned")
    refused(home.post("report", body, signature="not-base64!"), 401, "bad-signature")
    refused(home.post("report", body, signature=sign(new_key(), body)), 401, "bad-signature")
    tampered = body.replace(b'"natural-breeze"\n', b'"oscillation"\n', 1)
    refused(home.post("report", tampered, signature=sign(home.key, body)), 401, "bad-signature")
    assert home.post("report", body).status_code == 200


def test_replayed_and_stale_reports_are_refused(hub_client: FlaskClient, hub_clock: Clock) -> None:
    (home,) = homes(hub_client, hub_clock, 1)
    body = home.body("report", [fan()])
    assert home.post("report", body).status_code == 200
    refused(home.post("report", body), 409, "replayed")
    old = encode(message(home.key, "report", 99, int(hub_clock().timestamp()) - 3600, [fan()]))
    refused(home.post("report", old), 400, "stale")
    ahead = encode(message(home.key, "report", 99, int(hub_clock().timestamp()) + 3600, [fan()]))
    refused(home.post("report", ahead), 400, "stale")


def test_a_home_is_rate_limited_per_key_and_may_send_again_an_hour_later(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    (home,) = homes(hub_client, hub_clock, 1)
    for _ in range(5):
        assert home.report([fan()]).status_code == 200
    refused(home.report([fan()]), 429, "rate-limited")
    (other,) = homes(hub_client, hub_clock, 1)
    assert other.report([fan()]).status_code == 200
    hub_clock.advance(hours=1, seconds=1)
    assert home.report([fan()]).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Living room fan"},  # an extra field: nothing rides along
        {"models": [{**fan(), "did": 123456789}]},
        {"models": [{**fan(), "model": "Zhimi Fan"}]},
        {"models": [{**fan(), "in_use": ["not-a-capability-it-has"]}]},
        {"models": [fan(), fan()]},
        {"seq": "1"},
        {"sent_at": True},
        {"key": "abc"},
        {"type": "hello"},
        {"models": [{**fan(), "capabilities": ["192.168.1.7 "]}]},
    ],
)
def test_malformed_reports_are_refused_in_one_line(
    hub_client: FlaskClient, hub_clock: Clock, change: dict[str, object]
) -> None:
    (home,) = homes(hub_client, hub_clock, 1)
    data = message(home.key, "report", 1, int(hub_clock().timestamp()), [fan()])
    body = encode({**data, **change})
    refused(home.post("report", body), 400, "malformed")


def test_bodies_that_are_not_json_or_too_large_are_refused(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    (home,) = homes(hub_client, hub_clock, 1)
    refused(home.post("report", b"\xff\xfe not json"), 400, "malformed")
    refused(home.post("report", b"[1, 2]"), 400, "malformed")
    big = encode({**message(home.key, "report", 1, 0, []), "pad": "x" * MAX_BODY})
    refused(home.post("report", big), 413, "too-large")
    refused(home.post("report", home.body("leave")), 400, "malformed")


def test_the_hub_keeps_no_sender_address_in_tables_or_logs(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    @hub_app.before_request
    def _look() -> None:
        seen.append(str(request.remote_addr) + str(request.headers.get("X-Forwarded-For")))

    home = Home(hub_client, hub_clock)
    home.client.environ_base = {"REMOTE_ADDR": "127.0.0.93", "HTTP_X_FORWARDED_FOR": "127.0.0.94"}
    assert home.join().status_code == 201
    assert home.report([fan()]).status_code == 200
    home.post("report", home.body("report", [fan()]), signature=None)
    hub_client.get("/hub/v1/adoption?model=x", environ_base={"REMOTE_ADDR": "127.0.0.93"})
    assert len(seen) == 4 and not any("127.0.0.9" in s for s in seen)
    engine = hub_app.extensions["hub.engine"]
    with engine.connect() as conn:
        dump = json.dumps(
            [[list(r) for r in conn.execute(select(t))] for t in store.METADATA.sorted_tables],
            default=str,
        )
    assert "127.0.0.9" not in dump
    assert "127.0.0.9" not in caplog.text


def test_the_public_page_draws_a_bar_per_published_feature(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    for n, home in enumerate(homes(hub_client, hub_clock, 3)):
        home.report([fan(using=("natural-breeze",) if n else ())])
    index = hub_client.get("/hub/").get_data(as_text=True)
    assert "zhimi.fan.za4" in index and "fan" in index
    page = hub_client.get("/hub/models/zhimi.fan.za4")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in text
    assert text.count('class="bar"') == 3
    assert "67% (2/3)" in text
    assert hub_client.get("/hub/models/unknown.model").status_code == 404


def test_the_openapi_document_names_every_endpoint(hub_client: FlaskClient) -> None:
    doc = hub_client.get("/hub/v1/openapi.json").get_json()
    assert set(doc["paths"]) == {
        "/hub/v1/join",
        "/hub/v1/report",
        "/hub/v1/leave",
        "/hub/v1/adoption",
        "/hub/v1/openapi.json",
        "/hub/v1/tips",
        "/hub/v1/tips/flag",
        "/hub/v1/moderation/queue",
        "/hub/v1/moderation/tips/{tip_id}",
        "/hub/v1/shops/report",
        "/hub/v1/shops/asked",
    }
    assert doc["components"]["schemas"]["Report"]["additionalProperties"] is False
