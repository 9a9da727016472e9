"""Fixtures for periodic tips: a household on SQLite or PostgreSQL, and real receivers on loopback.

Import them in ``tests/conftest.py``::

    from tips_fixtures import any_db, http_receiver, smtp_receiver, tips_db  # noqa: F401

The receivers are real servers bound to 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP
server that takes JSON webhooks and, like a careful receiver, keeps one copy per
``Idempotency-Key`` while still counting every request it got.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from process_helpers import free_port
from sqlalchemy.engine import Engine

from edu.catalogue import catalogue
from edu.config import Settings
from edu.db import unit_of_work
from edu.models import Device, DeviceCapability, FeatureUse, Household, Person
from edu.schema import create_schema, make_engine

POSTGRES_SERVER = os.environ.get("EDU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
ARRIVED = datetime(2024, 1, 1, tzinfo=UTC)  # the devices are not "new" at any test clock
BASE_URL = "http://coach.example:8080"


def postgres_available() -> bool:
    """Is the PostgreSQL server of the test machine listening on loopback?"""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def create_postgres_database(prefix: str = "edu_tips") -> tuple[str, Callable[[], None]]:
    """Create an empty PostgreSQL database; return its URL and a function that drops it."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{POSTGRES_SERVER}/{name}", drop


def family_capabilities(family: str) -> list[str]:
    """Return every capability the shipped lessons teach for a device family."""
    return sorted(
        {lesson.capability for lesson in catalogue().lessons("en") if family in lesson.families}
    )


@dataclass
class TipsDB:
    """A database with the schema, its settings, and helpers to add a household by hand."""

    engine: Engine
    settings: Settings
    backend: str

    def household(self, name: str = "Flat", timezone: str = "Europe/Berlin") -> int:
        with unit_of_work(self.engine) as session:
            row = Household(name=name, timezone=timezone)
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def device(
        self,
        household_id: int,
        family: str,
        did: int,
        *,
        status: str = "online",
        name: str = "",
        capabilities: list[str] | None = None,
    ) -> int:
        with unit_of_work(self.engine) as session:
            row = Device(
                household_id=household_id,
                did=did,
                ip="127.0.0.1",
                family=family,
                status=status,
                name=name,
                first_seen=ARRIVED,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            for cap in capabilities if capabilities is not None else family_capabilities(family):
                session.add(DeviceCapability(device_id=row.id, capability=cap))
            return row.id

    def person(self, household_id: int, name: str, language: str = "en") -> int:
        with unit_of_work(self.engine) as session:
            row = Person(household_id=household_id, name=name, language=language)
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def used(self, household_id: int, device_id: int, capability: str) -> None:
        """Record that the device state shows *capability* in use (for everyone)."""
        with unit_of_work(self.engine) as session:
            session.add(
                FeatureUse(
                    household_id=household_id,
                    device_id=device_id,
                    capability=capability,
                    person_key=0,
                    uses=1,
                )
            )


def make_tips_db(tmp_path: Path, backend: str) -> Iterator[TipsDB]:
    """Yield a TipsDB on a fresh SQLite file or a fresh PostgreSQL database."""
    drop: Callable[[], None] | None = None
    instance = tmp_path / "instance"
    url = f"sqlite:///{instance / 'feature-coach.sqlite3'}"
    if backend == "postgresql":
        if not postgres_available():
            pytest.skip("no PostgreSQL on 127.0.0.1:5432")
        url, drop = create_postgres_database()
    settings = Settings.from_env(
        {"EDU_INSTANCE": str(instance), "EDU_DATABASE_URL": url, "EDU_BASE_URL": BASE_URL}
    )
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    try:
        yield TipsDB(engine, settings, backend)
    finally:
        engine.dispose()
        if drop is not None:
            drop()


@pytest.fixture
def tips_db(tmp_path: Path) -> Iterator[TipsDB]:
    """A fresh SQLite database with the schema."""
    yield from make_tips_db(tmp_path, "sqlite")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TipsDB]:
    """The same test on SQLite and on PostgreSQL (127.0.0.1:5432)."""
    yield from make_tips_db(tmp_path, request.param)


# -- an HTTP receiver for JSON webhooks ------------------------------------------------------


@dataclass
class HttpReceiver:
    """A webhook receiver on loopback: keeps one copy per Idempotency-Key, counts every request."""

    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    on_request: Callable[[int], None] | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/hook", scheme: str = "json") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.changed:
            try:
                payload: Any = json.loads(body or b"null")
            except ValueError:
                payload = body.decode("utf-8", "replace")
            item = {"path": path, "headers": headers, "body": payload}
            self.requests.append(item)
            key = headers.get("Idempotency-Key")
            if key and key not in self.kept:
                self.kept[key] = item
            self.changed.notify_all()
            return len(self.requests)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait (with a deadline) until *count* requests arrived."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= count, timeout)


def _handler(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            count = receiver.record(self.path, dict(self.headers.items()), body)
            if receiver.on_request is not None:
                receiver.on_request(count)
            try:
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender died while we were answering (the crash test kills it)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A real HTTP server on 127.0.0.1 (random port) recording JSON webhooks."""
    receiver = HttpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- an SMTP receiver ------------------------------------------------------------------------


@dataclass
class SmtpReceiver:
    """Mail received by an aiosmtpd server on loopback."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Message] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def mailto(self, to: str = "mia@example.com") -> str:
        return f"mailto://{self.host}:{self.port}?from=coach@example.com&to={to}&mode=insecure"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            self.changed.notify_all()
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait (with a deadline) until *count* messages arrived."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.messages) >= count, timeout)


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 (random port)."""
    from aiosmtpd.controller import Controller

    receiver = SmtpReceiver(port=free_port())
    controller = Controller(receiver, hostname="127.0.0.1", port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()
