"""First-run setup, signing in, CSRF, roles and the sign-in rate limit, through the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlmodel import Session, select
from web_fixtures import Web

from edu.db import utcnow
from edu.models import Household, LoginAttempt, Person


def test_every_page_leads_to_setup_until_the_household_exists(web: Web) -> None:
    for url in (
        "/",
        "/devices/",
        "/signin",
        "/people",
        "/progress",
        "/me",
        "/lessons/fan-child-lock",
    ):
        response = web.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/setup")
    assert web.api("GET", "/api/v1/me").status_code == 409
    assert web.get("/api/v1/openapi.json").status_code == 200


def test_first_run_creates_the_household_and_its_admin_with_a_hashed_pin(
    web: Web, app: Flask
) -> None:
    page = web.get("/setup")
    assert page.status_code == 200 and "csrf_token" in page.get_data(as_text=True)
    response = web.setup(
        name="Our flat", admin="Mia", pin="4321", timezone="Europe/Berlin", language="zh-CN"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/devices/")
    with Session(app.extensions["edu.engine"]) as session:
        home = session.exec(select(Household)).one()
        assert (home.name, home.timezone, home.language) == ("Our flat", "Europe/Berlin", "zh-CN")
        mia = session.exec(select(Person)).one()
        assert mia.role == "admin" and mia.pin_hash and "4321" not in mia.pin_hash
    assert web.get("/").status_code == 200  # signed in straight away
    assert web.get("/setup").headers["Location"].endswith("/signin")  # setup is done for good


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "needs a name"),
        ("timezone", "Mars/Olympus", "time zone"),
        ("pin", "12", "4 to 8 digits"),
        ("admin", "  ", "cannot be empty"),
    ],
)
def test_setup_refuses_bad_input_and_keeps_what_was_typed(
    web: Web, field: str, value: str, message: str
) -> None:
    form = {
        "name": "Our <b>flat</b>",
        "timezone": "UTC",
        "language": "en",
        "admin": "Mia",
        "pin": "1234",
        "pin_again": "1234",
        field: value,
    }
    if field == "pin":
        form["pin_again"] = value
    page = web.post("/setup", form)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and message in text
    if field != "name":
        assert "Our &lt;b&gt;flat&lt;/b&gt;" in text


def test_setup_refuses_two_different_pins(web: Web) -> None:
    page = web.post(
        "/setup",
        {
            "name": "Home",
            "timezone": "UTC",
            "language": "en",
            "admin": "Mia",
            "pin": "1234",
            "pin_again": "1235",
        },
    )
    assert "not the same" in page.get_data(as_text=True)


def test_a_form_without_the_csrf_token_is_refused(web: Web, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/setup",
        data={
            "name": "Home",
            "timezone": "UTC",
            "language": "en",
            "admin": "Mia",
            "pin": "1234",
            "pin_again": "1234",
        },
    )
    assert response.status_code == 403
    wrong = client.post("/setup", data={"csrf_token": "forged", "name": "Home"})
    assert wrong.status_code == 403


def test_state_changing_api_calls_with_the_cookie_need_the_csrf_header(
    web: Web, app: Flask
) -> None:
    web.setup()
    response = web.client.post("/api/v1/lessons/fan-child-lock/known", json={})
    assert response.status_code == 403 and response.get_json()["error"] == "csrf"
    assert web.api("POST", "/api/v1/lessons/fan-child-lock/known", {}).status_code == 200


def test_session_cookie_is_httponly_and_samesite(web: Web) -> None:
    response = web.setup()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_safe_headers(web: Web) -> None:
    response = web.get("/setup")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _household_with_member(web: Web, app: Flask) -> None:
    web.setup(admin="Mia", pin="1234")
    response = web.post(
        "/people",
        {
            "name": "Leo",
            "role": "member",
            "language": "en",
            "pin": "2345",
            "pin_again": "2345",
            "all": "1",
        },
    )
    assert response.status_code == 302


def test_signing_in_picks_a_profile_and_checks_the_pin(web: Web, app: Flask) -> None:
    _household_with_member(web, app)
    web.sign_out()
    assert web.get("/").headers["Location"].startswith("/signin")
    page = web.get("/signin").get_data(as_text=True)
    assert "Mia" in page and "Leo" in page
    assert web.sign_in(app, "Leo", "9999").status_code == 401
    assert web.get("/").status_code == 302
    response = web.sign_in(app, "Leo", "2345")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Hello, Leo" in web.get("/").get_data(as_text=True)


def test_sign_in_sends_you_back_where_you_were_but_never_off_site(web: Web, app: Flask) -> None:
    _household_with_member(web, app)
    web.sign_out()
    leo = web.person_id(app, "Leo")
    back = web.post(f"/signin/{leo}", {"pin": "2345", "next": "/me"})
    assert back.headers["Location"] == "/me"
    web.sign_out()
    away = web.post(f"/signin/{leo}", {"pin": "2345", "next": "//evil.example/"})
    assert away.headers["Location"] == "/"


def test_too_many_wrong_pins_slow_that_client_down_for_that_profile(web: Web, app: Flask) -> None:
    _household_with_member(web, app)
    for _ in range(5):
        assert web.sign_in(app, "Leo", "0000").status_code == 401
    limited = web.sign_in(app, "Leo", "2345")
    assert limited.status_code == 429 and "Wait" in limited.get_data(as_text=True)
    # Mia's profile is not affected
    assert web.sign_in(app, "Mia", "1234").status_code == 302
    # a minute later the right PIN works again
    with Session(app.extensions["edu.engine"]) as session, session.begin():
        for attempt in session.exec(select(LoginAttempt)):
            attempt.at = utcnow() - timedelta(minutes=2)
    assert web.sign_in(app, "Leo", "2345").status_code == 302


def test_members_cannot_reach_admin_pages_or_other_peoples_data(web: Web, app: Flask) -> None:
    _household_with_member(web, app)
    mia = web.person_id(app, "Mia")
    web.sign_in(app, "Leo")
    for url in ("/devices/", "/people", "/progress", f"/people/{mia}", "/devices/scan/status"):
        assert web.get(url).status_code == 403, url
    assert web.post("/devices/scan").status_code == 403
    assert web.post(f"/people/{mia}", {"action": "remove"}).status_code == 403
    assert web.api("GET", "/api/v1/household/progress").status_code == 403
    assert (
        web.api("POST", "/api/v1/devices", {"ip": "127.0.0.1", "token": "0" * 32}).status_code
        == 403
    )
    assert web.get("/").status_code == 200


def test_the_last_admin_cannot_be_removed_or_demoted(web: Web, app: Flask) -> None:
    web.setup()
    mia = web.person_id(app, "Mia")
    page = web.post(f"/people/{mia}", {"action": "remove"})
    assert page.status_code == 400 and "at least one admin" in page.get_data(as_text=True)
    page = web.post(f"/people/{mia}", {"role": "member", "language": "en", "all": "1"})
    assert page.status_code == 400


def test_an_admin_invites_changes_and_removes_someone(web: Web, app: Flask) -> None:
    _household_with_member(web, app)
    leo = web.person_id(app, "Leo")
    assert (
        web.post(f"/people/{leo}", {"role": "staff", "language": "zh-CN", "all": "1"}).status_code
        == 302
    )
    with Session(app.extensions["edu.engine"]) as session:
        person = session.get(Person, leo)
        assert person is not None and (person.role, person.language) == ("staff", "zh-CN")
    taken = web.post(
        "/people",
        {
            "name": "Leo",
            "role": "member",
            "language": "en",
            "pin": "1111",
            "pin_again": "1111",
            "all": "1",
        },
    )
    assert taken.status_code == 400 and "already someone" in taken.get_data(as_text=True)
    assert web.post(f"/people/{leo}", {"action": "remove"}).status_code == 302
    assert "Leo was removed" in web.get("/people").get_data(as_text=True)
    assert f"/people/{leo}" not in web.get("/people").get_data(as_text=True)


def test_signing_out_needs_csrf_and_ends_the_session(web: Web) -> None:
    web.setup()
    assert web.client.post("/signout").status_code == 403
    web.sign_out()
    assert web.get("/").status_code == 302
