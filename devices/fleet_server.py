"""The wire side of the simulated fleet: miIO packets, one asyncio loop thread, UDP endpoints.

Packets are built and parsed with python-miio's own ``miio.protocol.Message``; the hello
reply is the 32-byte header real devices send. Every device endpoint lives on one asyncio
loop running in one background thread; other threads reach it through ``LoopThread.call``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from devices.protocol import PacketError, parse_message

logger = logging.getLogger(__name__)

T = TypeVar("T")


class FleetBindError(OSError):
    """A simulated device could not bind its address (taken, or not a local address)."""


def parse_request(data: bytes, token: bytes) -> dict[str, Any]:
    """Verify and decrypt a request with the device token; raise PacketError if it is not one.

    The checksum is checked before anything is decrypted, as on a device: a wrong token
    whose padding happens to look valid must not reach the JSON decoder.
    """
    payload = parse_message(data, token)
    if "method" not in payload:
        raise PacketError("request without a method")
    return payload


class DeviceProtocol(asyncio.DatagramProtocol):
    """Hand every datagram of one endpoint to its device."""

    def __init__(
        self, on_datagram: Callable[[bytes, Any, asyncio.DatagramTransport], None]
    ) -> None:
        self._on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.transport is None:
            return
        try:
            self._on_datagram(data, addr, self.transport)
        except Exception:
            # One bad request must never take the endpoint (or the loop) down.
            logger.exception("simulated device failed to answer a datagram from %s", addr[0])


def send_later(
    loop: asyncio.AbstractEventLoop,
    transport: asyncio.DatagramTransport,
    packet: bytes,
    addr: Any,
    delay: float,
) -> None:
    """Send a packet now or after a delay, unless its endpoint has closed meanwhile."""

    def send() -> None:
        if not transport.is_closing():
            transport.sendto(packet, addr)

    if delay > 0:
        loop.call_later(delay, send)
    else:
        send()


async def open_endpoint(
    ip: str, port: int, protocol: DeviceProtocol, label: str
) -> asyncio.DatagramTransport:
    """Bind one device endpoint; raise a one-line FleetBindError when the address is taken."""
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: protocol, local_addr=(ip, port))
    except OSError as exc:
        reason = {
            errno.EADDRINUSE: "address already in use",
            errno.EADDRNOTAVAIL: "address not available on this machine",
        }.get(exc.errno or 0, exc.strerror or str(exc))
        raise FleetBindError(exc.errno, f"cannot bind {ip}:{port} for {label}: {reason}") from None
    return transport


class LoopThread:
    """One asyncio loop in one daemon thread, for all device endpoints."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fleet-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop the loop and wait for its thread to end."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
