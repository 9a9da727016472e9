"""A moderator on a phone, in a real browser (Debian's Chromium through Playwright), on a live hub.

Signs in with a PIN, reads a Markdown tip, rejects one with a reason, corrects and approves
another, signs out; the pages fit a phone's width, run no script, and axe finds no serious
problem. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import SHOTS, axe_problems
from hub_fixtures import Clock, LiveHub, make_hub
from hub_tip_fixtures import joined, tip

from edu.hub.moderators import add_moderator
from edu.hub.tips import published, queue

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
PIN = "482915"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    live = LiveHub(make_hub(tmp_path / "browser-hub"))
    yield live
    live.close()


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_moderator_reviews_tips_on_a_phone(browser: Any, hub: LiveHub) -> None:
    home = joined(hub.app.test_client(), Clock())
    advert = tip(home, "Buy my fan!").get_json()["id"]
    typo = tip(home, "At *night* use **speed 1**\n\n- quiet\n- cool <script>alert(1)</script>")
    typo_id = typo.get_json()["id"]
    add_moderator(hub.engine, "Sam", PIN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    problems: dict[str, list[str]] = {}

    page.goto(hub.url + "/hub/moderation/")
    assert page.url.endswith("/hub/moderation/signin")
    problems["signin"] = axe_problems(page)
    assert fits_the_phone(page)
    page.get_by_label("Your moderator name").fill("Sam")
    page.get_by_label("PIN", exact=True).fill("000000")
    page.get_by_role("button", name="Sign in").first.click()
    page.get_by_role("alert").wait_for()
    assert "do not match" in page.get_by_role("alert").inner_text()
    page.get_by_label("PIN", exact=True).fill(PIN)
    page.get_by_role("button", name="Sign in").first.click()
    page.get_by_role("heading", name="Tips waiting for a moderator").wait_for()

    card = page.locator(f"#tip-{typo_id}")
    assert card.locator("em").inner_text() == "night"
    assert card.locator(".tip-text li").all_inner_texts() == [
        "quiet",
        "cool <script>alert(1)</script>",
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "hub-moderation-queue-phone.png"), full_page=True)
    problems["queue"] = axe_problems(page)
    assert fits_the_phone(page)

    advert_card = page.locator(f"#tip-{advert}")
    advert_card.get_by_text("Reject with a reason").click()
    advert_card.get_by_label("Why is it rejected?").fill("an advert")
    advert_card.get_by_role("button", name="Reject").click()
    page.get_by_text(f"Tip {advert} rejected.").wait_for()

    card = page.locator(f"#tip-{typo_id}")
    card.get_by_text("Correct typos, then approve").click()
    text = card.get_by_role("textbox")
    text.fill(text.input_value().replace("speed 1**", "speed 1**."))
    card.get_by_role("button", name="Save and approve").click()
    page.get_by_text(f"Tip {typo_id} corrected and approved.").wait_for()
    page.get_by_text("Nothing to review").wait_for()
    page.screenshot(path=str(SHOTS / "hub-moderation-done-phone.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/hub/moderation/signin")
    context.close()
    assert queue(hub.engine) == []
    assert [t.text for t in published(hub.engine, "zhimi.fan.za4")] == [
        "At *night* use **speed 1**.\n\n- quiet\n- cool <script>alert(1)</script>"
    ]
    assert dialogs == []  # the script in the tip never ran
    assert problems == {"signin": [], "queue": []}
