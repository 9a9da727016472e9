"""Every page and API GET, as each role, holds no token, no PIN, no one else's data, no other device."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo_fixtures import MANAGER_PIN, STAFF, STAFF_PIN
from flask import Flask
from sqlmodel import Session, select
from web_fixtures import MEMBER_DEVICES, PINS, Web

from devices.fleet import Fleet
from edu.catalogue import catalogue
from edu.models import Device, Person

HEX_RUN = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32}(?![0-9a-fA-F])")
ANA_HOOK = "ana-private-hook.example"  # the host of Ana's own tip channel


@dataclass
class Household:
    """What the walk fills URLs with, and what it looks for in the answers."""

    app: Flask
    devices: dict[int, tuple[str, str]]  # did -> (name, family)
    people: dict[str, int]
    lessons: list[str]
    static: list[str]
    secrets: list[str] = field(default_factory=list)  # never in any answer


def _household(app: Flask, fleet: Fleet, pins: Iterable[str]) -> Household:
    with Session(app.extensions["edu.engine"]) as session:
        devices = {d.did: (d.display_name, d.family or "") for d in session.exec(select(Device))}
        people = {p.name: p.id or 0 for p in session.exec(select(Person))}
    static = sorted(p.name for p in Path(app.static_folder or "").iterdir())
    tokens = [d.token for d in fleet.devices] + [d.token.upper() for d in fleet.devices]
    return Household(app, devices, people, catalogue().ids(), static, [*tokens, *pins])


def _urls(home: Household) -> Iterator[str]:
    """Every GET route of the app, with each of its ids filled from the household."""
    values: dict[str, list[str]] = {
        "did": [str(did) for did in home.devices],
        "lesson_id": home.lessons,
        "person_id": [str(pid) for pid in home.people.values()],
        "filename": home.static,
    }
    for rule in home.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        names = sorted(rule.arguments)
        for combo in itertools.product(*(values[name] for name in names)):
            args = dict(zip(names, combo, strict=True))
            if "did" in args and "lesson_id" in args:  # one device's features only
                family = home.devices[int(args["did"])][1]
                if not args["lesson_id"].startswith(f"{family}-"):
                    continue
            url = rule.rule
            for name, value in args.items():
                url = re.sub(rf"<(?:[a-z]+:)?{name}>", value, url)
            yield url


def _dids_in(data: Any) -> Iterator[int]:
    if isinstance(data, dict):
        for name, value in data.items():
            if name == "did" and isinstance(value, int):
                yield value
            else:
                yield from _dids_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from _dids_in(item)


def _walk(
    home: Household,
    web: Web,
    allowed: set[int],
    private: Iterable[str] = (),
    skip: str = "/never/",
) -> dict[str, int]:
    """GET every URL (but those under *skip*) as *web*; check each answer; return each status."""
    statuses: dict[str, int] = {}
    forbidden_names = [name for did, (name, _f) in home.devices.items() if did not in allowed]
    pin_patterns = [
        re.compile(rf"(?<!\d){re.escape(p)}(?!\d)") for p in home.secrets if p.isdigit()
    ]
    words = [s for s in home.secrets if not s.isdigit()] + list(private)
    for url in _urls(home):
        if url.startswith(skip):
            continue
        answer = web.get(url)
        statuses[url] = answer.status_code
        assert answer.status_code < 500, url
        text = answer.get_data(as_text=True)
        answer.close()
        assert [w for w in words if w in text] == [], url
        assert [p.pattern for p in pin_patterns if p.search(text)] == [], url
        assert HEX_RUN.search(text) is None, url
        assert [n for n in forbidden_names if n in text] == [], url
        if answer.is_json:
            assert set(_dids_in(json.loads(text))) <= allowed, url
    return statuses


def _browser(app: Flask, address: str) -> Web:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Web(client)


def test_every_page_and_api_get_as_admin_member_and_visitor(fleet: Fleet, fleet_app: Flask) -> None:
    from edu.services import accounts
    from edu.tips import service

    home = _household(fleet_app, fleet, PINS.values())
    with fleet_app.test_request_context():
        from edu.web.session import db, settings

        ana = db().exec(select(Person).where(Person.name == "Ana")).one()
        service.add_channel(db(), settings(), ana, f"json://{ANA_HOOK}/ana-hook")
        _row, ana_token = accounts.create_token(db(), ana, "Ana's phone")
        db().commit()
    private = [ANA_HOOK, ana_token, "Ana's phone"]
    everything = set(home.devices)
    leos = {did for did, (name, _f) in home.devices.items() if name in MEMBER_DEVICES["Leo"]}
    assert len(leos) == len(MEMBER_DEVICES["Leo"])

    admin = _browser(fleet_app, "127.0.0.81")
    assert admin.sign_in(fleet_app, "Mia").status_code == 302
    seen = _walk(home, admin, everything, private)
    assert seen["/devices/"] == 200 and seen["/people"] == 200 and seen["/api/v1/devices"] == 200
    assert len(seen) > 3 * len(home.lessons) + 4 * len(home.devices)  # every route, every id

    member = _browser(fleet_app, "127.0.0.82")
    assert member.sign_in(fleet_app, "Leo").status_code == 302
    seen = _walk(home, member, leos, private)
    assert seen["/tips/settings"] == 200 and seen["/devices/"] == 403
    assert seen["/api/v1/devices"] == 200 and seen["/api/v1/me"] == 200

    visitor = _browser(fleet_app, "127.0.0.83")
    seen = _walk(home, visitor, set(), private)
    assert seen["/signin"] == 200 and seen["/"] == 302 and seen["/api/v1/devices"] == 401


def test_every_page_and_api_get_as_staff_and_kiosk(fleet: Fleet, store_app: Flask) -> None:
    home = _household(store_app, fleet, [STAFF_PIN, MANAGER_PIN])
    store = set(home.devices)
    staff = _browser(store_app, "127.0.0.84")
    assert staff.sign_in(store_app, STAFF, STAFF_PIN).status_code == 302
    seen = _walk(home, staff, store, skip="/demo/kiosk")  # opening the kiosk signs staff out
    assert seen["/demo/"] == 200 and seen["/api/v1/demo/devices"] == 200

    kiosk = _browser(store_app, "127.0.0.85")
    assert kiosk.sign_in(store_app, STAFF, STAFF_PIN).status_code == 302
    assert kiosk.get("/demo/kiosk").status_code == 200  # signs staff out, holds the browser
    seen = _walk(home, kiosk, store)
    assert seen["/demo/kiosk"] == 200 and seen["/demo/"] == 302
    assert seen["/api/v1/devices"] in (401, 403)
    assert any(url.startswith("/demo/kiosk/") and code == 200 for url, code in seen.items())
