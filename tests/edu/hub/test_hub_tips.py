"""Owners' tips on the hub: signed submissions, the moderators' queue, flags that hide a tip."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from hub_fixtures import Clock
from hub_tip_fixtures import LESSON, MODEL, flag, joined, moderate, published, tip

from edu.hub.moderators import add_moderator


def test_a_tip_waits_for_a_moderator_then_is_published(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    home = joined(hub_client, hub_clock)
    answer = tip(home, "Natural breeze at night: set speed 1 and it feels like a window open.")
    assert answer.status_code == 202
    tip_id = answer.get_json()["id"]
    assert published(hub_client) == []
    token = add_moderator(hub_app.extensions["hub.engine"], "Sam")
    headers = {"Authorization": f"Bearer {token}"}
    assert hub_client.get("/hub/v1/moderation/queue").status_code == 401
    queue = hub_client.get("/hub/v1/moderation/queue", headers=headers).get_json()
    assert [row["id"] for row in queue] == [tip_id] and queue[0]["state"] == "pending"
    fixed = "Natural breeze at night: set speed 1 and it feels like an open window."
    edited = moderate(hub_client, token, tip_id, action="edit", text=fixed)
    assert edited.status_code == 200 and edited.get_json()["state"] == "approved"
    assert published(hub_client) == [
        {"id": tip_id, "model": MODEL, "lesson": LESSON, "lang": "en", "text": fixed}
    ]
    assert hub_client.get("/hub/v1/moderation/queue", headers=headers).get_json() == []


def test_a_rejected_tip_needs_a_reason_and_is_never_published(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    home = joined(hub_client, hub_clock)
    tip_id = tip(home, "Buy my fan!").get_json()["id"]
    token = add_moderator(hub_app.extensions["hub.engine"], "Sam")
    refused = moderate(hub_client, token, tip_id, action="reject")
    assert refused.status_code == 400 and refused.get_json()["error"] == "bad-input"
    rejected = moderate(hub_client, token, tip_id, action="reject", reason="an advert")
    assert (
        rejected.get_json()["state"] == "rejected" and rejected.get_json()["reason"] == "an advert"
    )
    assert published(hub_client) == []
    assert moderate(hub_client, token, 999, action="approve").status_code == 404


def test_tips_with_foreign_links_long_text_or_control_characters_are_refused(
    hub_client: FlaskClient, hub_clock: Clock
) -> None:
    home = joined(hub_client, hub_clock)
    for text in (
        "See https://evil.example/steal for more",
        "see www.evil.example",
        "x" * 801,
        "   ",
        "bell \x07 inside",
    ):
        answer = tip(home, text)
        assert answer.status_code == 400 and answer.get_json()["error"] == "malformed", text
    assert tip(home, "The manual: https://www.mi.com/global/support").status_code == 202
    assert tip(home, "在夜里用自然风，风速调到 1 档。", lang="zh-CN").status_code == 202
    assert tip(home, "hello", lang="fr").status_code == 400


def test_enough_flags_hide_a_tip_until_a_moderator_approves_it_again(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    author = joined(hub_client, hub_clock)
    tip_id = tip(author, "<script>alert(1)</script> works best at night").get_json()["id"]
    token = add_moderator(hub_app.extensions["hub.engine"], "Sam")
    assert flag(author, tip_id).status_code == 404  # not published yet
    moderate(hub_client, token, tip_id, action="approve")
    flaggers = [joined(hub_client, hub_clock) for _ in range(3)]
    assert flag(flaggers[0], tip_id).get_json()["state"] == "approved"
    assert flag(flaggers[0], tip_id).get_json()["state"] == "approved"  # once per home
    assert flag(flaggers[1], tip_id).get_json()["state"] == "approved"
    assert flag(flaggers[2], tip_id).get_json()["state"] == "hidden"
    assert published(hub_client) == []
    queue = hub_client.get(
        "/hub/v1/moderation/queue", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert queue[0]["state"] == "hidden" and queue[0]["flags"] == 3
    moderate(hub_client, token, tip_id, action="approve")
    assert [row["id"] for row in published(hub_client)] == [tip_id]


def test_leaving_deletes_the_homes_tips(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    home = joined(hub_client, hub_clock)
    tip_id = tip(home, "Oscillate at 60 degrees in a small room.").get_json()["id"]
    token = add_moderator(hub_app.extensions["hub.engine"], "Sam")
    moderate(hub_client, token, tip_id, action="approve")
    assert home.leave().status_code == 200
    assert published(hub_client) == []
