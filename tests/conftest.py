"""Fixtures shared by the whole suite: the network guard, the fleet, the app."""

from __future__ import annotations

import os

from browser_fixtures import browser  # noqa: F401
from database_mode import database_mode, database_mode_session  # noqa: F401  (autouse)
from demo_fixtures import (  # noqa: F401
    demo_browser,
    live_store,
    store,
    store_app,
    store_instance,
    store_web,
)
from fleet_fixtures import fleet, fleet_session, offline_miot  # noqa: F401
from hypothesis import settings
from lan_fixtures import inventory  # noqa: F401
from netguard import network_guard  # noqa: F401  (autouse)
from paging_fixtures import big_household  # noqa: F401
from tips_fixtures import any_db, http_receiver, smtp_receiver, tips_db  # noqa: F401
from web_fixtures import app, client, fleet_app, fleet_web, scanned_instance, web  # noqa: F401

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
