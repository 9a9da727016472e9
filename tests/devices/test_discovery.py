"""Discovery on loopback: sweeps, probes, broadcast and merging against real UDP responders."""

from __future__ import annotations

import errno
import random
import socket
import time
from collections.abc import Callable, Iterator
from ipaddress import IPv4Network
from typing import Any

import pytest
from netns.responder import Device, Responder

from devices import discovery
from devices.discovery import (
    Discovered,
    discover,
    probe,
    sweep,
)

TOKEN = "00112233445566778899aabbccddeeff"
TOKEN_B = "0123456789abcdef0123456789abcdef"
TIMEOUT = 1.0


class Lan:
    """A random 127.R.S.0/24 with responders on one random port, away from other test runs."""

    def __init__(self, second: int, third: int, port: int) -> None:
        self.prefix = f"127.{second}.{third}"
        self.outside_prefix = f"127.{second + 1}.{third}"
        self.network = f"{self.prefix}.0/24"
        self.port = port

    def ip(self, host: int | str) -> str:
        """Return the address of *host*: a number inside the /24, or "xN" just outside it."""
        text = str(host)
        if text.startswith("x"):
            return f"{self.outside_prefix}.{text[1:]}"
        return f"{self.prefix}.{text}"


@pytest.fixture
def lan_with() -> Iterator[Callable[[list[Device]], tuple[Lan, Responder]]]:
    """Start a Responder for devices named by host ("11", or "x60" outside the /24)."""
    started: list[Responder] = []
    rng = random.Random()

    def start(devices: list[Device]) -> tuple[Lan, Responder]:
        for _ in range(20):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
                second, third = rng.randint(100, 250), rng.randint(1, 250)
                probe_socket.bind((f"127.{second}.{third}.1", 0))
                port = probe_socket.getsockname()[1]
            lan = Lan(second, third, port)
            placed = [
                Device(
                    ip=lan.ip(d.ip),
                    did=d.did,
                    token=d.token,
                    mode=d.mode,
                    drop_first=d.drop_first,
                    reply_from=d.reply_from and lan.ip(d.reply_from),
                )
                for d in devices
            ]
            try:
                responder = Responder(placed, port=port)
            except OSError:
                continue
            started.append(responder.__enter__())
            return lan, responder
        pytest.fail("could not find a free loopback port for the responders")

    yield start
    for responder in started:
        responder.close()


def _summary(found: list[Discovered]) -> set[tuple[str, int, bool, str]]:
    return {(r.ip, r.did, r.token_known, r.source) for r in found}


def hellos_handled(responder: Responder, expected: dict[int, int]) -> dict[int, int]:
    """Return the hellos each device counted, once at least *expected* of them are counted.

    A sweep or probe may end before the responder's thread has read the last hello it
    sent (that thread can be late on a busy machine); wait for it, at most 2 s, so an
    equality check on the result still catches a hello too many or too few.
    """
    deadline = time.monotonic() + 2.0
    while True:
        counts = {d.did: d.hellos for d in responder.devices}
        done = all(counts.get(did, 0) >= n for did, n in expected.items())
        if done or time.monotonic() > deadline:
            return counts
        time.sleep(0.01)


def test_sweep_finds_exactly_the_devices_that_answer_a_good_hello(lan_with: Any) -> None:
    lan, responder = lan_with(
        [
            Device("11", 1011, TOKEN),  # fresh: reveals its token
            Device("12", 1012),  # provisioned: hides it
            Device("13", 1013, mode="garbage"),  # replies with malformed packets
            Device("14", 1014, mode="silent"),
            Device("15", 1015, drop_first=1),  # loses the first hello
            Device("16", 1011),  # the same did again, without its token
            Device("17", 1017, reply_from="x1"),  # answers from outside the swept range
        ]
    )
    started = time.monotonic()
    found = sweep([lan.network], timeout=TIMEOUT, port=lan.port)
    elapsed = time.monotonic() - started
    print(f"sweep of {lan.network}: {elapsed:.2f} s for timeout {TIMEOUT} s, {len(found)} devices")

    assert _summary(found) == {
        (lan.ip(11), 1011, True, "sweep"),
        (lan.ip(12), 1012, False, "sweep"),
        (lan.ip(15), 1015, False, "sweep"),
    }
    assert next(r for r in found if r.did == 1011).token == TOKEN
    hellos = hellos_handled(responder, {1012: 1, 1014: 2, 1015: 2})
    assert hellos[1012] == 1, "a host that answered must not get a second hello"
    assert hellos[1014] == 2, "a silent host gets one more hello halfway"
    assert hellos[1015] == 2


def test_sweep_without_resend_misses_a_device_that_lost_the_hello(lan_with: Any) -> None:
    lan, _ = lan_with([Device("20", 2020, drop_first=1), Device("21", 2021)])
    found = sweep(lan.network, timeout=0.3, port=lan.port, resend=0)
    assert _summary(found) == {(lan.ip(21), 2021, False, "sweep")}


class SlowSecondRound(socket.socket):
    """A socket whose send buffer fills up every few sends after the first round.

    On a loaded machine the kernel takes a second round of tens of thousands of hellos
    in bursts; between them the sweep waits for the socket to be writable again.
    """

    def __init__(self, first_round: int) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_DGRAM)
        self.first_round, self.sent, self.calls = first_round, 0, 0

    def sendto(self, data: Any, address: Any) -> int:  # type: ignore[override]
        self.calls += 1
        if self.sent >= self.first_round and self.calls % 10 == 0:
            time.sleep(0.04)
            raise BlockingIOError(errno.EAGAIN, "send buffer full")
        self.sent += 1
        return super().sendto(data, address)


def test_a_resend_round_slower_than_the_window_still_gets_its_answers(lan_with: Any) -> None:
    # The last address of the range loses its first hello; its second goes out ~1 s
    # after the round starts, long after the 0.2 s share of the window it was given.
    lan, responder = lan_with([Device("254", 2254, drop_first=1), Device("3", 2003)])
    targets = [str(host) for host in IPv4Network(lan.network).hosts()]
    with SlowSecondRound(first_round=len(targets)) as sock:
        found = discovery._exchange(
            sock, targets, timeout=0.4, port=lan.port, resend=1, source="sweep"
        )
        assert sock.sent == 2 * len(targets) - 1
    assert _summary(found) == {
        (lan.ip(254), 2254, False, "sweep"),
        (lan.ip(3), 2003, False, "sweep"),
    }
    assert hellos_handled(responder, {2254: 2, 2003: 1}) == {2254: 2, 2003: 1}


def test_sweep_of_127_0_0_0_24_on_the_miio_port() -> None:
    devices = [
        Device("127.0.0.201", 3201, TOKEN),
        Device("127.0.0.202", 3202),
        Device("127.0.0.203", 3203, mode="garbage"),
        Device("127.0.0.204", 3204, mode="silent"),
    ]
    try:
        responder = Responder(devices, port=54321)
    except OSError as ex:
        pytest.skip(f"127.0.0.201-204:54321 are taken by another run ({ex.strerror})")
    with responder:
        found = sweep(["127.0.0.0/24"], timeout=TIMEOUT)
    # Other simulated fleets may share 127.0.0.0/24 on this machine: judge only our addresses.
    ours = [r for r in found if r.ip in {d.ip for d in devices}]
    assert _summary(ours) == {
        ("127.0.0.201", 3201, True, "sweep"),
        ("127.0.0.202", 3202, False, "sweep"),
    }


def test_sweep_carries_on_past_unreachable_and_forbidden_addresses(
    lan_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lan, _ = lan_with([Device("30", 3030, TOKEN), Device("31", 3031), Device("32", 3032)])
    guarded_sendto = socket.socket.sendto
    faults = {
        lan.ip(5): [errno.ENETUNREACH] * 5,
        lan.ip(6): [errno.EPERM] * 5,
        lan.ip(31): [errno.ENOBUFS],  # transient: the next try goes through
        lan.ip(32): [errno.EHOSTUNREACH] * 5,
    }

    def faulty_sendto(self: socket.socket, data: Any, *args: Any) -> int:
        pending = faults.get(args[-1][0])
        if pending:
            code = pending.pop(0)
            raise OSError(code, errno.errorcode[code])
        return guarded_sendto(self, data, *args)

    monkeypatch.setattr(socket.socket, "sendto", faulty_sendto)
    found = sweep(lan.network, timeout=TIMEOUT, port=lan.port)
    assert _summary(found) == {
        (lan.ip(30), 3030, True, "sweep"),
        (lan.ip(31), 3031, False, "sweep"),
    }


def test_probe_returns_the_device_as_soon_as_it_answers(lan_with: Any) -> None:
    lan, _ = lan_with([Device("40", 4040, TOKEN)])
    found = probe(lan.ip(40), timeout=5.0, port=lan.port)
    assert found is not None
    assert (found.ip, found.did, found.token, found.source) == (lan.ip(40), 4040, TOKEN, "manual")


def test_probe_of_a_silent_address_returns_none(lan_with: Any) -> None:
    lan, responder = lan_with(
        [Device("41", 4141, mode="silent"), Device("42", 4242, mode="garbage")]
    )
    assert probe(lan.ip(41), timeout=0.3, port=lan.port) is None
    assert probe(lan.ip(42), timeout=0.3, port=lan.port) is None
    assert hellos_handled(responder, {4141: 2, 4242: 2}) == {4141: 2, 4242: 2}


@pytest.mark.parametrize("bad", ["", "kitchen", "192.168.1.300", "::1", "10.0.0.0/24"])
def test_probe_refuses_what_is_not_an_ipv4_address(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        probe(bad)
    assert "\n" not in str(caught.value)
    assert "IPv4" in str(caught.value) or "not an IP address" in str(caught.value)


def test_broadcast_collects_every_answer_itself(lan_with: Any) -> None:
    lan, _ = lan_with([])
    # 127.255.255.255 is loopback's broadcast address: every socket bound to it hears the hello.
    devices = [
        Device("127.255.255.255", 5051, TOKEN),
        Device("127.255.255.255", 5052),
        Device("127.255.255.255", 5053, mode="garbage"),
    ]
    with Responder(devices, port=lan.port, reuse=True):
        found = discovery.broadcast(address="127.255.255.255", timeout=0.5, port=lan.port)
    assert {(r.did, r.token_known, r.source) for r in found} == {
        (5051, True, "broadcast"),
        (5052, False, "broadcast"),
    }


def test_discover_merges_by_did_and_keeps_the_known_token(lan_with: Any) -> None:
    lan, _ = lan_with(
        [
            Device("50", 6050),  # device 6050 hides its token here ...
            Device("51", 6051, TOKEN_B),
            Device("x60", 6050, TOKEN),  # ... and reveals it at an address outside the range
        ]
    )
    found = discover([lan.network], ips=[lan.ip("x60")], timeout=TIMEOUT, port=lan.port)
    assert [(r.ip, r.did, r.token, r.source) for r in found] == [
        (lan.ip(51), 6051, TOKEN_B, "sweep"),
        (lan.ip("x60"), 6050, TOKEN, "manual"),
    ]


def test_sweep_finds_the_simulated_household_fleet() -> None:
    fleet_module = pytest.importorskip("devices.fleet")
    fleet = fleet_module.Fleet.load("household", seed=7)
    silent, slow = fleet.devices[1], fleet.devices[2]
    silent.fault = "no-reply"
    slow.fault, slow.slow_seconds = "slow", TIMEOUT / 4
    rng = random.Random()
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
            prefix = f"127.{rng.randint(100, 250)}.{rng.randint(1, 250)}"
            probe_socket.bind((f"{prefix}.1", 0))
            port = probe_socket.getsockname()[1]
        try:
            fleet.start(f"{prefix}.10", port=port)
        except fleet_module.FleetBindError:
            continue
        break
    else:
        pytest.fail("could not find free loopback addresses for the fleet")
    try:
        expected = {(d.ip, d.did, not d.provisioned) for d in fleet.devices if d is not silent}
        found = sweep(f"{prefix}.0/24", timeout=TIMEOUT, port=port)
    finally:
        fleet.stop()
    assert {(r.ip, r.did, r.token_known) for r in found} == expected
    fresh = [d for d in fleet.devices if not d.provisioned]
    assert fresh, "the household fleet has fresh devices that reveal their token"
    assert {r.did: r.token for r in found if r.token_known} == {d.did: d.token for d in fresh}


def test_sweep_of_a_slash_16_reaches_both_ends_in_one_pass() -> None:
    rng = random.Random()
    for _ in range(20):
        second = rng.randint(100, 250)
        devices = [
            Device(f"127.{second}.0.5", 8005, TOKEN),
            Device(f"127.{second}.200.9", 8009),
            Device(f"127.{second}.255.254", 8254, drop_first=1),
        ]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
            probe_socket.bind((devices[0].ip, 0))
            port = probe_socket.getsockname()[1]
        try:
            responder = Responder(devices, port=port)
        except OSError:
            continue
        break
    else:
        pytest.fail("could not find free loopback addresses")
    with responder:
        found = sweep(f"127.{second}.0.0/16", timeout=TIMEOUT, port=port)
    assert _summary(found) == {
        (f"127.{second}.0.5", 8005, True, "sweep"),
        (f"127.{second}.200.9", 8009, False, "sweep"),
        (f"127.{second}.255.254", 8254, False, "sweep"),
    }


def test_discover_keeps_what_one_way_found_when_another_fails(
    lan_with: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lan, _ = lan_with([Device("70", 7070, TOKEN)])

    def broken(*args: Any, **kwargs: Any) -> list[Discovered]:
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(discovery, "_unicast", broken)
    found = discover([lan.network], ips=[lan.ip("x70")], timeout=0.5, port=lan.port)
    assert _summary(found) == {(lan.ip(70), 7070, True, "sweep")}
    assert "manual discovery failed: Network is unreachable" in caplog.text
    assert TOKEN not in caplog.text
