"""Secrets stay secret and typed text stays text: token grep over every route, XSS corpus."""

from __future__ import annotations

import json
import logging
import re
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from web_fixtures import PINS, Web, close_app, make_app, settings_for
from xss_fixtures import MARKUP_XSS, XSS, assert_inert

from devices.fleet import Fleet


def _urls(app: Flask, dids: list[int], people: list[int], lessons: list[str]) -> list[str]:
    """Every GET route of the app, with each placeholder filled with real values."""
    values = {
        "did": [str(d) for d in dids],
        "person_id": [str(p) for p in people],
        "lesson_id": lessons,
        "filename": ["style.css", "app.js"],
    }
    urls: list[str] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        variants = [rule.rule]
        for name in rule.arguments:
            variants = [
                re.sub(rf"<(?:[a-z]+:)?{name}>", value, v)
                for v in variants
                for value in values.get(name, ["1", "not-a-thing"])
            ]
        urls.extend(variants)
    return urls


def _fleet_tokens(fleet: Fleet) -> list[str]:
    return [t for d in fleet.devices for t in (d.token, d.token.upper())]


def test_no_device_token_appears_in_any_page_or_api_response(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = _fleet_tokens(fleet)
    dids = [d.did for d in fleet.devices]
    people = [fleet_web.person_id(fleet_app, name) for name in PINS]
    fan = fleet.by_model("zhimi.fan.za4")
    checked = 0
    for name in (None, *PINS):
        if name is None:
            fleet_web.sign_out()
        else:
            fleet_web.sign_in(fleet_app, name)
        lessons = ["fan-child-lock", "no-such-lesson"]
        if name is not None:
            lessons += [
                r["lesson"]
                for r in fleet_web.api("GET", "/api/v1/recommendations?limit=5").get_json()
            ]
        for url in _urls(fleet_app, dids, people, lessons):
            response = fleet_web.get(url, query_string={"device": fan.did})
            body = response.get_data(as_text=True)
            response.close()
            assert not [t for t in tokens if t in body], url
            checked += 1
    # the answers to forms that carry a token do not echo it either
    fleet_web.sign_in(fleet_app, "Mia")
    for ip, token in ((fan.ip, fan.token), (fan.ip, tokens[2]), ("127.0.0.2", fan.token)):
        for response in (
            fleet_web.post("/devices/add", {"ip": ip, "token": token}, follow_redirects=True),
            fleet_web.api("POST", "/api/v1/devices", {"ip": ip, "token": token}),
        ):
            assert token not in response.get_data(as_text=True)
    fleet_web.post("/lessons/fan-child-lock/try", {"device": str(fan.did)}, follow_redirects=True)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("miio"))
    assert not [t for t in tokens if t in logged]
    assert checked > 200


def test_typed_text_is_escaped_everywhere_it_is_shown(fleet: Fleet, tmp_path: Path) -> None:
    app = make_app(settings_for(tmp_path / "xss", (fleet.network,)))
    web = Web(app.test_client())
    assert web.setup(name=XSS[0], admin="Mia").status_code == 302
    fan = fleet.by_model("zhimi.fan.za4")
    web.post("/devices/add", {"ip": fan.ip, "token": fan.token, "name": XSS[1]})
    # a token file whose device names are payloads
    entries = [
        {
            "did": str(d.did),
            "token": d.token,
            "localip": d.ip,
            "name": XSS[i % len(XSS)],
            "model": d.model,
        }
        for i, d in enumerate(fleet.devices)
        if d.provisioned
    ]
    web.post(
        "/devices/import",
        {"file": (BytesIO(json.dumps(entries).encode()), "t.json")},
        content_type="multipart/form-data",
    )
    for index, payload in enumerate(XSS):
        name = f"P{index}{payload}"[:60]
        response = web.post(
            "/people",
            {
                "name": name,
                "role": "member",
                "language": "en",
                "pin": "2345",
                "pin_again": "2345",
                "all": "1",
            },
        )
        assert response.status_code == 302, payload
        web.post("/me", {"action": "token", "name": payload})
    echoed = [
        web.post("/devices/add", {"ip": XSS[0], "token": "0" * 32, "name": XSS[1]}),
        web.post("/setup", {"name": XSS[2]}),
        web.post("/people", {"name": XSS[3], "pin": "1"}),
    ]
    lessons = [r["lesson"] for r in web.api("GET", "/api/v1/recommendations?limit=5").get_json()]
    from sqlmodel import Session, select

    from edu.community.data import CommunityTip
    from edu.db import unit_of_work
    from edu.models import Person

    with Session(app.extensions["edu.engine"]) as session:
        people = [p.id for p in session.exec(select(Person)) if p.id is not None]
    # tips from other owners under each lesson page of the fan: payloads and hostile Markdown
    with unit_of_work(app.extensions["edu.engine"]) as session:
        for number, payload in enumerate(XSS + MARKUP_XSS):
            for lesson in lessons:
                session.add(
                    CommunityTip(
                        hub_id=number, model=fan.model, lesson=lesson, lang="en", text=payload
                    )
                )
    pages = []
    for url in _urls(app, [d.did for d in fleet.devices], people, lessons):
        response = web.get(url, query_string={"device": fan.did})
        pages.append((url, response.mimetype, response.get_data(as_text=True)))
        response.close()
    web.sign_out()
    pages += [
        (r.request.path, r.mimetype, r.get_data(as_text=True))
        for r in (*echoed, web.get("/signin"))
    ]
    shown = 0
    for url, mimetype, body in pages:
        if mimetype != "text/html":
            continue
        for payload in XSS:
            if "<" in payload:
                assert payload not in body, (url, payload)
        assert "onerror=alert" not in body.replace("onerror=alert(1)&gt;", "")
        shown += body.count("&lt;script&gt;")
    assert shown > 5  # the payloads were shown back, escaped
    # each tip as rendered, up to its Report button
    shown_tips = [
        rendered
        for _url, _mimetype, body in pages
        for rendered in re.findall(r'<blockquote class="owner-tip"[^>]*>(.*?)<form ', body, re.S)
    ]
    assert len(shown_tips) >= len(XSS + MARKUP_XSS)
    for rendered in shown_tips:
        assert_inert(rendered)
    close_app(app)


def test_an_id_past_its_columns_range_is_not_found_on_every_route(
    fleet_web: Web, fleet_app: Flask
) -> None:
    # SQLite cannot bind such a number and PostgreSQL refuses it: it must never reach a query.
    fleet_web.sign_in(fleet_app, "Mia")
    huge = [str(2**31), str(2**32), "9" * 40]
    for n in huge:
        for method, url in (
            ("GET", f"/people/{n}"),
            ("POST", f"/people/{n}"),
            ("POST", f"/tips/channels/{n}/test"),
            ("POST", f"/tips/channels/{n}/remove"),
        ):
            answer = fleet_web.client.open(
                url, method=method, data={"csrf_token": fleet_web.csrf()}
            )
            assert answer.status_code == 404, (method, url, answer.status_code)
        read = fleet_web.post(f"/tips/{n}/read")  # marking no tip read: back to the inbox
        assert read.status_code == 302 and read.headers["Location"].endswith("/tips/")
        signed_out = Web(fleet_app.test_client())
        unknown = signed_out.get(f"/signin/{n}")  # no such profile: back to the list
        assert unknown.status_code == 302 and unknown.headers["Location"].endswith("/signin")
    for n in huge[1:]:  # 2**31 is a valid miIO device id; these are not
        for method, url in (
            ("GET", f"/devices/{n}"),
            ("POST", f"/devices/{n}"),
            ("GET", f"/demo/device/{n}"),
            ("GET", f"/api/v1/devices/{n}"),
            ("DELETE", f"/api/v1/devices/{n}"),
            ("GET", f"/api/v1/demo/devices/{n}"),
        ):
            answer = fleet_web.client.open(
                url,
                method=method,
                data={"csrf_token": fleet_web.csrf()},
                headers={"X-CSRF-Token": fleet_web.csrf()},
            )
            assert answer.status_code == 404, (method, url, answer.status_code)
