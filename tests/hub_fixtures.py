"""Fixtures for the community hub: the hub app on its own instance, a clock, signing homes.

Import them in a conftest.py::

    from hub_fixtures import hub_app, hub_client, hub_clock, live_hub  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from edu.config import Settings
from edu.db import utcnow
from edu.hub import HubSettings, create_hub_app
from edu.hub.protocol import SIGNATURE_HEADER, encode, message, new_key, sign


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_hub(instance: Path, clock: Clock | None = None, **hub: Any) -> Flask:
    """Create a hub app on its own instance (SQLite, or PostgreSQL in that mode).

    Its published table is recounted before every read unless *refresh_seconds* says otherwise.
    """
    settings = Settings.from_env({"EDU_INSTANCE": str(instance)})
    config: dict[str, Any] = {
        "EDU_SETTINGS": settings,
        "HUB_SETTINGS": HubSettings(**{"refresh_seconds": 0, **hub}),
        "TESTING": True,
    }
    if clock is not None:
        config["HUB_CLOCK"] = clock
    return create_hub_app(config)


class Home:
    """A home as the hub sees it: a key, a sequence, signed posts."""

    def __init__(self, client: FlaskClient, clock: Clock) -> None:
        self.client, self.clock, self.key, self.seq = client, clock, new_key(), 0

    def body(
        self, kind: str, models: list[dict[str, Any]] | None = None, seq: int | None = None
    ) -> bytes:
        if seq is None:
            self.seq += 1
            seq = self.seq
        return encode(message(self.key, kind, seq, int(self.clock().timestamp()), models))

    def post(self, kind: str, body: bytes, signature: str | None = "sign") -> TestResponse:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = sign(self.key, body)
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return self.client.post(f"/hub/v1/{kind}", data=body, headers=headers)

    def join(self) -> TestResponse:
        return self.post("join", self.body("join", seq=0))

    def report(self, models: list[dict[str, Any]]) -> TestResponse:
        return self.post("report", self.body("report", models))

    def leave(self) -> TestResponse:
        return self.post("leave", self.body("leave"))


def fan(
    model: str = "zhimi.fan.za4", using: tuple[str, ...] = ("natural-breeze",)
) -> dict[str, Any]:
    """One model's part of a report: a fan with three features."""
    caps = ["child-lock", "natural-breeze", "oscillation"]
    return {
        "model": model,
        "family": "fan",
        "capabilities": caps,
        "in_use": sorted(using),
        "lessons_done": ["fan-oscillation"],
        "lessons_dismissed": [],
    }


@pytest.fixture
def hub_clock() -> Clock:
    return Clock()


@pytest.fixture
def hub_app(tmp_path: Path, hub_clock: Clock) -> Iterator[Flask]:
    app = make_hub(tmp_path / "hub", hub_clock, min_homes=3, per_hour=5)
    yield app
    app.extensions["hub.engine"].dispose()


@pytest.fixture
def hub_client(hub_app: Flask) -> FlaskClient:
    return hub_app.test_client()


class LiveHub:
    """A hub served by a real waitress on a free loopback port, in a thread (as the demo does)."""

    def __init__(self, app: Flask) -> None:
        from edu.hub.serving import HubServer

        self.app = app
        self.server = HubServer(app, "127.0.0.1", 0, threads=4).start()
        self.url = self.server.url

    @property
    def engine(self) -> Any:
        return self.app.extensions["hub.engine"]

    def close(self) -> None:
        self.server.stop()
        assert self.server.stopped, "the hub's server did not stop"


@pytest.fixture
def live_hub(tmp_path: Path) -> Iterator[LiveHub]:
    hub = LiveHub(make_hub(tmp_path / "live-hub", min_homes=10))
    yield hub
    hub.close()
