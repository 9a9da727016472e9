"""An owner's tip goes from one home, through the hub's moderators, to another home's lesson page."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from home_fixtures import FAN_FEATURES, FAN_MODEL, LocalHome, make_home
from hub_fixtures import LiveHub, make_hub
from sqlmodel import Session, select
from web_fixtures import Web

from edu.community import link as community
from edu.community import tips as community_tips
from edu.db import unit_of_work
from edu.hub import moderators
from edu.hub import tips as hub_tips
from edu.models import Device, DeviceCapability, Household, Person

LESSON = "fan-natural-wind"
pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    # the hub lets tips link to one host more than the homes do (they allow mi.com only)
    live = LiveHub(
        make_hub(tmp_path / "tips-hub", min_homes=2, link_hosts=("mi.com", "example.org"))
    )
    yield live
    live.close()


@pytest.fixture
def author(tmp_path: Path) -> Iterator[LocalHome]:
    home = make_home(tmp_path, 1)
    yield home
    home.close()


def write_and_send(home: LocalHome, text: str) -> int:
    with Session(home.engine) as session:
        person = session.exec(select(Person)).one()
        ids = (person.household_id, person.id or 0)
    draft = community_tips.write(
        home.engine,
        household_id=ids[0],
        person_id=ids[1],
        model=FAN_MODEL,
        lesson=LESSON,
        lang="en",
        text=text,
    )
    return community_tips.send(home.engine, home.settings, draft)


def add_fan(app: Flask, did: int, features: tuple[str, ...] = FAN_FEATURES) -> None:
    """Give the reader's household a fan of the author's model."""
    with unit_of_work(app.extensions["edu.engine"]) as session:
        home = session.exec(select(Household)).one()
        device = Device(
            household_id=home.id or 0,
            did=did,
            ip=f"127.0.0.{did % 250 + 2}",
            name="Hall fan",
            model=FAN_MODEL,
            family="fan",
            status="online",
        )
        session.add(device)
        session.flush()
        for feature in features:
            session.add(
                DeviceCapability(device_id=device.id or 0, capability=feature, setting=feature)
            )


class HubPages:
    """A moderator in a browser-like client: real HTTP to the live hub, cookies kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.url + path, timeout=10) as answer:
            return str(answer.read().decode())

    def post(self, path: str, form: dict[str, str], page: str = "/hub/moderation/") -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(page))
        assert token is not None
        body = urllib.parse.urlencode({**form, "csrf_token": token.group(1)}).encode()
        with self.opener.open(self.url + path, data=body, timeout=10) as answer:
            return str(answer.read().decode())


def test_a_tip_moderated_on_the_hubs_pages_shows_as_markdown_in_another_home(
    hub: LiveHub, author: LocalHome, app: Flask, web: Web
) -> None:
    community.join(author.engine, author.settings, hub.url)
    sent = (
        "At night use **natural breeze** on `speed 1`.\n\n- quiet\n- cool\n\n"
        "[The manual](https://www.mi.com/global/support) and [mine](https://shop.example.org/)"
        " <script>alert(1)</script>"
    )
    hub_id = write_and_send(author, sent)
    web.setup()
    add_fan(app, 779)
    community.join(app.extensions["edu.engine"], app.config["EDU_SETTINGS"], hub.url)
    moderators.add_moderator(hub.engine, "Sam", "482915")

    pages = HubPages(hub.url)
    queue = pages.post(
        "/hub/moderation/signin",
        {"method": "pin", "name": "Sam", "pin": "482915"},
        page="/hub/moderation/signin",
    )
    assert "Signed in as Sam" in queue and "<strong>natural breeze</strong>" in queue
    assert "&lt;script&gt;" in queue and '<a href="https://shop.example.org/"' in queue
    fixed = sent.replace("At night", "At night,")
    done = pages.post(f"/hub/moderation/tips/{hub_id}", {"action": "edit", "text": fixed})
    assert "corrected and approved" in done and "Nothing to review" in done

    community.refresh_adoption(app.extensions["edu.engine"])
    page = web.get(f"/lessons/{LESSON}?device=779").get_data(as_text=True)
    assert "From other owners" in page and "At night, use" in page
    assert "<strong>natural breeze</strong>" in page and "<code>speed 1</code>" in page
    assert "<li>quiet</li>" in page
    assert '<a href="https://www.mi.com/global/support" rel="nofollow noopener noreferrer">' in page
    assert (
        'href="https://shop.example.org/' not in page and "mine (https://shop.example.org/)" in page
    )
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_tip_reaches_another_homes_lesson_page_only_after_approval(
    hub: LiveHub, author: LocalHome, app: Flask, web: Web
) -> None:
    community.join(author.engine, author.settings, hub.url)
    text = (
        "<script>alert(1)</script> At night, natural breeze on speed 1 feels like an open window."
    )
    hub_id = write_and_send(author, text)
    # the reader: a household on the page, with the same fan model
    web.setup()
    engine = app.extensions["edu.engine"]
    add_fan(app, 777)
    settings = app.config["EDU_SETTINGS"]
    community.join(engine, settings, hub.url)
    lesson_url = f"/lessons/{LESSON}?device=777"
    assert "natural breeze on speed 1" not in web.get(lesson_url).get_data(as_text=True)

    token = moderators.add_moderator(hub.engine, "Sam")
    moderator = hub.app.test_client()
    approved = moderator.post(
        f"/hub/v1/moderation/tips/{hub_id}",
        json={"action": "approve"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert approved.status_code == 200
    community.refresh_adoption(engine)
    page = web.get(lesson_url).get_data(as_text=True)
    assert "From other owners" in page and "natural breeze on speed 1" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page

    # the reader reports it; enough reports (3 homes) hide it until reviewed
    web.post(f"/community/tips/report/{hub_id}")
    with hub.engine.connect() as conn:
        flags = conn.execute(select(hub_tips.tip.c.flags)).scalar_one()  # type: ignore[call-overload]
    assert flags == 1


def test_a_tip_written_on_the_page_waits_for_the_admin_to_send_it(
    hub: LiveHub, app: Flask, web: Web
) -> None:
    web.setup()
    engine = app.extensions["edu.engine"]
    add_fan(app, 778, ("natural-wind",))
    lesson_url = f"/lessons/{LESSON}?device=778"
    assert "Write a tip" not in web.get(lesson_url).get_data(as_text=True)  # not joined: off
    web.post("/community/", {"action": "join", "hub": hub.url})
    assert "Write a tip" in web.get(lesson_url).get_data(as_text=True)
    web.post("/community/tips/write", {"lesson": LESSON, "device": "778", "text": "Try speed 1."})
    assert hub_tips.queue(hub.engine) == []  # never sent by itself
    page = web.get("/community/").get_data(as_text=True)
    assert "Try speed 1." in page and "Send to the hub" in page
    with Session(engine) as session:
        draft = community_tips.drafts(session)[0]
    web.post(f"/community/tips/{draft.id}/send")
    queued = hub_tips.queue(hub.engine)
    assert [(t.model, t.lesson, t.text) for t in queued] == [(FAN_MODEL, LESSON, "Try speed 1.")]
    assert "waiting for a moderator" in web.get("/community/").get_data(as_text=True)
