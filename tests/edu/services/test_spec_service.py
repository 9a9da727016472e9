"""MIoT specs fetched from a spec service when online, kept for months, never needed online.

A local HTTP server on 127.0.0.1 plays the public service's layout; nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from lan_fixtures import import_fleet_tokens

from devices.discovery import discover
from devices.fleet import Fleet
from devices.spec_service import SpecService, SpecServiceError, check_base
from devices.specs import SpecStore
from edu.config import Settings
from edu.schema import create_schema, make_engine
from edu.services.inventory import Inventory

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

DATA = Path(__file__).parent / "data" / "spec_service"
SIMS = DATA / "sims"
MODEL = "cuco.socket.zz9"
SPEC = json.loads((SIMS / f"{MODEL}.json").read_text(encoding="utf-8"))
NEW_URN = SPEC["type"]
OLD_URN = NEW_URN.replace(":2", ":1")
OLD_SPEC = {**SPEC, "type": OLD_URN, "description": "Outlet (first release)", "services": []}


class SpecServer:
    """A spec service on a free loopback port, counting the requests it answers."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        specs = {NEW_URN: SPEC, OLD_URN: OLD_SPEC}
        listing = {
            "instances": [
                {"model": MODEL, "version": 1, "type": OLD_URN, "status": "released"},
                {"model": MODEL, "version": 2, "type": NEW_URN, "status": "released"},
                {"model": "acme.other.x1", "version": 1, "type": "urn:x", "status": "released"},
            ]
        }
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                server.hits.append(url.path)
                body: Any = None
                if url.path == "/miot-spec-v2/instances" and query.get("status") == ["released"]:
                    body = listing
                elif url.path == "/miot-spec-v2/instance":
                    body = specs.get(query.get("type", [""])[0])
                data = json.dumps(body).encode() if body is not None else b"{}"
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/miot-spec-v2"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(no_proxy: None) -> Iterator[SpecServer]:
    running = SpecServer()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def outlet_fleet(offline_miot: None) -> Iterator[Fleet]:
    fleet = Fleet.load(str(DATA / "fleet.yaml"), sims_dir=SIMS).start_in_free_block()
    try:
        yield fleet
    finally:
        fleet.stop()


def _inventory(instance: Path, base: str) -> Inventory:
    settings = Settings.from_env(
        {
            "EDU_INSTANCE": str(instance),
            "EDU_MIOT_SPEC_URL": base,
            "EDU_DEVICE_TIMEOUT": "0.5",
            "EDU_DISCOVERY_TIMEOUT": "0.8",
        }
    )
    settings.ensure_instance()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    return Inventory.open(engine, settings)


def _scan(inventory: Inventory, fleet: Fleet, tmp_path: Path) -> dict[str, Any]:
    import_fleet_tokens(inventory, fleet, tmp_path)
    rows = inventory.scan(discover([fleet.network], timeout=0.8))
    inventory.engine.dispose()
    (row,) = rows
    return row


def test_a_model_nobody_ships_is_scanned_online_after_its_spec_is_fetched(
    server: SpecServer, outlet_fleet: Fleet, tmp_path: Path
) -> None:
    first = _scan(_inventory(tmp_path / "a", server.base), outlet_fleet, tmp_path)
    assert (first["model"], first["status"], first["family"]) == (MODEL, "online", "plug")
    assert {"remote-power", "wifi-led", "power-on-state", "off-timer", "power-usage"} <= set(
        first["capabilities"]
    )
    kept = json.loads((tmp_path / "a" / "specs" / f"{MODEL}.json").read_text())
    assert kept["type"] == NEW_URN  # the newest released version
    assert server.hits == ["/miot-spec-v2/instances", "/miot-spec-v2/instance"]

    server.stop()
    again = _scan(_inventory(tmp_path / "a", server.base), outlet_fleet, tmp_path)
    assert (again["status"], again["family"]) == ("online", "plug")
    assert set(again["capabilities"]) == set(first["capabilities"])

    # months later, still offline: the stale copy beats nothing
    spec_file = tmp_path / "a" / "specs" / f"{MODEL}.json"
    old = time.time() - 400 * 24 * 3600
    os.utime(spec_file, (old, old))
    stale = _scan(_inventory(tmp_path / "a", server.base), outlet_fleet, tmp_path)
    assert stale["status"] == "online" and stale["capabilities"] == again["capabilities"]

    never = _scan(_inventory(tmp_path / "b", server.base), outlet_fleet, tmp_path)
    assert never["status"] == "unsupported" and not never["capabilities"]
    port = server.base.split(":")[2].split("/")[0]
    assert never["detail"].startswith(f"no MIoT spec for {MODEL}: cannot reach the spec service")
    assert f"127.0.0.1:{port}" in never["detail"] and "\n" not in never["detail"]


def test_a_model_the_service_does_not_list_says_so(server: SpecServer, tmp_path: Path) -> None:
    store = SpecStore.online(tmp_path, base_url=server.base, shipped_dir=tmp_path / "none")
    assert store.get("acme.gizmo.v1") is None
    assert store.explain("acme.gizmo.v1").endswith("does not list acme.gizmo.v1")
    # a failed model is not asked for again at once
    hits = len(server.hits)
    assert store.get("acme.gizmo.v1") is None and len(server.hits) == hits


def test_the_listing_is_kept_beside_the_specs_for_a_day(server: SpecServer, tmp_path: Path) -> None:
    assert SpecService(server.base, cache_dir=tmp_path).fetch(MODEL)["type"] == NEW_URN
    assert SpecService(server.base, cache_dir=tmp_path).fetch(MODEL)["type"] == NEW_URN
    assert server.hits.count("/miot-spec-v2/instances") == 1


def test_a_stopped_service_fails_in_one_line(server: SpecServer, tmp_path: Path) -> None:
    server.stop()
    with pytest.raises(SpecServiceError, match=r"cannot reach the spec service at 127\.0\.0\.1"):
        SpecService(server.base, cache_dir=tmp_path, timeout=2).fetch(MODEL)


def test_fetching_is_off_unless_asked_and_the_reason_says_so(tmp_path: Path) -> None:
    settings = Settings.from_env({"EDU_INSTANCE": str(tmp_path)})
    assert not settings.fetch_specs and settings.spec_url is None
    offline = SpecStore.offline(tmp_path, shipped_dir=tmp_path / "none")
    assert offline.get(MODEL) is None
    assert offline.explain(MODEL).endswith("fetching specs is off")


@pytest.mark.parametrize("url", ["ftp://example.org/x", "miot-spec.org", "file:///etc/passwd"])
def test_a_spec_service_url_must_be_http(url: str) -> None:
    with pytest.raises(ValueError, match="not a spec service URL"):
        check_base(url)
    with pytest.raises(ValueError, match="EDU_MIOT_SPEC_URL"):
        Settings.from_env({"EDU_MIOT_SPEC_URL": url})
