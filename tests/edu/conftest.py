"""Fixtures for the application's tests: apps and signed-in people, a scanned household, the tip
database and its receivers, a shop, a big household, the browser."""

from __future__ import annotations

from browser_fixtures import browser  # noqa: F401
from demo_fixtures import store_app, store_instance, store_web  # noqa: F401
from lan_fixtures import inventory  # noqa: F401
from paging_fixtures import big_household  # noqa: F401
from tips_fixtures import any_db, http_receiver, smtp_receiver, tips_db  # noqa: F401
from web_fixtures import app, client, fleet_app, fleet_web, scanned_instance, web  # noqa: F401
