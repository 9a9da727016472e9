"""Broadcast, mDNS and sweeps across a veth pair between two network namespaces we create.

Nothing here touches the host's network: the namespaces are new and joined only to each
other, and every process that sends runs inside one of them (the helper scripts refuse to
run anywhere else). This process only runs `ip` and reads pipes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.netns

HELPERS = Path(__file__).parent / "netns"
FAN_TOKEN = "00112233445566778899aabbccddeeff"
FAN_DID = 123456789
PLUG_DID = 777


@dataclass
class Pair:
    """Two namespaces joined by a veth pair: devices live in ``dev``, discovery runs in ``cli``."""

    dev: str
    cli: str
    prefix: str  # "10.254.N"

    def ip(self, host: int) -> str:
        return f"{self.prefix}.{host}"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """Create the two namespaces and the veth pair; delete them afterwards, whatever happens."""
    if not sys.platform.startswith("linux"):
        pytest.skip("network namespaces need Linux")
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root")
    if shutil.which("ip") is None:
        pytest.skip("the `ip` command (iproute2) is not installed")
    tag = secrets.token_hex(3)
    dev, cli = f"fc-{tag}-dev", f"fc-{tag}-cli"
    veth_dev, veth_cli = f"fc{tag}d", f"fc{tag}c"
    prefix = f"10.254.{random.randint(1, 250)}"
    created: list[str] = []
    try:
        for name in (dev, cli):
            result = _ip("netns", "add", name)
            if result.returncode != 0:
                pytest.skip(f"cannot create a network namespace: {result.stderr.strip()}")
            created.append(name)
        steps = [
            # The veth is born inside the namespaces: it never exists on the host.
            (
                "-n",
                dev,
                "link",
                "add",
                veth_dev,
                "type",
                "veth",
                "peer",
                "name",
                veth_cli,
                "netns",
                cli,
            ),
            ("-n", dev, "addr", "add", f"{prefix}.1/24", "brd", "+", "dev", veth_dev),
            ("-n", dev, "addr", "add", f"{prefix}.3/24", "brd", "+", "dev", veth_dev),
            ("-n", dev, "link", "set", "lo", "up"),
            ("-n", dev, "link", "set", veth_dev, "up"),
            ("-n", cli, "addr", "add", f"{prefix}.2/24", "brd", "+", "dev", veth_cli),
            ("-n", cli, "link", "set", "lo", "up"),
            ("-n", cli, "link", "set", veth_cli, "up"),
            # 255.255.255.255 and mDNS multicast leave by the default route: the veth.
            ("-n", cli, "route", "add", "default", "dev", veth_cli),
        ]
        for step in steps:
            result = _ip(*step)
            assert result.returncode == 0, f"ip {' '.join(step)}: {result.stderr.strip()}"
        yield Pair(dev=dev, cli=cli, prefix=prefix)
    finally:
        for name in created:
            _ip("netns", "del", name)


def _python(ns: str, script: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", ns, sys.executable, str(HELPERS / script), *args]


@contextmanager
def serving(ns: str, devices: list[str], mdns: Sequence[str] = ()) -> Iterator[None]:
    """Run the hello responder (and mDNS adverts) in *ns* until the block ends."""
    args = [f"--device={d}" for d in devices] + [f"--mdns={m}" for m in mdns]
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(
            _python(ns, "responder.py", *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as process,
    ):
        assert process.stdin is not None and process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 30)
            line = process.stdout.readline().strip() if ready else ""
            if line != "ready":
                process.kill()
                process.wait(timeout=10)
                errors.seek(0)
                pytest.fail(f"responder did not start: {errors.read().strip()[-800:]}")
            yield
        finally:
            if process.poll() is None:
                process.stdin.close()  # the responder serves until its stdin closes
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def discover_in(ns: str, what: str, **kwargs: Any) -> dict[str, Any]:
    """Run one discovery call inside *ns*; return its elapsed time and records."""
    result = subprocess.run(
        _python(ns, "run_discovery.py", what, json.dumps(kwargs)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert FAN_TOKEN not in result.stdout + result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{what} in {ns}: {outcome['elapsed']:.2f} s, {len(outcome['found'])} found")
    return outcome


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _rows(outcome: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["ip"], r["did"], r["source"], r["model"], r["token_known"]) for r in outcome["found"]
    ]


@pytest.mark.parametrize("address", ["255.255.255.255", "subnet"])
def test_broadcast_hello_across_the_veth_finds_the_device_and_ignores_garbage(
    pair: Pair, address: str
) -> None:
    target = pair.ip(255) if address == "subnet" else address
    devices = [f"ip=0.0.0.0,did={FAN_DID},token={FAN_TOKEN}", "ip=0.0.0.0,did=555,mode=garbage"]
    with serving(pair.dev, devices):
        outcome = discover_in(pair.cli, "broadcast", address=target, timeout=1.0)
    assert _rows(outcome) == [(pair.ip(1), FAN_DID, "broadcast", None, True)]
    assert outcome["found"][0]["token"] == _fingerprint(FAN_TOKEN)
    assert FAN_TOKEN not in outcome["found"][0]["repr"]


ADVERTISED = [f"zhimi-fan-za4_miio{FAN_DID}@{{fan}}", "chuangmi-plug-m1_mibt5F3A@{plug}"]


def _fan_and_plug(pair: Pair) -> tuple[list[str], list[str]]:
    devices = [
        f"ip={pair.ip(1)},did={FAN_DID},token={FAN_TOKEN}",
        f"ip={pair.ip(3)},did={PLUG_DID}",
    ]
    adverts = [a.format(fan=pair.ip(1), plug=pair.ip(3)) for a in ADVERTISED]
    return devices, adverts


def test_mdns_finds_advertised_devices_and_probes_a_name_without_a_did(pair: Pair) -> None:
    devices, adverts = _fan_and_plug(pair)
    with serving(pair.dev, devices, adverts):
        outcome = discover_in(pair.cli, "mdns", timeout=2.0)
    assert _rows(outcome) == [
        # the did comes from the instance name; mDNS never carries a token
        (pair.ip(1), FAN_DID, "mdns", "zhimi.fan.za4", False),
        # this name has no did: a unicast hello to the advertised address learned it
        (pair.ip(3), PLUG_DID, "mdns", "chuangmi.plug.m1", False),
    ]


def test_sweep_across_the_veth_finds_both_devices(pair: Pair) -> None:
    devices, _ = _fan_and_plug(pair)
    with serving(pair.dev, devices):
        outcome = discover_in(pair.cli, "sweep", networks=f"{pair.prefix}.0/24", timeout=1.0)
    assert _rows(outcome) == [
        (pair.ip(1), FAN_DID, "sweep", None, True),
        (pair.ip(3), PLUG_DID, "sweep", None, False),
    ]


def test_discover_merges_sweep_broadcast_and_mdns_by_did(pair: Pair) -> None:
    devices, adverts = _fan_and_plug(pair)
    with serving(pair.dev, devices, adverts):
        outcome = discover_in(
            pair.cli,
            "discover",
            networks=[f"{pair.prefix}.0/24"],
            broadcast=True,
            mdns=True,
            timeout=1.5,
        )
    # One record per device: the sweep's (it knows the fan's token) with mDNS's model.
    assert _rows(outcome) == [
        (pair.ip(1), FAN_DID, "sweep", "zhimi.fan.za4", True),
        (pair.ip(3), PLUG_DID, "sweep", "chuangmi.plug.m1", False),
    ]


def test_without_a_route_sweep_and_broadcast_give_up_at_once(pair: Pair) -> None:
    # The device namespace has no default route: every send fails with ENETUNREACH.
    swept = discover_in(pair.dev, "sweep", networks="10.99.0.0/28", timeout=5.0)
    assert swept["found"] == []
    assert swept["elapsed"] < 2.5, "nothing could be sent, so there is nothing to wait for"
    broadcast = discover_in(pair.dev, "broadcast", timeout=5.0)
    assert broadcast["found"] == []
    assert broadcast["elapsed"] < 2.5
