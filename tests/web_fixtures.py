"""Fixtures for the web page: the app on a temporary instance, and helpers that act like a person.

Import them in ``tests/conftest.py``::

    from web_fixtures import app, client, fleet_app, fleet_web, scanned_instance, web  # noqa: F401
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from database_mode import clone_instance
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select
from werkzeug.test import TestResponse

from devices.fleet import Fleet
from edu import create_app
from edu.config import Settings
from edu.models import Person

PINS = {"Mia": "1234", "Leo": "2345", "Ana": "3456"}
# Which devices (by fleet name) the members use; Mia, the admin, uses all of them.
MEMBER_DEVICES = {
    "Leo": ["Study fan", "Bedroom fan", "Living room vacuum", "Kitchen ceiling light"],
    "Ana": ["Bedroom purifier", "Nursery humidifier", "Bathroom heater", "Study fan"],
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings_for(instance: Path, networks: tuple[str, ...] = ()) -> Settings:
    """Settings for a test instance: short timeouts, the given networks."""
    env = {
        "EDU_INSTANCE": str(instance),
        "EDU_DEVICE_TIMEOUT": "0.5",
        "EDU_DISCOVERY_TIMEOUT": "0.8",
    }
    if networks:
        env["EDU_NETWORKS"] = ",".join(networks)
    return Settings.from_env(env)


def make_app(settings: Settings, **config: Any) -> Flask:
    """Create the app for tests."""
    return create_app({"EDU_SETTINGS": settings, "TESTING": True, **config})


def close_app(app: Flask) -> None:
    """End a test's app: let a scan it started finish, then close its database connections.

    A scan thread outliving its test would write into a database the next fixture has
    already dropped (PostgreSQL) or deleted (SQLite).
    """
    try:
        state = app.extensions["edu.scans"].wait(20)
        assert not state.running, "a scan was still running 20 s after its test"
    finally:
        app.extensions["edu.engine"].dispose()


class Web:
    """A person at the browser, through Flask's test client: signs in, posts forms with CSRF."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self) -> str:
        """Return the session's CSRF token (creating one as a page would)."""
        with self.client.session_transaction() as session:
            if "csrf" not in session:
                session["csrf"] = "test-csrf-token-" + "x" * 20
            return str(session["csrf"])

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        """Post a form the way the page does, with the CSRF token."""
        return self.client.post(url, data={"csrf_token": self.csrf(), **(data or {})}, **kwargs)

    def api(
        self, method: str, url: str, body: Any = None, token: str | None = None
    ) -> TestResponse:
        """Call the JSON API with an API token, or with the session and its CSRF header."""
        headers = {"Authorization": f"Bearer {token}"} if token else {"X-CSRF-Token": self.csrf()}
        return self.client.open(url, method=method, json=body, headers=headers)

    def setup(
        self,
        name: str = "Our flat",
        admin: str = "Mia",
        pin: str = "1234",
        timezone: str = "Europe/Berlin",
        language: str = "en",
    ) -> TestResponse:
        """Complete first-run setup."""
        return self.post(
            "/setup",
            {
                "name": name,
                "timezone": timezone,
                "language": language,
                "admin": admin,
                "pin": pin,
                "pin_again": pin,
            },
        )

    def person_id(self, app: Flask, name: str) -> int:
        engine = app.extensions["edu.engine"]
        with Session(engine) as session:
            person = session.exec(select(Person).where(Person.name == name)).one()
            assert person.id is not None
            return person.id

    def sign_in(self, app: Flask, name: str, pin: str | None = None) -> TestResponse:
        """Pick the profile and enter the PIN."""
        self.client.post("/signout", data={"csrf_token": self.csrf()})
        return self.post(f"/signin/{self.person_id(app, name)}", {"pin": pin or PINS[name]})

    def sign_out(self) -> TestResponse:
        return self.post("/signout")

    @staticmethod
    def csrf_in(page: TestResponse) -> str:
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, "no CSRF field on the page"
        return match.group(1)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on an empty instance (no household yet, no networks)."""
    application = make_app(settings_for(tmp_path / "instance"))
    yield application
    close_app(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def web(client: FlaskClient) -> Web:
    return Web(client)


def seed_household(app: Flask, fleet: Fleet) -> None:
    """Set up the household with Mia (admin), Leo and Ana, each using their devices."""
    from edu.models import Device
    from edu.services import accounts
    from edu.web.security import household

    with app.test_request_context():
        from edu.web.session import db

        session = db()
        accounts.setup_household(
            session,
            name="Our flat",
            timezone="Europe/Berlin",
            language="en",
            admin_name="Mia",
            pin=PINS["Mia"],
        )
        home = household()
        assert home is not None
        by_name = {d.name: d.did for d in session.exec(select(Device))}
        for name, devices in MEMBER_DEVICES.items():
            accounts.invite(
                session,
                home,
                name=name,
                role="member",
                pin=PINS[name],
                language="zh-CN" if name == "Ana" else "en",
                dids=[by_name[d] for d in devices],
            )
        session.close()


@pytest.fixture(scope="session")
def scanned_instance(fleet_session: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance with the whole fleet scanned, tokens imported, polled once, people seeded."""
    from devices.discovery import discover
    from edu.simulated.fleet import token_file_for

    fleet_session.reset()
    instance = tmp_path_factory.mktemp("scanned") / "instance"
    settings = settings_for(instance, (fleet_session.network,))
    application = make_app(settings)
    inventory = application.extensions["edu.inventory"]
    tokens = instance / "tokens.json"
    tokens.write_text(json.dumps(token_file_for(fleet_session)))
    inventory.import_tokens(tokens)
    tokens.unlink()
    inventory.scan(discover([fleet_session.network], timeout=0.8))
    inventory.poll()
    seed_household(application, fleet_session)
    application.extensions["edu.engine"].dispose()
    fleet_session.reset()
    return instance


@pytest.fixture
def fleet_app(fleet: Fleet, scanned_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    """The app on a copy of the scanned household, its networks the fleet's."""
    instance = tmp_path / "instance"
    clone_instance(scanned_instance, instance)
    application = make_app(settings_for(instance, (fleet.network,)))
    yield application
    close_app(application)


@pytest.fixture
def fleet_web(fleet_app: Flask) -> Web:
    return Web(fleet_app.test_client())
