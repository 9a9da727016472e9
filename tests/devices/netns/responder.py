"""Tiny miIO hello responders for discovery tests, in-process or inside a network namespace.

In-process: ``with Responder([Device(...)], port=...) as r: ...`` answers hellos on loopback.
As a script (only inside a namespace a test created): binds the devices given on the command
line, optionally registers mDNS services, prints ``ready`` and serves until stdin closes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import socket
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for netns.guard
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # for devices

from devices.protocol import HELLO, build_hello_reply

GARBAGE = (
    b"\x00" * 32,  # no magic
    bytes.fromhex("21310040") + b"\x00" * 28,  # says 64 bytes, has 32
    bytes.fromhex("21310020") + b"\x01" * 20,  # truncated
    b"hello, I am definitely a vacuum",
    bytes.fromhex("21310030") + b"\x00" * 44,  # 48 bytes: neither hello nor a whole block
)


@dataclass
class Device:
    """One simulated device. ``mode``: answer, garbage or silent."""

    ip: str
    did: int
    token: str | None = None  # revealed in the hello when not None
    mode: str = "answer"
    drop_first: int = 0  # ignore this many hellos first (UDP loss)
    reply_from: str | None = None  # answer from another address (a spoofer)
    hellos: int = field(default=0, init=False)


class Responder:
    """Answer miIO hellos for *devices* on a background thread until closed."""

    def __init__(self, devices: Iterable[Device], *, port: int, reuse: bool = False) -> None:
        self.devices = list(devices)
        self.port = port
        self._sockets: dict[socket.socket, Device] = {}
        self._spoofers: dict[str, socket.socket] = {}
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="hello-responder", daemon=True)
        try:
            for device in self.devices:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                if reuse:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self._sockets[sock] = device
                sock.bind((device.ip, port))
                if device.reply_from and device.reply_from not in self._spoofers:
                    spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self._spoofers[device.reply_from] = spoofer
                    spoofer.bind((device.reply_from, 0))
        except OSError:
            self.close()
            raise

    def __enter__(self) -> Responder:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop answering and release every socket."""
        if self._thread.is_alive():
            os.write(self._wake_w, b"x")
            self._thread.join(5)
        for sock in [*self._sockets, *self._spoofers.values()]:
            sock.close()
        self._sockets.clear()
        self._spoofers.clear()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def _serve(self) -> None:
        sockets = list(self._sockets)
        watched: list[Any] = [self._wake_r, *sockets]
        while True:
            readable, _, _ = select.select(watched, [], [])
            if self._wake_r in readable:
                return
            for sock in sockets:
                if sock not in readable:
                    continue
                data, address = sock.recvfrom(4096)
                self._answer(sock, self._sockets[sock], data, address)

    def _answer(
        self, sock: socket.socket, device: Device, data: bytes, address: tuple[str, int]
    ) -> None:
        if data != HELLO:
            return
        device.hellos += 1
        if device.hellos <= device.drop_first or device.mode == "silent":
            return
        if device.mode == "garbage":
            for packet in GARBAGE:
                sock.sendto(packet, address)
            return
        reply = build_hello_reply(device.did, 1_700_000_000 + device.hellos, device.token)
        sender = self._spoofers[device.reply_from] if device.reply_from else sock
        sender.sendto(reply, address)


def _device(text: str) -> Device:
    fields = dict(part.split("=", 1) for part in text.split(","))
    return Device(
        ip=fields["ip"],
        did=int(fields["did"]),
        token=fields.get("token") or None,
        mode=fields.get("mode", "answer"),
    )


def main() -> int:
    """Serve the devices named on the command line inside a test namespace."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=54321)
    parser.add_argument("--device", action="append", default=[], help="ip=,did=[,token=][,mode=]")
    parser.add_argument("--mdns", action="append", default=[], help="instance-name@ip")
    args = parser.parse_args()
    from netns.guard import require_test_namespace

    require_test_namespace()
    from zeroconf import IPVersion, ServiceInfo, Zeroconf

    zeroconf = None
    with Responder([_device(text) for text in args.device], port=args.port, reuse=True):
        try:
            if args.mdns:
                ips = sorted({entry.rsplit("@", 1)[1] for entry in args.mdns})
                zeroconf = Zeroconf(interfaces=ips, ip_version=IPVersion.V4Only)
                infos = []
                for entry in args.mdns:
                    name, ip = entry.rsplit("@", 1)
                    infos.append(
                        ServiceInfo(
                            "_miio._udp.local.",
                            f"{name}._miio._udp.local.",
                            addresses=[socket.inet_aton(ip)],
                            port=args.port,
                            properties={"epoch": "1", "mac": "00:11:22:33:44:55"},
                            server=f"{name}.local.",
                        )
                    )
                # Probing and announcing take a second or so each: register them side by side.
                with ThreadPoolExecutor(max_workers=len(infos)) as pool:
                    list(pool.map(zeroconf.register_service, infos))
            print("ready", flush=True)
            sys.stdin.read()
        finally:
            if zeroconf is not None:
                zeroconf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
