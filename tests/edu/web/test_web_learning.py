"""Home, lesson pages and "try it now" against the simulated fleet."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from fleet_fixtures import miio_client
from sqlmodel import Session, select
from web_fixtures import Web, make_app, settings_for

from devices.fleet import Fleet
from edu.db import utcnow
from edu.models import FeatureUse, PendingRevert, UsageEvent
from edu.services.tryit import pending_reverts, run_due_reverts

STUDY_FAN = "zhimi.fan.za4"
LESSON = "fan-child-lock"


def _cards(page: str) -> list[str]:
    return re.findall(r'href="/lessons/([a-z0-9-]+)\?device=', page)


def test_home_shows_learn_next_cards_with_reasons_and_device_progress(
    fleet_web: Web, fleet_app: Flask
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    page = fleet_web.get("/").get_data(as_text=True)
    assert "Learn next" in page and _cards(page)
    assert 'class="reason' in page
    assert re.search(r"\d+ of \d+ features in use", page)
    assert page.count('<svg class="ring"') == 4  # Leo uses four devices
    assert "Study fan" in page and "Bedroom purifier" not in page


def test_recommendations_differ_between_people(fleet_web: Web, fleet_app: Flask) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    leo = _cards(fleet_web.get("/").get_data(as_text=True))
    fleet_web.sign_in(fleet_app, "Ana")
    ana_page = fleet_web.get("/").get_data(as_text=True)
    assert leo != _cards(ana_page)
    assert '<html lang="zh-CN">' in ana_page and "接下来学习" in ana_page


def test_lesson_page_is_in_the_persons_language_with_english_fallback(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Ana")
    page = fleet_web.get(f"/lessons/{LESSON}?device={fan.did}").get_data(as_text=True)
    assert "立即试用" in page and "童锁" in page
    fallback = fleet_web.get(f"/lessons/fan-nudge-direction?device={fan.did}")
    assert fallback.status_code == 200
    fleet_web.sign_in(fleet_app, "Leo")
    page = fleet_web.get(f"/lessons/{LESSON}?device={fan.did}").get_data(as_text=True)
    assert "Try it now" in page and "I already know this" in page and "Remind me later" in page
    assert fleet_web.get("/lessons/no-such-lesson").status_code == 404


def test_try_it_now_confirms_changes_the_device_reads_back_and_marks_the_feature_in_use(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    assert miio_client(fan).status().child_lock is False
    fleet_web.sign_in(fleet_app, "Leo")
    confirm = fleet_web.get(f"/lessons/{LESSON}/try?device={fan.did}").get_data(as_text=True)
    assert "Yes, try it" in confirm and "60 seconds" in confirm
    done = fleet_web.post(f"/lessons/{LESSON}/try", {"device": str(fan.did)}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "It worked" in text and "now says on" in text and "goes back by itself" in text
    assert miio_client(fan).status().child_lock is True
    leo = fleet_web.person_id(fleet_app, "Leo")
    with Session(fleet_app.extensions["edu.engine"]) as session:
        event = session.exec(select(UsageEvent).where(UsageEvent.how == "tried")).one()
        assert (event.capability, event.person_id) == ("child-lock", leo)
    home = fleet_web.get("/").get_data(as_text=True)
    in_use = home[home.index(f'id="device-{fan.did}"') :]
    in_use = in_use[
        in_use.index('class="chips in-use"') : in_use.index(
            "</ul>", in_use.index('class="chips in-use"')
        )
    ]
    assert 'data-capability="child-lock"' in in_use
    assert LESSON not in _cards(home)
    # Ana, who also uses the fan, has not tried it herself
    fleet_web.sign_in(fleet_app, "Ana")
    ana = fleet_web.api("GET", "/api/v1/recommendations?limit=200").get_json()
    assert any(r["lesson"] == LESSON and r["device"] == fan.did for r in ana)
    # the previous value comes back when the revert is due
    inventory = fleet_app.extensions["edu.inventory"]
    assert run_due_reverts(inventory, now=utcnow()) == []
    done_reverts = run_due_reverts(inventory, now=utcnow() + timedelta(seconds=61))
    assert done_reverts == [
        {"device": fan.did, "capability": "child-lock", "ok": True, "error": None}
    ]
    assert miio_client(fan).status().child_lock is False
    assert pending_reverts(fleet_app.extensions["edu.engine"]) == []


def test_a_pending_revert_survives_a_restart(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Mia")
    fleet_web.post(f"/lessons/{LESSON}/try", {"device": str(fan.did)})
    assert miio_client(fan).status().child_lock is True
    instance = fleet_app.config["EDU_SETTINGS"].instance
    fleet_app.extensions["edu.engine"].dispose()
    restarted = make_app(settings_for(instance, (fleet.network,)))
    try:
        assert len(pending_reverts(restarted.extensions["edu.engine"])) == 1
        run_due_reverts(restarted.extensions["edu.inventory"], now=utcnow() + timedelta(minutes=5))
        assert miio_client(fan).status().child_lock is False
    finally:
        restarted.extensions["edu.engine"].dispose()


def test_trying_on_a_device_that_does_not_answer_changes_nothing(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Leo")
    fan.fault = "no-reply"
    page = fleet_web.post(f"/lessons/{LESSON}/try", {"device": str(fan.did)}, follow_redirects=True)
    assert "did not answer, so nothing was changed" in page.get_data(as_text=True)
    fan.fault = None
    with Session(fleet_app.extensions["edu.engine"]) as session:
        assert session.exec(select(UsageEvent).where(UsageEvent.how == "tried")).first() is None
        assert session.exec(select(PendingRevert)).first() is None
    assert miio_client(fan).status().child_lock is False


def test_trying_a_lesson_on_someone_elses_device_is_refused(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    purifier = fleet.by_model("zhimi.airpurifier.v6")  # Ana's, not Leo's
    fleet_web.sign_in(fleet_app, "Leo")
    assert (
        fleet_web.post(
            "/lessons/air-purifier-child-lock/try", {"device": str(purifier.did)}
        ).status_code
        == 404
    )
    assert (
        fleet_web.get(f"/lessons/air-purifier-child-lock/try?device={purifier.did}").status_code
        == 404
    )


def test_already_known_and_remind_me_later_take_the_card_away(
    fleet_web: Web, fleet_app: Flask
) -> None:
    fleet_web.sign_in(fleet_app, "Leo")
    first, second = _cards(fleet_web.get("/").get_data(as_text=True))[:2]
    assert fleet_web.post(f"/lessons/{first}/known").status_code == 302
    assert fleet_web.post(f"/lessons/{second}/later").status_code == 302
    cards = _cards(fleet_web.get("/").get_data(as_text=True))
    assert first not in cards and second not in cards
    assert fleet_web.post("/lessons/no-such-lesson/known").status_code == 404


def test_household_progress_shows_who_uses_what(
    fleet_web: Web, fleet_app: Flask, fleet: Fleet
) -> None:
    fan = fleet.by_model(STUDY_FAN)
    fleet_web.sign_in(fleet_app, "Leo")
    fleet_web.post(f"/lessons/{LESSON}/try", {"device": str(fan.did)})
    fleet_web.sign_in(fleet_app, "Mia")
    page = fleet_web.get("/progress").get_data(as_text=True)
    assert "Features nobody uses yet" in page and "Adoption per device" in page
    row = page[page.index("<h3>Study fan</h3>") :]
    assert '<th scope="row">Child lock</th><td>Leo</td>' in row
    data = fleet_web.api("GET", "/api/v1/household/progress").get_json()
    study = next(d for d in data if d["did"] == fan.did)
    assert next(f for f in study["features"] if f["capability"] == "child-lock")["users"] == ["Leo"]
    with Session(fleet_app.extensions["edu.engine"]) as session:
        assert (
            session.exec(select(FeatureUse).where(FeatureUse.person_key != 0)).first() is not None
        )
