"""Fixtures for the community hub's tests."""

from __future__ import annotations

from hub_fixtures import hub_app, hub_client, hub_clock, live_hub  # noqa: F401
