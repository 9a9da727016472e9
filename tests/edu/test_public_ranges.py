"""Only a household's own networks are searched: public ranges are refused before a socket opens."""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Network
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from devices.discovery import discover, probe, sweep
from devices.networks import check_ip, is_local, parse_networks
from edu.cli import main
from edu.config import Settings
from edu.services.scans import ScanTracker


class SocketOpened(AssertionError):
    """A socket was created although the target should have been refused first."""


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Make creating any socket fail the test, and record the attempts."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise SocketOpened(f"a socket was opened: {args}")

    monkeypatch.setattr(socket, "socket", refuse)
    return attempts


@pytest.mark.parametrize(
    "cidr",
    [
        "10.1.0.0/16",
        "172.16.0.0/16",
        "172.31.255.0/24",
        "192.168.1.0/24",
        "169.254.1.0/24",
        "100.64.0.0/16",
        "100.127.255.0/24",
        "127.0.0.0/24",
    ],
)
def test_own_ranges_are_accepted(cidr: str) -> None:
    assert parse_networks([cidr]) == [IPv4Network(cidr)]


@pytest.mark.parametrize(
    "cidr",
    [
        "8.8.8.8/32",
        "1.1.1.0/24",
        "172.32.0.0/16",  # just past 172.16.0.0/12
        "172.15.255.0/24",
        "100.128.0.0/16",  # just past 100.64.0.0/10
        "192.169.0.0/16",
        "224.0.0.0/24",  # multicast
        "0.0.0.0/32",
    ],
)
def test_public_ranges_are_refused_in_one_line_naming_the_flag(cidr: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_networks([cidr])
    message = str(caught.value)
    assert "\n" not in message
    assert str(IPv4Network(cidr)) in message and "--allow-public" in message
    assert parse_networks([cidr], allow_public=True) == [IPv4Network(cidr)]


def test_a_range_straddling_the_private_edge_is_refused() -> None:
    # 172.0.0.0/10 holds 172.16.0.0/12 and public addresses around it.
    assert not is_local(IPv4Network("172.0.0.0/10"))
    with pytest.raises(ValueError, match="not a private"):
        parse_networks(["172.0.0.0/16"])


def test_public_addresses_are_refused() -> None:
    assert check_ip("192.168.1.20") == "192.168.1.20"
    with pytest.raises(ValueError, match="--allow-public"):
        check_ip("8.8.4.4")
    assert check_ip("8.8.4.4", allow_public=True) == "8.8.4.4"


def test_discovery_refuses_public_targets_before_opening_a_socket(no_sockets: list[Any]) -> None:
    with pytest.raises(ValueError, match=re.escape("8.8.8.8/32")):
        discover(["8.8.8.8/32"], timeout=0.1)
    with pytest.raises(ValueError, match=re.escape("1.1.1.1")):
        discover(["127.0.0.0/30"], ips=["1.1.1.1"], timeout=0.1)
    with pytest.raises(ValueError, match=re.escape("9.9.9.0/30")):
        sweep(["9.9.9.0/30"], timeout=0.1)
    with pytest.raises(ValueError, match=re.escape("9.9.9.9")):
        probe("9.9.9.9", timeout=0.1)
    assert no_sockets == []


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("EDU_NETWORKS", raising=False)
    monkeypatch.delenv("EDU_ALLOW_PUBLIC", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["--instance", str(tmp_path / "instance"), *args], env=env)

    return invoke


def _one_line(result: Any) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--network", "8.8.8.8/32"),
        ("discover", "--network", "8.8.8.8/32", "--json"),
        ("discover", "--ip", "8.8.8.8"),
        ("scan", "--ip", "8.8.8.8", "--network", "127.0.0.0/30"),
        ("add", "--ip", "8.8.8.8", "--token", "0" * 32),
    ],
)
def test_cli_refuses_public_targets_and_sends_nothing(
    run: Any, no_sockets: list[Any], args: tuple[str, ...]
) -> None:
    line = _one_line(run(*args))
    assert line.startswith("error: ") and "8.8.8.8" in line and "--allow-public" in line
    assert "0" * 32 not in line
    assert no_sockets == []


def test_edu_networks_with_a_public_range_is_refused(run: Any, no_sockets: list[Any]) -> None:
    line = _one_line(run("scan", env={"EDU_NETWORKS": "192.168.1.0/24,8.8.8.0/24"}))
    assert "EDU_NETWORKS" in line and "8.8.8.0/24" in line
    with pytest.raises(ValueError, match=re.escape("EDU_NETWORKS: 8.8.8.0/24")):
        Settings.from_env({"EDU_NETWORKS": "8.8.8.0/24"})
    allowed = Settings.from_env({"EDU_NETWORKS": "8.8.8.0/24", "EDU_ALLOW_PUBLIC": "1"})
    assert [str(n) for n in allowed.networks] == ["8.8.8.0/24"] and allowed.allow_public
    assert no_sockets == []


def test_the_page_scan_refuses_a_public_range(no_sockets: list[Any]) -> None:
    tracker = ScanTracker()
    inventory: Any = SimpleNamespace(settings=SimpleNamespace(allow_public=False))
    with pytest.raises(ValueError, match="--allow-public"):
        tracker.start(inventory, ("8.8.8.0/24",))
    assert not tracker.state.running and no_sockets == []


def test_the_page_and_the_api_refuse_to_add_a_public_address(
    tmp_path: Path, no_sockets: list[Any]
) -> None:
    from web_fixtures import Web, close_app, make_app, settings_for

    application = make_app(settings_for(tmp_path / "web"))
    person = Web(application.test_client())
    person.setup()
    page = person.post(
        "/devices/add", {"ip": "8.8.8.8", "token": "0" * 32, "name": ""}, follow_redirects=True
    )
    assert page.status_code == 400
    assert "only reaches addresses of your own network" in page.get_data(as_text=True)
    answer = person.api("POST", "/api/v1/devices", {"ip": "8.8.8.8", "token": "0" * 32})
    assert answer.status_code == 400 and answer.get_json()["error"] == "public-address"
    assert "--allow-public" in answer.get_json()["message"]
    assert no_sockets == []
    close_app(application)
