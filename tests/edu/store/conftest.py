"""Fixtures for the store demo's tests: the shop on the fleet, served live, and a browser on it."""

from __future__ import annotations

from demo_fixtures import demo_browser, live_store, store  # noqa: F401
from hub_fixtures import live_hub  # noqa: F401  (a shop joins a hub)
