"""Tips pages: the inbox with its unread count, tip settings and channels, one-click unsubscribe."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from tips_fixtures import ARRIVED, HttpReceiver, family_capabilities
from web_fixtures import Web

from edu.db import unit_of_work
from edu.models import Device, DeviceCapability, Person
from edu.tips import service
from edu.tips.links import unsubscribe_token
from edu.tips.models import TipChannel, TipPolicy
from edu.tips.run import run_tips

MONDAY_NOON = datetime(2025, 6, 2, 12, 0)


def with_a_fan(app: Flask, web: Web) -> int:
    """Set up the household (Mia, admin) with a fan; sign Mia in; return her id."""
    web.setup()
    engine = app.extensions["edu.engine"]
    mia = web.person_id(app, "Mia")
    with unit_of_work(engine) as session:
        person = session.get(Person, mia)
        assert person is not None
        fan = Device(
            household_id=person.household_id,
            did=1001,
            ip="127.0.0.1",
            family="fan",
            status="online",
            name="Bedroom fan",
            first_seen=ARRIVED,
        )
        session.add(fan)
        session.flush()
        for cap in family_capabilities("fan"):
            session.add(DeviceCapability(device_id=fan.id, capability=cap))  # type: ignore[arg-type]
    web.sign_in(app, "Mia")
    return mia


def test_the_inbox_shows_tips_and_the_header_counts_the_unread(app: Flask, web: Web) -> None:
    with_a_fan(app, web)
    home = web.get("/").get_data(as_text=True)
    assert 'href="/tips/"' in home and "unread" not in home
    report = run_tips(app.extensions["edu.engine"], app.config["EDU_SETTINGS"], MONDAY_NOON)
    (tip,) = report.tips
    page = web.get("/tips/").get_data(as_text=True)
    assert tip["title"] in page and f"/lessons/{tip['lesson']}" in page
    assert re.search(r'aria-label="1 unread">1</span>', page)
    item = re.search(r'action="/tips/(\d+)/read"', page)
    assert item is not None
    assert web.post(f"/tips/{item.group(1)}/read").status_code == 302
    assert "unread" not in web.get("/tips/").get_data(as_text=True)


def test_tip_settings_save_the_policy_and_mute_a_device(app: Flask, web: Web) -> None:
    mia = with_a_fan(app, web)
    page = web.post(
        "/tips/settings",
        {
            "action": "policy",
            "cadence": "weekly",
            "weekday": "fri",
            "at": "18:30",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "daily_cap": "1",
            "weekly_cap": "2",
            "mute": "1001",
        },
    )
    assert page.status_code == 302
    with unit_of_work(app.extensions["edu.engine"]) as session:
        person = session.get(Person, mia)
        assert person is not None
        view = service.policy_view(session, person)
    assert (view["cadence"], view["weekday"], view["at"], view["quiet_hours"]) == (
        "weekly",
        "fri",
        "18:30",
        "22:00-07:00",
    )
    assert view["muted_devices"] == [{"did": 1001, "name": "Bedroom fan"}]
    shown = web.get("/tips/settings").get_data(as_text=True)
    assert 'value="18:30"' in shown and 'value="1001" checked' in shown


def test_tip_settings_refuse_a_preferred_time_in_quiet_hours(app: Flask, web: Web) -> None:
    with_a_fan(app, web)
    page = web.post(
        "/tips/settings",
        {
            "action": "policy",
            "cadence": "daily",
            "at": "23:00",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
        },
    )
    assert page.status_code == 400 and "falls in the quiet hours" in page.get_data(as_text=True)
    with unit_of_work(app.extensions["edu.engine"]) as session:
        assert session.get(TipPolicy, web.person_id(app, "Mia")) is None


def test_a_channel_is_added_masked_tested_and_removed_from_the_page(
    app: Flask, web: Web, http_receiver: HttpReceiver
) -> None:
    with_a_fan(app, web)
    url = http_receiver.url("/hook/s3cret-token")
    assert web.post("/tips/settings", {"action": "channel", "url": url}).status_code == 302
    page = web.get("/tips/settings").get_data(as_text=True)
    assert "s3cret-token" not in page and "JSON" in page
    test = re.search(r'action="(/tips/channels/\d+/test)"', page)
    assert test is not None
    assert web.post(test.group(1)).status_code == 302
    assert http_receiver.wait_for(1) and http_receiver.requests[0]["path"] == "/hook/s3cret-token"
    assert "Test sent" in web.get("/tips/settings").get_data(as_text=True)
    bad = web.post("/tips/settings", {"action": "channel", "url": "nope://x"})
    assert bad.status_code == 400 and "cannot use" in bad.get_data(as_text=True)
    assert web.post(test.group(1).replace("/test", "/remove")).status_code == 302
    assert "/tips/channels/" not in web.get("/tips/settings").get_data(as_text=True)


def test_unsubscribe_works_without_signing_in_and_with_a_mail_clients_one_click_post(
    app: Flask, web: Web, http_receiver: HttpReceiver
) -> None:
    mia = with_a_fan(app, web)
    settings = app.config["EDU_SETTINGS"]
    with unit_of_work(app.extensions["edu.engine"]) as session:
        person = session.get(Person, mia)
        assert person is not None
        channel = service.add_channel(session, settings, person, http_receiver.url())
    stranger = app.test_client()  # no session, no CSRF token
    one_channel = unsubscribe_token(settings, mia, channel.id)
    landing = stranger.get(f"/tips/unsubscribe?token={one_channel}")
    assert landing.status_code == 200 and "Stop these tips?" in landing.get_data(as_text=True)
    done = stranger.post(
        f"/tips/unsubscribe?token={one_channel}", data={"List-Unsubscribe": "One-Click"}
    )
    assert done.status_code == 200 and "Unsubscribed" in done.get_data(as_text=True)
    with unit_of_work(app.extensions["edu.engine"]) as session:
        stored = session.get(TipChannel, channel.id)
        assert stored is not None and not stored.enabled
    everything = unsubscribe_token(settings, mia)
    assert stranger.post(f"/tips/unsubscribe?token={everything}").status_code == 200
    report = run_tips(app.extensions["edu.engine"], settings, MONDAY_NOON)
    assert report.sent == 0 and report.decisions["unsubscribed"] == 1
    assert stranger.get(f"/tips/unsubscribe?token={everything[:-3]}abc").status_code == 400
