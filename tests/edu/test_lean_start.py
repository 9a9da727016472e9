"""A server loads what its household needs, not more: no Alembic when the database is current,
no lesson catalogue, Markdown or hub keys before anything uses them (issue 14's memory).

Each case runs the real start in a fresh interpreter (this test process has imported everything
already): open the instance as `edu serve` does, sign the admin in, draw the pages, run the
tip job, then report which of the watched libraries the interpreter loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from web_fixtures import PINS, Web

REPO = Path(__file__).resolve().parents[2]
WATCHED = ("alembic", "markdown", "cryptography.hazmat.primitives.asymmetric.ed25519")
START = """
import json, os, sys
from edu import create_app
from edu.catalogue import generation
from edu.config import Settings
from edu.tips.run import run_tips

settings = Settings.from_env()
app = create_app({"EDU_SETTINGS": settings, "TESTING": True})
client = app.test_client()
with client.session_transaction() as session:
    session["csrf"] = "lean-start-" + "x" * 24
signed = client.post(
    f"/signin/{sys.argv[1]}", data={"csrf_token": "lean-start-" + "x" * 24, "pin": sys.argv[2]}
)
pages = {path: client.get(path).status_code for path in sys.argv[3:]}
pages["signin"] = signed.status_code
catalogues = generation()
run_tips(app.extensions["edu.engine"], settings, collect=False, send_external=False)
print(json.dumps({
    "pages": pages,
    "catalogues_for_pages": catalogues,
    "catalogues_after_tips": generation(),
    "loaded": [name for name in os.environ["WATCHED"].split() if name in sys.modules],
}))
"""


def start(app: Flask, person: str, *paths: str) -> dict[str, Any]:
    """Run the start in a fresh interpreter on *app*'s instance; return what it reported."""
    settings = app.config["EDU_SETTINGS"]
    person_id = Web(app.test_client()).person_id(app, person)
    app.extensions["edu.engine"].dispose()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "EDU_INSTANCE": str(settings.instance),
        "EDU_DATABASE_URL": settings.database_url,
        "WATCHED": " ".join(WATCHED),
    }
    done = subprocess.run(
        [sys.executable, "-c", START, str(person_id), PINS[person], *paths],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_household_without_devices_loads_no_catalogue_markdown_keys_or_alembic(
    app: Flask, web: Web
) -> None:
    assert web.setup().status_code in (302, 303)
    report = start(app, "Mia", "/", "/devices/", "/progress")
    assert report["pages"] == {"/": 200, "/devices/": 200, "/progress": 200, "signin": 302}
    assert report["loaded"] == []
    assert report["catalogues_for_pages"] == report["catalogues_after_tips"] == 0


def test_a_household_with_devices_loads_the_catalogue_and_markdown_when_used(
    fleet_app: Flask,
) -> None:
    report = start(fleet_app, "Leo", "/", "/lessons/fan-child-lock")
    assert report["pages"] == {"/": 200, "/lessons/fan-child-lock": 200, "signin": 302}
    assert report["catalogues_for_pages"] == report["catalogues_after_tips"] == 1
    assert report["loaded"] == ["markdown"]  # a lesson drawn; the database current: no Alembic
