"""One long-lived python-miio handle per device, with every network call bounded.

python-miio's own handshake waits 5 seconds per hello and retries three times, and a
device ignores message ids it has already seen. A ``DeviceLink`` keeps one protocol
object for the life of the device (so ids keep counting up), does its handshakes with
Feature Coach's own bounded hello, and turns library errors into plain statuses.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from devices.protocol import HELLO, PacketError, build_message, parse_hello, parse_reply

if TYPE_CHECKING:
    from miio import Device

logger = logging.getLogger(__name__)

MIIO_PORT = 54321


class LinkError(Exception):
    """A device call failed; ``status`` says how, the message says it in plain words."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def hello(ip: str, *, timeout: float, port: int = MIIO_PORT, attempts: int = 2) -> Any:
    """Send a unicast hello to *ip* and return the parsed reply (or raise LinkError)."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for attempt in range(attempts):
            try:
                sock.sendto(HELLO, (ip, port))
            except OSError as exc:
                raise LinkError("offline", f"cannot reach {ip}: {exc.strerror or exc}") from None
            # Spread the attempts over the timeout: UDP may drop the first one.
            window_end = min(deadline, time.monotonic() + timeout / attempts)
            if attempt == attempts - 1:
                window_end = deadline
            while (remaining := window_end - time.monotonic()) > 0:
                sock.settimeout(remaining)
                try:
                    data, addr = sock.recvfrom(1024)
                except (TimeoutError, ConnectionRefusedError):
                    break
                if addr[0] != ip:
                    continue
                try:
                    return parse_hello(data)
                except PacketError:
                    logger.debug("ignoring a reply from %s that is not a hello", ip)
    raise LinkError("offline", f"no answer from {ip}")


def classify(exc: BaseException) -> LinkError:
    """Turn an exception raised by python-miio into a LinkError with a plain message."""
    if isinstance(exc, LinkError):
        return exc
    from miio.exceptions import (
        DeviceError,
        DeviceException,
        InvalidTokenException,
        PayloadDecodeException,
    )

    if isinstance(exc, InvalidTokenException):
        return LinkError("auth-failed", "the device rejected the token (wrong token, or reset)")
    if isinstance(exc, PayloadDecodeException):
        return LinkError("error", "the device answered something that is not a miIO reply")
    if isinstance(exc, DeviceError):
        detail = exc.args[0] if exc.args else {}
        text = detail.get("message") or detail.get("error") if isinstance(detail, dict) else None
        return LinkError("error", f"the device refused the request: {text or 'error'}")
    if isinstance(exc, DeviceException):
        return LinkError("offline", "the device did not answer")
    if isinstance(exc, (TimeoutError, OSError)):
        return LinkError("offline", "the device did not answer")
    # construct raises its own errors for packets it cannot parse
    if type(exc).__module__.startswith("construct"):
        return LinkError("error", "the device answered with a malformed packet")
    return LinkError("error", f"unexpected {type(exc).__name__} while talking to the device")


def _bounded_protocol_class() -> type:
    from miio.miioprotocol import MiIOProtocol

    class BoundedProtocol(MiIOProtocol):
        """MiIOProtocol whose handshake is one bounded hello instead of 3 x 5 s."""

        def send_handshake(self, *, retry_count: int = 1) -> Any:
            try:
                reply = hello(str(self.ip), timeout=self._timeout, port=self.port)
            except LinkError:
                from miio.exceptions import DeviceException

                raise DeviceException("Unable to discover the device") from None
            self._device_id = reply.did.to_bytes(4, "big")
            self._device_ts = datetime.fromtimestamp(reply.stamp, UTC)
            self._discovered = True
            return reply

    return BoundedProtocol


_PROTOCOL_CLASS: type | None = None


def make_protocol(ip: str, token: str, *, timeout: float, port: int = MIIO_PORT) -> Any:
    """Return a MiIOProtocol for *ip* whose handshakes are bounded by *timeout*."""
    global _PROTOCOL_CLASS
    if _PROTOCOL_CLASS is None:
        _PROTOCOL_CLASS = _bounded_protocol_class()
    proto = _PROTOCOL_CLASS(ip, token, timeout=timeout)  # type: ignore[call-arg]
    proto.port = port
    return proto


@dataclass(slots=True)  # one per device, for as long as the process runs
class DeviceLink:
    """The long-lived connection to one device: its python-miio object and a lock."""

    ip: str
    token: str
    timeout: float = 2.0
    retries: int = 1
    port: int = MIIO_PORT
    device: Device | None = None
    lock: threading.Lock = field(init=False, repr=False, compare=False)
    protocol: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.protocol = make_protocol(self.ip, self.token, timeout=self.timeout, port=self.port)

    def __repr__(self) -> str:
        return f"DeviceLink(ip={self.ip!r}, model={self.model!r})"

    @property
    def model(self) -> str | None:
        return self.device.model if self.device is not None else None

    def move(self, ip: str) -> None:
        """Follow the device to a new address, keeping the message id counter."""
        self.ip = ip
        self.protocol.ip = ip
        self.protocol._discovered = False
        if self.device is not None:
            self.device.ip = ip

    def adopt(self, device: Device) -> Device:
        """Make *device* use this link's protocol (same ids, same handshake)."""
        device._protocol = self.protocol
        device.retry_count = self.retries
        self.device = device
        return device

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a python-miio call under the link's lock, raising LinkError on failure."""
        # A call abandoned by an impatient caller still holds the lock until its own
        # socket timeouts end it; later callers wait a bounded time, then give up.
        if not self.lock.acquire(timeout=self.timeout * (self.retries + 1) * 4):
            raise LinkError("offline", "the device is still busy with an earlier request")
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # every library failure becomes a per-device status
            error = classify(exc)
        finally:
            self.lock.release()
        if error.status == "auth-failed" and self.token_accepted():
            # python-miio reads at most 4 KiB of a reply: a longer one arrives cut short and
            # fails its checksum, which python-miio reports as a wrong token.
            error = LinkError(
                "error", "the device answered with a reply too long or damaged to read"
            )
        if error.status == "offline" and self.answers_hello():
            # A device with another token stays silent, exactly like an offline one;
            # only the hello, which needs no token, tells the two apart.
            error = LinkError(
                "auth-failed",
                "the device answers but not to this token: it may have been reset; enter its new token",
            )
        raise error

    def token_accepted(self) -> bool:
        """Ask for miIO.info ourselves (reading up to 64 KiB): does the device take the token?"""
        try:
            greeting = hello(self.ip, timeout=min(self.timeout, 1.0), port=self.port)
            request = {"id": self.protocol._id, "method": "miIO.info", "params": []}
            packet = build_message(request, self.token, did=greeting.did, stamp=greeting.stamp + 1)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(self.timeout)
                sock.sendto(packet, (self.ip, self.port))
                data, _ = sock.recvfrom(65535)
            parse_reply(data, self.token)
        except (LinkError, OSError, PacketError):
            return False
        return True

    def answers_hello(self) -> bool:
        """Return True when the device replies to a hello (no token needed)."""
        try:
            hello(self.ip, timeout=min(self.timeout, 1.0), port=self.port)
        except LinkError:
            return False
        return True
