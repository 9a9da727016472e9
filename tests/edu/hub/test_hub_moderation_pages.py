"""The hub's moderation pages: PIN or token sign-in, wrong PINs slowed, CSRF, the queue, review."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from hub_fixtures import Clock, Home
from hub_tip_fixtures import flag, joined, moderate, published, tip
from secret_fixtures import shows
from werkzeug.test import TestResponse
from xss_fixtures import XSS

from edu.cli import main
from edu.config import Settings
from edu.db import build_engine
from edu.hub import moderators
from edu.hub.moderators import FREE_TRIES, add_moderator

PIN = "482915"
QUEUE = "/hub/moderation/"


def csrf(client: FlaskClient, path: str = "/hub/moderation/signin") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def sign_in(client: FlaskClient, name: str, pin: str) -> TestResponse:
    form = {"csrf_token": csrf(client), "method": "pin", "name": name, "pin": pin}
    return client.post("/hub/moderation/signin", data=form)


def act(client: FlaskClient, tip_id: int, **form: str) -> TestResponse:
    form["csrf_token"] = csrf(client, QUEUE)
    return client.post(f"/hub/moderation/tips/{tip_id}", data=form, follow_redirects=True)


def queued(hub_app: Flask) -> dict[int, str]:
    from edu.hub.tips import queue

    return {t.id: t.state for t in queue(hub_app.extensions["hub.engine"])}


def test_a_moderator_signs_in_with_a_pin_reviews_the_queue_and_signs_out(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    home = joined(hub_client, hub_clock)
    first = tip(home, "At *night* use **speed 1**.\n\n- hold `M`\n- <script>alert(1)</script>")
    second = tip(home, "Buy my fan at https://www.mi.com/shop!")
    third = tip(home, "Natrual breeze feels like a windw.", lang="zh-CN", lesson="fan-oscillation")
    ids = [r.get_json()["id"] for r in (first, second, third)]
    add_moderator(hub_app.extensions["hub.engine"], "Sam", PIN)

    assert hub_client.get(QUEUE).headers["Location"].endswith("/hub/moderation/signin")
    signed = sign_in(hub_client, "Sam", PIN)
    assert signed.status_code == 302 and signed.headers["Location"].endswith(QUEUE)
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/hub/moderation" in cookie

    page = hub_client.get(QUEUE)
    html = page.get_data(as_text=True)
    assert (
        page.headers["Cache-Control"] == "no-store"
        and "script-src" not in page.headers["Content-Security-Policy"]
    )  # default-src 'none': no script at all
    assert "Signed in as Sam" in html and "zhimi.fan.za4" in html and "fan-oscillation" in html
    assert "<em>night</em>" in html and "<strong>speed 1</strong>" in html
    assert "<code>M</code>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert html.count("Reports: 0") == 3 and 'lang="zh-CN"' in html

    approved = act(hub_client, ids[0], action="approve").get_data(as_text=True)
    assert f"Tip {ids[0]} approved." in approved
    refused = act(hub_client, ids[1], action="reject", reason="  ").get_data(as_text=True)
    assert "Say why the tip is rejected" in refused and queued(hub_app)[ids[1]] == "pending"
    act(hub_client, ids[1], action="reject", reason="an advert")
    too_long = act(hub_client, ids[2], action="edit", text="x" * 801).get_data(as_text=True)
    assert "An edited tip is 1 to 800 characters." in too_long
    foreign = act(hub_client, ids[2], action="edit", text="see https://evil.example/")
    assert "A tip may link only to: mi.com" in foreign.get_data(as_text=True)
    fixed = "Natural breeze feels like a window."
    assert "corrected and approved" in act(hub_client, ids[2], action="edit", text=fixed).get_data(
        as_text=True
    )
    assert queued(hub_app) == {}
    assert [t["text"] for t in published(hub_client)] == [
        "At *night* use **speed 1**.\n\n- hold `M`\n- <script>alert(1)</script>"
    ]
    lesson_tips = hub_client.get("/hub/v1/tips?model=zhimi.fan.za4&lesson=fan-oscillation")
    assert [t["text"] for t in lesson_tips.get_json()] == [fixed]
    assert "That tip is no longer there." in act(hub_client, 999, action="approve").get_data(
        as_text=True
    )

    out = hub_client.post("/hub/moderation/signout", data={"csrf_token": csrf(hub_client, QUEUE)})
    assert out.headers["Location"].endswith("/hub/moderation/signin")
    assert hub_client.get(QUEUE).status_code == 302


def test_wrong_pins_are_refused_then_slowed_while_the_token_still_signs_in(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = add_moderator(hub_app.extensions["hub.engine"], "Sam", PIN)
    unknown = sign_in(hub_client, "Nobody", PIN)
    wrong = sign_in(hub_client, "Sam", "000000")
    assert unknown.status_code == wrong.status_code == 401
    message = "That name and PIN do not match a moderator."
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)
    for _ in range(FREE_TRIES - 1):
        assert sign_in(hub_client, "Sam", "111111").status_code == 401
    limited = sign_in(hub_client, "Sam", PIN)  # even the right PIN waits now
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    assert "Wait 30 seconds, or sign in with your personal token" in limited.get_data(as_text=True)
    hub_clock.advance(seconds=31)
    assert sign_in(hub_client, "Sam", "222222").status_code == 401  # the wait doubles
    hub_clock.advance(seconds=31)
    assert sign_in(hub_client, "Sam", PIN).status_code == 429
    other = Flask.test_client(hub_app)
    by_token = other.post(
        "/hub/moderation/signin",
        data={"csrf_token": csrf(other), "method": "token", "token": token},
    )
    assert by_token.status_code == 302 and other.get(QUEUE).status_code == 200
    bad_token = Flask.test_client(hub_app)
    refused = bad_token.post(
        "/hub/moderation/signin",
        data={"csrf_token": csrf(bad_token), "method": "token", "token": token + "x"},
    )
    assert refused.status_code == 401
    hub_clock.advance(seconds=61)
    assert sign_in(hub_client, "Sam", PIN).status_code == 302
    shown = "\n".join([caplog.text, unknown.get_data(as_text=True), limited.get_data(as_text=True)])
    assert not shows(PIN, shown) and token not in shown and not shows("111111", shown)


def test_every_post_needs_the_sessions_csrf_token(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    home = joined(hub_client, hub_clock)
    tip_id = tip(home, "Oscillate at 60 degrees.").get_json()["id"]
    add_moderator(hub_app.extensions["hub.engine"], "Sam", PIN)
    no_token = {"method": "pin", "name": "Sam", "pin": PIN}
    assert hub_client.post("/hub/moderation/signin", data=no_token).status_code == 403
    assert sign_in(hub_client, "Sam", PIN).status_code == 302
    stranger = Flask.test_client(hub_app)
    strangers_token = csrf(stranger)
    for form in ({}, {"csrf_token": ""}, {"csrf_token": strangers_token}):
        answer = hub_client.post(
            f"/hub/moderation/tips/{tip_id}", data={**form, "action": "approve"}
        )
        assert answer.status_code == 403
        assert hub_client.post("/hub/moderation/signout", data=form).status_code == 403
    assert queued(hub_app) == {tip_id: "pending"}
    assert hub_client.get(QUEUE).status_code == 200  # still signed in
    # the token changes at sign-in: one picked up before it is worth nothing after
    assert strangers_token != csrf(hub_client, QUEUE)


def test_a_session_lasts_twelve_hours_and_ends_with_its_moderator(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    engine = hub_app.extensions["hub.engine"]
    add_moderator(engine, "Sam", PIN)
    sign_in(hub_client, "Sam", PIN)
    hub_clock.advance(hours=11, minutes=59)
    assert hub_client.get(QUEUE).status_code == 200
    hub_clock.advance(minutes=2)
    assert hub_client.get(QUEUE).status_code == 302
    sign_in(hub_client, "Sam", PIN)
    with engine.begin() as conn:
        conn.execute(moderators.moderator.delete())
    assert hub_client.get(QUEUE).status_code == 302


def test_reported_tips_come_back_to_the_queue_with_their_count(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    author = joined(hub_client, hub_clock)
    tip_id = tip(author, "Use the night mode.").get_json()["id"]
    token = add_moderator(hub_app.extensions["hub.engine"], "Sam", PIN)
    moderate(hub_client, token, tip_id, action="approve")
    assert flag(Home(hub_client, hub_clock), tip_id).status_code == 401  # not joined
    flag(joined(hub_client, hub_clock), tip_id)
    sign_in(hub_client, "Sam", PIN)
    html = hub_client.get(QUEUE).get_data(as_text=True)
    assert "reported, still shown" in html and "Reports: 1" in html
    api = hub_client.get("/hub/v1/moderation/queue", headers={"Authorization": f"Bearer {token}"})
    assert api.get_json()[0]["flags"] == 1 and api.get_json()[0]["state"] == "approved"
    assert [t["id"] for t in published(hub_client)] == [tip_id]  # shown until enough reports
    act(hub_client, tip_id, action="approve")  # kept: the reports are cleared
    assert queued(hub_app) == {}


def test_the_pages_speak_chinese_when_the_browser_asks(
    hub_app: Flask, hub_client: FlaskClient
) -> None:
    add_moderator(hub_app.extensions["hub.engine"], "Sam", PIN)
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    signin = hub_client.get("/hub/moderation/signin", headers=zh).get_data(as_text=True)
    assert "登录以审核小贴士" in signin and '<html lang="zh-CN">' in signin
    sign_in(hub_client, "Sam", PIN)
    assert "等待版主审核的小贴士" in hub_client.get(QUEUE, headers=zh).get_data(as_text=True)
    assert "Tips waiting for a moderator" in hub_client.get(QUEUE).get_data(as_text=True)


def test_typed_text_on_the_moderation_pages_stays_text(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    for payload in XSS:  # a home each: five messages an hour per home
        assert tip(joined(hub_client, hub_clock), f"Tip {payload}").status_code == 202
    add_moderator(hub_app.extensions["hub.engine"], XSS[1][:60], PIN)
    sign_in(hub_client, XSS[1][:60], PIN)
    pages = [
        hub_client.get(QUEUE).get_data(as_text=True),
        sign_in(Flask.test_client(hub_app), XSS[0], PIN).get_data(as_text=True),
    ]
    for html in pages:
        for payload in XSS:
            if "<" in payload:
                assert payload not in html
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert pages[0].count("&lt;script&gt;") >= 2


def test_edu_hub_moderator_with_pin_prompts_and_refuses_in_one_line(tmp_path: Path) -> None:
    instance = str(tmp_path / "cli-hub")

    def run(*args: str, typed: str = "") -> tuple[int, str, str]:
        result = CliRunner().invoke(
            main, ["--instance", instance, "hub", "moderator", *args], input=typed
        )
        return result.exit_code, result.stdout, result.stderr

    code, out, err = run("Sam", "--pin", typed=f"{PIN}\n{PIN}\n")
    assert code == 0 and "shown once" in out and not shows(PIN, out + err)
    token = out.strip().splitlines()[-1]
    assert token.startswith("hubm_")
    code, _, err = run("Sam")
    assert code == 1 and err == "error: there is already a moderator called 'Sam'\n"
    code, _, err = run("Ann", "--pin", typed="1234\n1234\n")
    assert code == 1 and err.strip().endswith("a moderator's PIN is 6 to 8 digits")
    assert err.splitlines()[-1] == "error: a moderator's PIN is 6 to 8 digits"
    assert "1234" not in err
    code, out, _ = run("Sam", "--pin", typed="975310\n975310\n")
    assert code == 0 and "new PIN set" in out and "hubm_" not in out
    engine = build_engine(Settings.from_env({"EDU_INSTANCE": instance}).database_url)
    try:
        now = Clock()()
        assert moderators.sign_in(engine, "Sam", PIN, now).result == "wrong"
        assert moderators.sign_in(engine, "Sam", "975310", now).result == "ok"
        assert (
            moderators.by_token(engine, token)
            == moderators.sign_in(engine, "Sam", "975310", now).moderator
        )
    finally:
        engine.dispose()


def test_every_moderation_and_owner_tip_string_is_translated() -> None:
    from babel.messages.pofile import read_po

    from edu.translations.update import LOCALES, po_path, template

    def ours(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return path == "edu/hub/moderation.py" or name.startswith(("hub_moderation", "owner_tips"))

    wanted = {m.id for m in template() if m.id and any(ours(p) for p, _line in m.locations)}
    assert len(wanted) > 35
    for locale in LOCALES:
        with po_path(locale).open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        assert wanted <= translated, sorted(map(str, wanted - translated))[:10]


def test_a_long_queue_shows_its_oldest_tips_first_and_says_how_many_wait(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    from edu.hub.moderation import PAGE_TIPS
    from edu.hub.store import tip as tip_table

    engine = hub_app.extensions["hub.engine"]
    rows = [
        {"model": "zhimi.fan.za4", "lesson": "fan-x", "lang": "en", "text": f"tip number {n}"}
        for n in range(PAGE_TIPS + 3)
    ]
    with engine.begin() as conn:
        conn.execute(
            tip_table.insert(),
            [
                {**r, "state": "pending", "reason": "", "flags": 0, "created_at": hub_clock()}
                for r in rows
            ],
        )
    add_moderator(engine, "Sam", PIN)
    sign_in(hub_client, "Sam", PIN)
    html = hub_client.get(QUEUE).get_data(as_text=True)
    assert html.count('<article class="card"') == PAGE_TIPS
    assert "tip number 0<" in html and f"tip number {PAGE_TIPS}<" not in html
    assert f"The oldest {PAGE_TIPS} of {PAGE_TIPS + 3} tips" in html
