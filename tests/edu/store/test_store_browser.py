"""The store demo in a real browser (Debian's Chromium) against a real server and the fleet.

Every device is read back through python-miio itself, never through Feature Coach. Screenshots
at tablet (1024x768) and kiosk (1920x1080) sizes go to test-output/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import axe_problems
from demo_fixtures import (
    KIOSK,
    STAFF,
    STAFF_PIN,
    TABLET,
    LiveStore,
    shoot,
)
from fleet_fixtures import miio_client
from sqlmodel import Session, select

from devices.capabilities import snapshot as flatten
from devices.fleet import Fleet, SimulatedDevice
from edu.models import Device
from edu.store.models import DemoDevice

pytestmark = pytest.mark.slow

FAN, LIGHT = "Study fan", "Kitchen ceiling light"


def device(fleet: Fleet, name: str) -> SimulatedDevice:
    return next(d for d in fleet.devices if d.name == name)


def read_back(sim: SimulatedDevice) -> dict[str, Any]:
    """The device's status as python-miio itself reads it."""
    return flatten(miio_client(sim).status())


def saved_settings(store: LiveStore, did: int) -> dict[str, Any]:
    """The snapshot Feature Coach took before the demo: status key -> value."""
    with Session(store.app.extensions["edu.engine"]) as session:
        row = session.exec(select(DemoDevice).join(Device).where(Device.did == did)).one()
        assert row.snapshot is not None
        return {key: entry["value"] for key, entry in row.snapshot["settings"].items()}


def staff_page(browser: Any, store: LiveStore, size: dict[str, int] = TABLET) -> Any:
    """Open a tablet, sign in as staff with the PIN; return the page on the demo board."""
    context = browser.new_context(viewport=size, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(store.url + "/")
    page.get_by_role("link", name=STAFF).click()
    page.get_by_label("Your PIN").fill(STAFF_PIN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/demo/")
    return page


def card(page: Any, did: int) -> Any:
    return page.locator(f'[data-did="{did}"]')


def open_demo(page: Any, store: LiveStore, name: str, did: int) -> None:
    page.goto(store.url + "/demo/")
    card(page, did).get_by_role("link", name=f"Demo {name}").click()
    page.get_by_role("button", name="Start the demo").click()
    page.get_by_role("button", name="End demo").wait_for()


def show(page: Any, feature: str) -> str:
    """Press "show it" on the step of *feature*; return what the page says happened."""
    step = page.locator(f'.step:has(button[data-feature="{feature}"])')
    step.get_by_role("button", name=f"Show it: {feature}").click()
    result = step.locator(".step-result")
    result.locator("xpath=self::*[normalize-space(.) != '']").wait_for()
    return str(result.inner_text())


def test_staff_show_three_features_on_two_devices_and_both_read_back_as_the_snapshot(
    demo_browser: Any, live_store: LiveStore, fleet: Fleet
) -> None:
    fan, light = device(fleet, FAN), device(fleet, LIGHT)
    before = {FAN: read_back(fan), LIGHT: read_back(light)}
    page = staff_page(demo_browser, live_store)
    problems = {"board": axe_problems(page)}
    shoot(page, "demo-01-board-tablet", TABLET)

    open_demo(page, live_store, FAN, fan.did)
    assert "Oscillation is now on (it was off)" in show(page, "Oscillation")
    assert "Child lock is now on" in show(page, "Child lock")
    status = miio_client(fan).status()
    assert (status.oscillate, status.child_lock) == (True, True)
    problems["guided"] = axe_problems(page)
    shoot(page, "demo-02-guided-tablet", TABLET, full_page=False)

    open_demo(page, live_store, LIGHT, light.did)
    assert "is now 2700" in show(page, "Warm or cool white")
    assert read_back(light)["light:color-temperature"] == 2700

    page.goto(live_store.url + "/demo/")
    page.get_by_text("2 in a demo").wait_for()
    shoot(page, "demo-03-board-in-demo-tablet", TABLET)
    for name, sim in ((FAN, fan), (LIGHT, light)):
        card(page, sim.did).get_by_role("link", name=f"Continue demo {name}").click()
        page.get_by_role("button", name="End demo").click()
        page.get_by_text(f"{name} is back to normal").wait_for()
    shoot(page, "demo-04-board-after-tablet", TABLET)

    for name, sim in ((FAN, fan), (LIGHT, light)):
        saved = saved_settings(live_store, sim.did)
        now = read_back(sim)
        assert saved and {key: now.get(key) for key in saved} == saved, name
        assert now == before[name], name
    page.context.close()
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_inactivity_timeout_resets_a_device_on_a_fixed_clock(
    demo_browser: Any, live_store: LiveStore, fleet: Fleet
) -> None:
    fan = device(fleet, FAN)
    page = staff_page(demo_browser, live_store)
    open_demo(page, live_store, FAN, fan.did)
    show(page, "Child lock")
    assert miio_client(fan).status().child_lock is True
    page.goto(live_store.url + "/demo/")
    fan_card = card(page, fan.did)
    fan_card.get_by_text("In a demo since").wait_for()
    live_store.clock.advance(minutes=5, seconds=1)  # nobody touched it for five minutes
    # the board polls its status; that runs the timeout, which puts the fan back
    fan_card.locator(".js-demo", has_text="Ready").wait_for()
    fan_card.get_by_text("Last reset").wait_for()
    assert miio_client(fan).status().child_lock is False
    saved = saved_settings(live_store, fan.did)
    assert {key: read_back(fan).get(key) for key in saved} == saved
    page.context.close()


def test_a_device_that_goes_offline_mid_demo_gets_a_plain_message_and_the_rest_goes_on(
    demo_browser: Any, live_store: LiveStore, fleet: Fleet
) -> None:
    fan, light = device(fleet, FAN), device(fleet, LIGHT)
    page = staff_page(demo_browser, live_store)
    open_demo(page, live_store, LIGHT, light.did)
    open_demo(page, live_store, FAN, fan.did)
    fan.fault = "no-reply"  # someone pulled the plug
    said = show(page, "Oscillation")
    assert "Study fan is not answering" in said and "carry on with another device" in said
    assert "Traceback" not in page.content()
    shoot(page, "demo-05-offline-tablet", TABLET, full_page=False)
    page.get_by_role("button", name="End demo").click()
    page.get_by_text("It is flagged on the board").wait_for()
    fan_card = card(page, fan.did)
    fan_card.get_by_text("Not back to normal").wait_for()
    assert fan_card.get_by_text("Offline").is_visible()
    shoot(page, "demo-06-flagged-tablet", TABLET)

    # the light's demo goes on
    card(page, light.did).get_by_role("link", name=f"Continue demo {LIGHT}").click()
    assert "Brightness is now" in show(page, "Brightness")
    page.get_by_role("button", name="End demo").click()
    page.get_by_text(f"{LIGHT} is back to normal").wait_for()

    fan.fault = None  # plugged back in
    card(page, fan.did).get_by_role("button", name=f"Reset {FAN}").click()
    page.get_by_text(f"{FAN} is back to normal").wait_for()
    card(page, fan.did).locator(".js-demo", has_text="Ready").wait_for()
    page.context.close()


def test_the_kiosk_passes_axe_and_exposes_no_staff_control(
    demo_browser: Any, live_store: LiveStore, fleet: Fleet
) -> None:
    page = staff_page(demo_browser, live_store, KIOSK)
    page.clock.install()  # the attract loop runs on the browser's clock, which the test moves
    page.get_by_role("button", name="Open the kiosk on this screen").click()
    page.wait_for_url("**/demo/kiosk")
    page.get_by_role("heading", name="Discover what these devices can do").wait_for()
    first = page.locator(".slide:not([hidden])").inner_text()
    page.clock.run_for(7_500)
    assert page.locator(".slide:not([hidden])").count() == 1
    assert page.locator(".slide:not([hidden])").inner_text() != first
    problems = {"kiosk": axe_problems(page)}
    shoot(page, "demo-07-kiosk", KIOSK, full_page=False)
    shoot(page, "demo-08-kiosk-tablet", TABLET, full_page=False)
    page.set_viewport_size(KIOSK)

    assert page.locator("form").count() == 0
    for words in ("Reset", "Show it", "End demo", "Sign out", "Demo table", "Start the demo"):
        assert page.get_by_text(words).count() == 0, words
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith("/demo/kiosk") for h in hrefs), hrefs
    assert not [d.token for d in fleet.devices if d.token in page.content()]

    page.goto(live_store.url + "/demo/")  # no way out by typing an address
    page.wait_for_url("**/demo/kiosk")
    page.get_by_role("link", name="Child lock").first.click()
    page.get_by_role("heading", level=1).wait_for()
    problems["feature"] = axe_problems(page)
    assert page.locator("form").count() == 0 and page.get_by_text("Try it now").count() == 0
    shoot(page, "demo-09-kiosk-feature", KIOSK, full_page=False)

    page.get_by_role("link", name="Staff").click()
    problems["exit"] = axe_problems(page)
    page.get_by_label(STAFF).check()
    page.get_by_label("Staff PIN").fill("0000")
    page.get_by_role("button", name="Leave the kiosk").click()
    page.get_by_text("That PIN is not right").wait_for()
    page.get_by_label("Staff PIN").fill(STAFF_PIN)
    page.get_by_role("button", name="Leave the kiosk").click()
    page.wait_for_url("**/demo/")
    page.context.close()
    assert {name: found for name, found in problems.items() if found} == {}
