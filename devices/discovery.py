"""Find miIO devices: unicast hello sweep, broadcast hello, mDNS and manual IPs."""

from __future__ import annotations

import errno
import logging
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from devices.networks import LIMITED_BROADCAST, check_ip, is_local, parse_networks
from devices.protocol import HELLO, PORT, PacketError, parse_hello

logger = logging.getLogger(__name__)

SOURCES = ("sweep", "broadcast", "mdns", "manual")

_SEND_RETRIES = 3  # attempts per address when the kernel is out of buffers
_BACKOFF = 0.01  # seconds to let buffers drain after ENOBUFS


@dataclass(frozen=True)
class Discovered:
    """A device that answered: where, which one, its token if it revealed it, and how."""

    ip: str
    did: int
    token: str | None
    source: str
    model: str | None = None

    @property
    def token_known(self) -> bool:
        """Tell whether the device revealed its token."""
        return self.token is not None

    def __repr__(self) -> str:
        model = f", model={self.model!r}" if self.model else ""
        return (
            f"Discovered(ip={self.ip!r}, did={self.did}, source={self.source!r}{model}, "
            f"token_known={self.token_known})"
        )

    __str__ = __repr__


def _check_timing(timeout: float, port: int, resend: int = 0) -> None:
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if not 0 < port < 65536:
        raise ValueError(f"not a UDP port: {port!r}")
    if resend < 0:
        raise ValueError(f"resend must be 0 or more, not {resend!r}")


def _keep(found: dict[int, Discovered], record: Discovered) -> None:
    """Add *record* to *found* by did, preferring a record that knows the token."""
    old = found.get(record.did)
    if old is None:
        found[record.did] = record
        return
    best, other = (record, old) if record.token_known and not old.token_known else (old, record)
    if best.model is None and other.model is not None:
        best = replace(best, model=other.model)
    found[record.did] = best


def _ordered(found: Iterable[Discovered]) -> list[Discovered]:
    return sorted(found, key=lambda record: (IPv4Address(record.ip), record.did))


def _exchange(
    sock: socket.socket,
    targets: list[str],
    *,
    timeout: float,
    port: int,
    resend: int,
    source: str,
    from_anyone: bool = False,
) -> list[Discovered]:
    """Send a hello to every target from one socket and collect the replies.

    All hellos go out first (as fast as the socket takes them), replies are read while
    sending; the collection window is *timeout* from the last first-round send, and
    silent targets get another hello at even intervals inside it. A resent hello always
    gets its share of the window: when a round takes longer to send than the window has
    left (tens of thousands of addresses on a busy machine), the window grows to match.
    """
    sock.setblocking(False)
    wanted = set(targets)
    pending = deque(targets)
    answered: set[str] = set()
    failed: set[str] = set()
    attempts: dict[str, int] = {}
    found: dict[int, Discovered] = {}
    resend_at: deque[float] = deque()
    deadline: float | None = None
    round_window = timeout / (resend + 1)
    resending = False
    backoff_until = 0.0

    def send_some(now: float) -> None:
        nonlocal backoff_until
        while pending and now >= backoff_until:
            ip = pending[0]
            try:
                sock.sendto(HELLO, (ip, port))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as ex:
                if ex.errno == errno.ENOBUFS and attempts.get(ip, 0) < _SEND_RETRIES:
                    attempts[ip] = attempts.get(ip, 0) + 1
                    backoff_until = now + _BACKOFF
                    return
                # One failed address among many is normal in a sweep; alone it is news.
                level = logging.WARNING if len(wanted) == 1 else logging.DEBUG
                logger.log(level, "cannot send a hello to %s: %s", ip, ex.strerror or ex)
                failed.add(ip)
            pending.popleft()

    def receive() -> None:
        for _ in range(4096):
            try:
                data, address = sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as ex:
                logger.debug("receive error ignored: %s", ex.strerror or ex)
                continue
            ip = address[0]
            if not from_anyone and ip not in wanted:
                logger.debug("ignored a datagram from %s, which was not asked", ip)
                continue
            try:
                hello = parse_hello(data)
            except PacketError as ex:
                logger.debug("ignored a datagram from %s: %s", ip, ex)
                continue
            answered.add(ip)
            logger.debug(
                "hello from %s: did %s, token %s",
                ip,
                hello.did,
                "revealed" if hello.token_known else "hidden",
            )
            _keep(found, Discovered(ip=ip, did=hello.did, token=hello.token, source=source))

    selector = selectors.DefaultSelector()  # not select(): a busy app may hold fds > 1023
    selector.register(sock, selectors.EVENT_READ)
    try:
        while True:
            now = time.monotonic()
            send_some(now)
            if deadline is None and not pending:
                deadline = now + timeout
                resend_at.extend(now + round_window * k for k in range(1, resend + 1))
            elif resending and not pending:
                resending = False
                deadline = max(deadline or now, now + round_window)
            if resend_at and not pending and now >= resend_at[0]:
                resend_at.popleft()
                silent = [ip for ip in targets if ip not in answered and ip not in failed]
                logger.debug("sending another hello to %d silent addresses", len(silent))
                pending.extend(silent)
                resending = bool(silent)
                continue
            settled = wanted <= failed if from_anyone else wanted <= answered | failed
            if deadline is not None and (settled or (now >= deadline and not pending)):
                break
            if pending or deadline is None:
                wait = max(backoff_until - now, 0.0) or 0.05
            else:
                wait = min([deadline, *resend_at]) - now
            events = selectors.EVENT_READ
            if pending and now >= backoff_until:
                events |= selectors.EVENT_WRITE
            selector.modify(sock, events)
            for _key, ready in selector.select(max(wait, 0.0)):
                if ready & selectors.EVENT_READ:
                    receive()
    finally:
        selector.close()
    logger.debug(
        "%s: %d addresses, %d answered, %d unreachable, %d devices",
        source,
        len(wanted),
        len(answered),
        len(failed),
        len(found),
    )
    return _ordered(found.values())


Networks = Iterable[IPv4Network | str] | IPv4Network | str


def _networks(networks: Networks, allow_public: bool = False) -> list[IPv4Network]:
    """Check ranges given as text or IPv4Network objects, with parse_networks's rules."""
    return parse_networks(networks, allow_public=allow_public)


def _hosts(networks: Networks, allow_public: bool) -> list[str]:
    seen: dict[str, None] = {}
    for network in _networks(networks, allow_public):
        for host in network.hosts():
            seen.setdefault(str(host), None)
    return list(seen)


def sweep(
    networks: Networks,
    *,
    timeout: float = 2.0,
    port: int = PORT,
    resend: int = 1,
    allow_public: bool = False,
) -> list[Discovered]:
    """Send a unicast hello to every host of *networks* at once and return who answered.

    Only private, link-local, shared and loopback ranges unless *allow_public*.
    """
    _check_timing(timeout, port, resend)
    targets = _hosts(networks, allow_public)
    if not targets:
        return []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return _exchange(sock, targets, timeout=timeout, port=port, resend=resend, source="sweep")


def _broadcast(*, address: str, timeout: float, port: int) -> list[Discovered]:
    target = check_ip(address, allow_public=address == LIMITED_BROADCAST)
    _check_timing(timeout, port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        return _exchange(
            sock,
            [target],
            timeout=timeout,
            port=port,
            resend=1,
            source="broadcast",
            from_anyone=True,
        )


def broadcast(
    *, address: str = "255.255.255.255", timeout: float = 2.0, port: int = PORT
) -> list[Discovered]:
    """Broadcast a hello on the local network and return every device that answered."""
    return _broadcast(address=address, timeout=timeout, port=port)


def _unicast(targets: list[str], *, timeout: float, port: int, source: str) -> list[Discovered]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return _exchange(sock, targets, timeout=timeout, port=port, resend=1, source=source)


def _probe(
    ip: str, *, timeout: float, port: int, source: str, allow_public: bool = False
) -> Discovered | None:
    target = check_ip(ip, allow_public=allow_public)
    _check_timing(timeout, port)
    found = _unicast([target], timeout=timeout, port=port, source=source)
    return found[0] if found else None


def probe(
    ip: str, *, timeout: float = 2.0, port: int = PORT, allow_public: bool = False
) -> Discovered | None:
    """Send a hello to one (non-public unless allowed) address; None when nothing answered."""
    return _probe(ip, timeout=timeout, port=port, source="manual", allow_public=allow_public)


def _mdns(*, timeout: float, interfaces: Any, port: int) -> list[Discovered]:
    from devices.mdns import browse

    _check_timing(timeout, port)
    found_by_did: dict[int, Discovered] = {}
    for advert in browse(timeout, interfaces):
        if not advert.ips:
            logger.debug("mDNS name %s has no IPv4 address", advert.name)
            continue
        ip = advert.ips[0]
        if not is_local(IPv4Address(ip)):
            logger.debug("mDNS name %s gives a public address; not probed", advert.name)
            continue
        if advert.did is None:
            record = _probe(ip, timeout=min(timeout, 1.0), port=port, source="mdns")
            if record is None:
                logger.debug("mDNS device at %s did not answer a hello", ip)
                continue
            record = replace(record, model=advert.model)
        else:
            record = Discovered(ip, advert.did, None, "mdns", model=advert.model)
        _keep(found_by_did, record)
    return _ordered(found_by_did.values())


def mdns(*, timeout: float = 3.0, interfaces: Any = None, port: int = PORT) -> list[Discovered]:
    """Browse ``_miio._udp.local.`` and return the devices that advertise themselves (devices.mdns)."""
    return _mdns(timeout=timeout, interfaces=interfaces, port=port)


def discover(
    networks: Networks = (),
    *,
    broadcast: bool = False,
    mdns: bool = False,
    ips: Iterable[str] = (),
    timeout: float = 2.0,
    port: int = PORT,
    allow_public: bool = False,
) -> list[Discovered]:
    """Run the requested ways at once and merge what they found by did.

    Public ranges and addresses are refused (before any packet leaves) unless *allow_public*.
    """
    # Check every input before a single packet leaves.
    nets = _networks(networks, allow_public)
    ip_list = [ips] if isinstance(ips, str) else ips
    targets = list(dict.fromkeys(check_ip(ip, allow_public=allow_public) for ip in ip_list))
    _check_timing(timeout, port)
    jobs: dict[str, Callable[[], list[Discovered]]] = {}
    if nets:
        jobs["sweep"] = lambda: sweep(nets, timeout=timeout, port=port, allow_public=allow_public)
    if broadcast:
        jobs["broadcast"] = lambda: _broadcast(
            address="255.255.255.255", timeout=timeout, port=port
        )
    if mdns:
        jobs["mdns"] = lambda: _mdns(timeout=timeout, interfaces=None, port=port)
    if targets:
        jobs["manual"] = lambda: _unicast(targets, timeout=timeout, port=port, source="manual")
    if not jobs:
        return []

    def run(way: str) -> list[Discovered]:
        # One way failing (no route, mDNS port taken) must not lose what the others found.
        try:
            return jobs[way]()
        except OSError as ex:
            logger.warning("%s discovery failed: %s", way, ex.strerror or ex)
            return []

    found: dict[int, Discovered] = {}
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="discover") as pool:
        for records in pool.map(run, list(jobs)):
            for record in records:
                _keep(found, record)
    return _ordered(found.values())
