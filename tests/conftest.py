"""Fixtures for the whole suite: the network guard, the database mode, the simulated fleet."""

from __future__ import annotations

import os

from database_mode import database_mode, database_mode_session  # noqa: F401  (autouse)
from fleet_fixtures import fleet, fleet_session, offline_miot  # noqa: F401
from hypothesis import settings
from netguard import network_guard  # noqa: F401  (autouse)

from edu.logs import install_redaction

install_redaction()  # every record any test makes is masked, as in every `edu` process

# Speed is measured in bench/, never asserted in a test: no per-example deadline (Hypothesis's
# default 200 ms fails property tests at random on a busy 2-core machine). The same inputs on
# every run, so a run fails only for a change; EDU_TEST_RANDOM=1 explores new ones (and
# `make bench` fuzzes the packet parsers with 300,000 fresh inputs).
settings.register_profile(
    "edu", deadline=None, derandomize=os.environ.get("EDU_TEST_RANDOM") != "1"
)
settings.load_profile("edu")
