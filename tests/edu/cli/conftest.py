"""Fixtures for the command-line tests: `edu` run as a person runs it, and a household to back up."""

from __future__ import annotations

from backup_fixtures import edu, home  # noqa: F401
