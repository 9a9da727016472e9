"""Fixtures for the community hub's tests."""

from __future__ import annotations

from demo_fixtures import store  # noqa: F401  (the shop on the fleet, for the shops' tests)
from hub_fixtures import hub_app, hub_client, hub_clock, live_hub  # noqa: F401
