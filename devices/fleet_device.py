"""One simulated miIO device: identity, state, fault modes and the answer to each datagram."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import ipaddress
import logging
import threading
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from devices.fleet_server import DeviceProtocol, open_endpoint, parse_request, send_later
from devices.fleet_sim import Behaviour, SimDefinition
from devices.protocol import HELLO as HELLO_PACKET
from devices.protocol import build_hello_reply, build_message

if TYPE_CHECKING:
    from devices.fleet_server import LoopThread

logger = logging.getLogger(__name__)

#: The fault modes a device can be put in; None is a healthy device. "stuck" answers every
#: request as usual, but nothing it is told changes its state (a robot wedged under the sofa).
FAULTS: tuple[str | None, ...] = (
    None,
    "slow",
    "no-reply",
    "wrong-token",
    "malformed",
    "oversized",
    "stuck",
)
PORT = 54321
DEFAULT_SLOW_SECONDS = 1.0
OVERSIZED_BYTES = 9000
UNDECODABLE = "<undecodable>"
HELLO = "hello"


def check_loopback(ip: str) -> str:
    """Return the address if it is an IPv4 loopback address; raise ValueError otherwise."""
    addr = ipaddress.ip_address(ip)
    if addr.version != 4 or not addr.is_loopback:
        raise ValueError(f"simulated devices live on 127.0.0.0/8 only, not {ip}")
    return str(addr)


class SimulatedDevice:
    """A miIO device answering on its own loopback address; thread-safe to inspect and poke."""

    def __init__(
        self,
        *,
        sim: SimDefinition,
        model: str,
        family: str,
        name: str,
        token: str,
        did: int,
        mac: str,
        provisioned: bool = True,
    ) -> None:
        self.model = model
        self.family = family
        self.name = name
        self.did = did
        self.mac = mac
        self.ip = ""
        self.port = PORT
        self._home_ip = ""
        self._token = token
        self._key = bytes.fromhex(token)
        # A device reset by its owner answers with a token the client does not know.
        self._reset_key = hashlib.sha256(self._key + b"factory reset").digest()[:16]
        self._initial_provisioned = provisioned
        self._lock = threading.RLock()
        self._identity = {
            "manufacturer": model.split(".")[0],
            "model": model,
            "serial-number": f"{did}",
            "firmware-revision": sim.info_for(model).get("fw_ver", ""),
        }
        self._sim = sim
        self._behaviour = Behaviour(sim, model, self._identity)
        self._requests: Counter[str] = Counter()
        self._answered: deque[Any] = deque(maxlen=256)
        self._booted = time.monotonic()
        self._loop: LoopThread | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._clear_runtime()

    def _clear_runtime(self) -> None:
        self._fault: str | None = None
        self._slow_seconds = DEFAULT_SLOW_SECONDS
        self._remember_ids = False
        self._provisioned = self._initial_provisioned

    def __repr__(self) -> str:
        return (
            f"<SimulatedDevice {self.name!r} {self.model} did={self.did} "
            f"at {self.ip or '(not bound)'}:{self.port} fault={self.fault}>"
        )

    # -- identity and knobs -------------------------------------------------------------
    @property
    def token(self) -> str:
        """The device token (32 hex digits). Never log it."""
        return self._token

    @property
    def provisioned(self) -> bool:
        """True when the hello reply hides the token (all ``ff``); False for a fresh device."""
        with self._lock:
            return self._provisioned

    @provisioned.setter
    def provisioned(self, value: bool) -> None:
        with self._lock:
            self._provisioned = bool(value)

    @property
    def fault(self) -> str | None:
        """The current fault mode, one of FAULTS."""
        with self._lock:
            return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        if value not in FAULTS:
            raise ValueError(f"unknown fault {value!r}; choose one of {FAULTS}")
        with self._lock:
            self._fault = value

    @property
    def slow_seconds(self) -> float:
        """How long a device in the "slow" fault waits before each reply."""
        with self._lock:
            return self._slow_seconds

    @slow_seconds.setter
    def slow_seconds(self, value: float) -> None:
        if value < 0:
            raise ValueError("slow_seconds must not be negative")
        with self._lock:
            self._slow_seconds = float(value)

    @property
    def remember_ids(self) -> bool:
        """When True the device ignores a message id it has already answered, like real ones."""
        with self._lock:
            return self._remember_ids

    @remember_ids.setter
    def remember_ids(self, value: bool) -> None:
        with self._lock:
            self._remember_ids = bool(value)
            self._answered.clear()

    @property
    def requests(self) -> Counter[str]:
        """A snapshot of the requests received, by method ("hello" for hellos)."""
        with self._lock:
            return Counter(self._requests)

    def state(self) -> dict[str, Any]:
        """Return a copy of the current state (miIO names, or ``service:property`` for MIoT)."""
        with self._lock:
            return copy.deepcopy(self._behaviour.state)

    def set_state(self, name: str, value: Any) -> None:
        """Change one state value as if someone pressed a button on the device."""
        with self._lock:
            self._behaviour.state[self._behaviour.key_for(name)] = value

    def info(self) -> dict[str, Any]:
        """Return the miIO.info reply, which (like a real device's) includes the token."""
        fields = self._sim.info_for(self.model)
        return {
            "life": int(time.monotonic() - self._booted) + 86400,
            "cfg_time": 0,
            "token": self._token,
            "mac": self.mac,
            "fw_ver": fields.get("fw_ver", "1.0.0"),
            "hw_ver": fields.get("hw_ver", "MW300"),
            "model": self.model,
            "wifi_fw_ver": fields.get("wifi_fw_ver", "SD878x-14.76.36.p84-702.1.0-WM"),
            "ap": {
                "ssid": "FeatureCoach-Sim",
                "bssid": "02:00:00:00:00:01",
                "rssi": -48,
                "primary": 6,
            },
            "netif": {"localIp": self.ip, "mask": "255.0.0.0", "gw": "127.0.0.1"},
            "mmfree": 30312,
            "ot": "otu",
            "otu_stat": [320, 267, 3, 0, 3, 742],
            "ott_stat": [0, 0, 0, 0],
        }

    def reset(self) -> None:
        """Restore the first state, clear faults and counters, and come home if moved."""
        with self._lock:
            self._behaviour.reset()
            self._requests.clear()
            self._answered.clear()
            self._clear_runtime()
        if self._loop is not None and self.ip != self._home_ip:
            self.move(self._home_ip)

    # -- network ------------------------------------------------------------------------
    def move(self, new_ip: str) -> None:
        """Rebind this device (same did and mac) on another loopback address."""
        new_ip = check_loopback(new_ip)
        if new_ip == self.ip:
            return
        if self._loop is None:
            self.ip = new_ip
            return
        self._loop.call(self._rebind(new_ip))

    async def _rebind(self, new_ip: str) -> None:
        transport = await open_endpoint(
            new_ip, self.port, DeviceProtocol(self._on_datagram), self.model
        )
        if self._transport is not None:
            self._transport.close()
        self._transport, self.ip = transport, new_ip
        logger.info("%s moved to %s", self.model, new_ip)

    async def _bind(self, loop: LoopThread, ip: str, port: int) -> None:
        self.port = port
        self._transport = await open_endpoint(
            ip, port, DeviceProtocol(self._on_datagram), self.model
        )
        self._loop, self.ip, self._home_ip = loop, ip, ip

    async def _unbind(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport, self._loop = None, None

    def _stamp(self) -> int:
        return int(time.monotonic() - self._booted) + 1000

    def _on_datagram(self, data: bytes, addr: Any, transport: asyncio.DatagramTransport) -> None:
        with self._lock:
            fault, delay = self._fault, (self._slow_seconds if self._fault == "slow" else 0.0)
            # any 32-byte packet with the hello header is a hello, as on real devices
            if len(data) == len(HELLO_PACKET) and data[:4] == HELLO_PACKET[:4]:
                self._requests[HELLO] += 1
                if fault == "no-reply":
                    return
                packet = build_hello_reply(
                    self.did, self._stamp(), None if self._provisioned else self._key.hex()
                )
                send_later(asyncio.get_running_loop(), transport, packet, addr, delay)
                return
            try:
                request = parse_request(data, self._key)
            except ValueError:
                # Real devices stay silent when a packet does not decrypt with their token.
                self._requests[UNDECODABLE] += 1
                return
            method = str(request.get("method"))
            self._requests[method] += 1
            msg_id = request.get("id")
            if fault == "no-reply" or (self._remember_ids and msg_id in self._answered):
                return
            self._answered.append(msg_id)
            kept = copy.deepcopy(self._behaviour.state) if fault == "stuck" else None
            answer = (
                {"result": self.info()}
                if method == "miIO.info"
                else self._behaviour.handle(method, request.get("params", []))
            )
            if kept is not None:
                self._behaviour.state = kept
        packet = self._packet({"id": msg_id, **answer}, fault)
        send_later(asyncio.get_running_loop(), transport, packet, addr, delay)

    def _packet(self, payload: dict[str, Any], fault: str | None) -> bytes:
        if fault == "oversized":
            payload["exe_time"] = 90
            payload["debug"] = "x" * OVERSIZED_BYTES
        key = self._reset_key if fault == "wrong-token" else self._key
        packet = build_message(payload, key.hex(), did=self.did, stamp=self._stamp())
        if fault == "malformed":
            # Cut inside the checksum: the header still says the full length.
            return packet[:24]
        return packet
