"""Fixtures shared by the whole suite: the network guard, the app, the fleet."""

from __future__ import annotations

from netguard import network_guard  # noqa: F401  (autouse)
