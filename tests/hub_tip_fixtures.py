"""Owners' tips on the hub, as a home and a moderator's API client send them (helpers for tests).

Import them in a test module::

    from hub_tip_fixtures import MODEL, LESSON, flag, joined, moderate, published, tip
"""

from __future__ import annotations

from flask.testing import FlaskClient
from hub_fixtures import Clock, Home
from werkzeug.test import TestResponse

from edu.hub.protocol import encode, message

MODEL, LESSON = "zhimi.fan.za4", "fan-natural-wind"


def tip(home: Home, text: str, lang: str = "en", lesson: str = LESSON) -> TestResponse:
    home.seq += 1
    body = encode(
        message(
            home.key,
            "tip",
            home.seq,
            int(home.clock().timestamp()),
            model=MODEL,
            lesson=lesson,
            lang=lang,
            text=text,
        )
    )
    return home.post("tips", body)


def flag(home: Home, tip_id: int) -> TestResponse:
    home.seq += 1
    body = encode(message(home.key, "flag", home.seq, int(home.clock().timestamp()), tip=tip_id))
    return home.post("tips/flag", body)


def moderate(client: FlaskClient, token: str, tip_id: int, **body: str) -> TestResponse:
    return client.post(
        f"/hub/v1/moderation/tips/{tip_id}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def published(client: FlaskClient) -> list[dict[str, object]]:
    return client.get(f"/hub/v1/tips?model={MODEL}&lesson={LESSON}").get_json()  # type: ignore[no-any-return]


def joined(client: FlaskClient, clock: Clock) -> Home:
    home = Home(client, clock)
    assert home.join().status_code == 201
    return home
