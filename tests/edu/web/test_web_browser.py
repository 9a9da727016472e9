"""A real browser (Debian's Chromium through Playwright) against a real server and the fleet.

Screenshots at phone and desktop sizes go to test-output/screenshots/; axe checks the main
pages for serious or critical accessibility problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import SHOTS, LiveServer, axe_problems
from flask import Flask
from fleet_fixtures import miio_client
from web_fixtures import close_app, make_app, settings_for

from devices.fleet import Fleet

pytestmark = pytest.mark.slow

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


@pytest.fixture
def live(fleet: Fleet, tmp_path: Path) -> Iterator[tuple[LiveServer, Flask]]:
    app = make_app(settings_for(tmp_path / "instance", (fleet.network,)), TESTING=False)
    server = LiveServer(app)
    yield server, app
    server.stop()
    close_app(app)


def shoot(page: Any, name: str) -> None:
    """Save the page at phone and desktop sizes."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_new_user_sets_up_scans_adds_a_device_and_tries_a_feature(
    browser: Any, live: tuple[LiveServer, Flask], fleet: Fleet
) -> None:
    server, _app = live
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: dict[str, list[str]] = {}

    page.goto(server.url + "/")
    assert page.url.endswith("/setup")
    shoot(page, "01-setup")
    problems["setup"] = axe_problems(page)
    page.get_by_label("Name of your home").fill("Our flat")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Your name").fill("Mia")
    page.get_by_label("Choose a PIN (4 to 8 digits)").fill("1234")
    page.get_by_label("The same PIN again").fill("1234")
    page.get_by_role("button", name="Create my home").click()
    page.wait_for_url("**/devices/")

    page.get_by_role("button", name="Scan for devices").click()
    page.get_by_text("Scan finished").wait_for()
    assert page.get_by_text("Needs its token").count() >= 10
    shoot(page, "02-devices-scanned")
    problems["devices"] = axe_problems(page)

    fan = fleet.by_model("zhimi.fan.za4")
    page.get_by_label("IP address").fill(fan.ip)
    page.get_by_label("Token (32 characters)").fill(fan.token)
    page.get_by_label("Name (optional)").fill("Study fan")
    page.get_by_role("button", name="Add device").click()
    page.get_by_role("heading", name="Study fan is working").wait_for()
    shoot(page, "03-device-added")
    problems["device"] = axe_problems(page)

    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_role("heading", name="Learn next").wait_for()
    shoot(page, "04-home")
    problems["home"] = axe_problems(page)
    lesson_link = page.locator(f'a[href="/lessons/fan-child-lock?device={fan.did}"]')
    if lesson_link.count():
        lesson_link.first.click()
    else:
        page.goto(f"{server.url}/lessons/fan-child-lock?device={fan.did}")
    page.get_by_role("link", name="Try it now").wait_for()
    shoot(page, "05-lesson")
    problems["lesson"] = axe_problems(page)

    page.get_by_role("link", name="Try it now").click()
    page.get_by_role("button", name="Yes, try it").wait_for()
    shoot(page, "06-try-confirm")
    page.get_by_role("button", name="Yes, try it").click()
    page.get_by_text("It worked").wait_for()
    shoot(page, "07-tried")
    assert miio_client(fan).status().child_lock is True

    page.get_by_role("link", name="Home", exact=True).click()
    card = page.locator(f"#device-{fan.did}")
    card.get_by_text("Show features").click()
    assert card.locator('.chips.in-use [data-capability="child-lock"]').is_visible()
    shoot(page, "08-home-after-try")

    for path, name in (("/progress", "progress"), ("/people", "people"), ("/me", "me")):
        page.goto(server.url + path)
        shoot(page, f"09-{name}")
        problems[name] = axe_problems(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    shoot(page, "10-signin")
    problems["signin"] = axe_problems(page)
    context.close()
    assert {name: found for name, found in problems.items() if found} == {}
