"""Tokens from Home Assistant's config entries: devices imported, gateways and cloud logins not."""

from __future__ import annotations

import json
import logging
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from devices.discovery import discover
from devices.fleet import Fleet
from devices.home_assistant import read_token_file
from devices.tokens import TokenFileError, TokenRecord
from edu.cli import main
from edu.services.inventory import Inventory

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

FAN = "00112233445566778899aabbccddeeff"
LAMP = "0123456789abcdef0123456789abcdef"
GATEWAY = "deadbeefdeadbeefdeadbeefdeadbeef"
SECRETS = ("owner@example.com", "hunter2-cloud-password", "V1:session-token", "ssecurity-xyz")


def _store(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Home Assistant's .storage/core.config_entries around *entries*."""
    full = [
        {
            "created_at": "2026-01-01T00:00:00+00:00",
            "disabled_by": None,
            "entry_id": f"01J{number:023d}",
            "minor_version": 1,
            "options": {},
            "pref_disable_new_entities": False,
            "pref_disable_polling": False,
            "source": "user",
            "unique_id": None,
            "version": 1,
            **entry,
        }
        for number, entry in enumerate(entries)
    ]
    return {
        "version": 1,
        "minor_version": 5,
        "key": "core.config_entries",
        "data": {"entries": full},
    }


def _miio_device(host: str, token: str, model: str, mac: str, title: str) -> dict[str, Any]:
    return {
        "domain": "xiaomi_miio",
        "title": title,
        "unique_id": mac.lower(),
        "data": {
            "config_flow_device": "device",
            "host": host,
            "token": token,
            "model": model,
            "mac": mac.lower(),
            "cloud_username": SECRETS[0],
            "cloud_password": SECRETS[1],
            "cloud_country": "de",
        },
    }


def _miot_device(host: str, token: str, model: str, mac: str, title: str) -> dict[str, Any]:
    return {
        "domain": "xiaomi_miot",
        "title": title,
        "unique_id": mac.lower(),
        "data": {
            "host": host,
            "token": token,
            "name": title,
            "scan_interval": 30,
            "model": model,
            "miio_info": {"model": model, "mac": mac, "fw_ver": "2.1.8", "token": token},
            "miot_type": None,
            "unique_did": mac.lower(),
            "config_version": 0.3,
        },
    }


OTHERS: list[dict[str, Any]] = [
    {
        "domain": "xiaomi_miio",
        "title": "Xiaomi Gateway",
        "data": {
            "config_flow_device": "gateway",
            "host": "192.168.1.30",
            "token": GATEWAY,
            "model": "lumi.gateway.v3",
            "mac": "34:ce:00:00:00:05",
            "cloud_username": SECRETS[0],
            "cloud_password": SECRETS[1],
        },
    },
    {
        "domain": "xiaomi_miot",
        "title": "MiCloud: 1234567",
        "data": {
            "username": SECRETS[0],
            "password": SECRETS[1],
            "server_country": "cn",
            "user_id": "1234567",
            "service_token": SECRETS[2],
            "ssecurity": SECRETS[3],
            "conn_mode": "auto",
        },
    },
    {"domain": "hue", "title": "Hue Bridge", "data": {"host": "192.168.1.40", "api_key": "x"}},
]


def _write(tmp_path: Path, entries: list[dict[str, Any]]) -> Path:
    folder = tmp_path / ".storage"
    folder.mkdir(exist_ok=True)
    path = folder / "core.config_entries"
    path.write_text(json.dumps(_store(entries), indent=2))
    return path


def test_device_entries_are_read_and_gateways_and_cloud_accounts_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = _write(
        tmp_path,
        [
            _miio_device("192.168.1.20", FAN, "zhimi.fan.za4", "64:90:C1:00:00:01", "Study fan"),
            _miot_device(
                "192.168.1.21", LAMP, "yeelink.light.ceiling1", "7c:49:eb:00:00:02", "Lamp"
            ),
            *OTHERS,
        ],
    )
    found = read_token_file(path)
    assert found.records == [
        TokenRecord(FAN, None, "192.168.1.20", "64:90:C1:00:00:01", "zhimi.fan.za4", "Study fan"),
        TokenRecord(
            LAMP, None, "192.168.1.21", "7C:49:EB:00:00:02", "yeelink.light.ceiling1", "Lamp"
        ),
    ]
    assert found.counts() == {"gateway": 1, "cloud-account": 1}
    shown = repr(found) + caplog.text + " ".join(s.reason for s in found.skipped)
    for secret in (*SECRETS, FAN, LAMP, GATEWAY):
        assert secret not in shown


def test_a_file_of_only_other_integrations_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, [OTHERS[2]])
    with pytest.raises(TokenFileError, match="no Xiaomi devices"):
        read_token_file(path)


def test_a_bad_token_in_one_entry_skips_that_entry_only(tmp_path: Path) -> None:
    bad = _miio_device("192.168.1.9", "not-a-token", "zhimi.fan.za4", "64:90:C1:00:00:09", "Bad")
    good = _miio_device("192.168.1.20", FAN, "zhimi.fan.za4", "64:90:C1:00:00:01", "Fan")
    found = read_token_file(_write(tmp_path, [bad, good]))
    assert [r.token for r in found.records] == [FAN]
    assert found.counts() == {"bad-token": 1}
    assert "not-a-token" not in repr(found)


def test_other_token_files_still_read(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([{"did": "5", "token": FAN, "localip": "192.168.1.5"}]))
    assert read_token_file(path).records == [TokenRecord(FAN, 5, "192.168.1.5")]


def test_tokens_from_home_assistant_identify_the_fleet_on_loopback(
    fleet: Fleet, inventory: Inventory, tmp_path: Path
) -> None:
    found = discover([fleet.network], timeout=0.8)
    first = {row["did"]: row for row in inventory.scan(found)}
    hidden = [d for d in fleet.devices if d.provisioned]
    assert hidden and all(first[d.did]["status"] == "auth-failed" for d in hidden)

    entries = [
        (_miio_device if n % 2 else _miot_device)(d.ip, d.token, d.model, d.mac, d.name)
        for n, d in enumerate(hidden)
    ]
    path = _write(tmp_path, [*entries, *OTHERS])
    rows = inventory.import_tokens(path)
    assert sum(r["stored"] for r in rows) == len(hidden)
    assert sorted(r["reason"] for r in rows if not r["stored"]) == [
        "a Xiaomi cloud account entry: its login is not read",
        "a gateway entry: gateways are not taught yet",
    ]

    again = {row["did"]: row for row in inventory.scan(discover([fleet.network], timeout=0.8))}
    for device in hidden:
        row = again[device.did]
        assert row["model"] == device.model
        assert row["status"] == "online", (device.model, row["detail"])
        assert row["capabilities"]


def test_cli_import_counts_what_it_skipped_and_shows_no_login(tmp_path: Path) -> None:
    path = _write(tmp_path, OTHERS)
    result = CliRunner().invoke(
        main, ["--instance", str(tmp_path / "instance"), "tokens", "import", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "0 token(s) stored, 2 skipped" in result.output
    for secret in (*SECRETS, GATEWAY):
        assert secret not in result.output


def test_the_page_imports_home_assistants_file_and_counts_what_it_skipped(tmp_path: Path) -> None:
    from web_fixtures import Web, close_app, make_app, settings_for

    application = make_app(settings_for(tmp_path / "page"))
    person = Web(application.test_client())
    person.setup()
    store = json.dumps(_store(OTHERS)).encode()
    response = person.post(
        "/devices/import",
        {"file": (BytesIO(store), "core.config_entries")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "0 token(s) stored" in page and "2 entries skipped" in page
    for secret in (*SECRETS, GATEWAY):
        assert secret not in page
    assert not list((tmp_path / "page" / "uploads").iterdir())
    close_app(application)


def test_an_unreadable_upload_is_named_by_its_own_name_cut_to_80_characters(tmp_path: Path) -> None:
    from devices.home_assistant import read_token_file

    path = tmp_path / "upload-5e1af25cfa43aee2.json"
    path.write_bytes(b"\xff\xfe\x00 not text")
    name = "my-" + "x" * 200 + ".json"
    with pytest.raises(ValueError) as caught:
        read_token_file(path, name=name)
    message = str(caught.value)
    assert "upload-5e1af25cfa43aee2" not in message and str(tmp_path) not in message
    assert "my-xxx" in message and "x" * 100 not in message
