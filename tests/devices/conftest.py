"""Fixtures for the LAN side's tests: python-miio classes built offline, with no device I/O."""

from __future__ import annotations

from capability_fixtures import keep_yeelight_bindings, no_device_io, report_for  # noqa: F401
