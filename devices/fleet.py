"""The simulated fleet: real miIO UDP servers on loopback, one per device, from data files.

A fleet file (``devices/data/fleets/<name>.yaml``) lists devices by model and family; each
model's behaviour comes from a simulator file in ``devices/data/sims`` (and, for MIoT
models, a spec in ``devices/data/specs``). Every device binds its own 127.0.0.x address on
port 54321; all of them run on one asyncio loop in one background thread.

    with Fleet.load("household").running(base="127.0.0.10") as fleet:
        fan = fleet.by_model("zhimi.fan.za4")
        miio.DeviceFactory.create(fan.ip, fan.token, model=fan.model).status()
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from devices.fleet_device import FAULTS, PORT, SimulatedDevice, check_loopback
from devices.fleet_server import FleetBindError, LoopThread
from devices.fleet_sim import DATA, SimDefinition, SimFileError, load_sims
from devices.vocabulary import Vocabulary

__all__ = ["FAMILIES", "FAULTS", "Fleet", "FleetBindError", "SimFileError", "SimulatedDevice"]

logger = logging.getLogger(__name__)

FAMILIES = ("vacuum", "air-purifier", "fan", "humidifier", "light", "plug", "heater", "air-monitor")
_ENTRY_KEYS = {"model", "family", "name", "provisioned", "count"}
# Xiaomi's OUI, so the simulated MACs look like the real ones.
_OUI = "04:CF:8C"


def fleet_path(name: str) -> Path:
    """Return the file of a shipped fleet name, or the given path to a fleet file."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        if not path.is_file():
            raise FileNotFoundError(f"no fleet file {name}")
        return path
    shipped = DATA / "fleets" / f"{name}.yaml"
    if not shipped.is_file():
        names = ", ".join(sorted(p.stem for p in (DATA / "fleets").glob("*.yaml")))
        raise FileNotFoundError(f"no shipped fleet {name!r} (shipped: {names})")
    return shipped


def _identity(model: str, nth: int, taken: set[int]) -> tuple[int, str]:
    """Derive a stable did and MAC from the model and its position among equal models."""
    salt = 0
    while True:
        digest = hashlib.sha256(f"{model}#{nth}#{salt}".encode()).hexdigest()
        did = int(digest[:8], 16) % 900_000_000 + 100_000_000
        if did not in taken:
            taken.add(did)
            mac = ":".join([_OUI, *(digest[8 + i : 10 + i].upper() for i in range(0, 6, 2))])
            return did, mac
        salt += 1


def _token(seed: int | str | None, index: int, model: str) -> str:
    if seed is None:
        return secrets.token_hex(16)
    return hashlib.sha256(f"fleet-token:{seed}:{index}:{model}".encode()).hexdigest()[:32]


class Fleet:
    """A set of simulated devices that start, stop and reset together."""

    def __init__(self, name: str, devices: list[SimulatedDevice]) -> None:
        self.name = name
        self.devices = devices
        self._loop: LoopThread | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def __repr__(self) -> str:
        where = f"from {self.devices[0].ip}" if self.running_now and self.devices else "stopped"
        return f"<Fleet {self.name!r}: {len(self.devices)} devices, {where}>"

    @classmethod
    def load(
        cls, name: str, *, seed: int | str | None = None, sims_dir: Path | None = None
    ) -> Fleet:
        """Load a shipped fleet by name, or a fleet file by path.

        Tokens are random unless a seed is given, which makes them reproducible.
        """
        path = fleet_path(name)
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = raw.get("devices") if isinstance(raw, dict) else None
        if not entries:
            raise SimFileError(f"{path.name}: a fleet file needs a 'devices' list")
        sims = load_sims(sims_dir)
        devices: list[SimulatedDevice] = []
        taken: set[int] = set()
        nth: dict[str, int] = {}
        for entry in entries:
            _check_entry(path, entry, sims)
            for _ in range(int(entry.get("count", 1))):
                model = entry["model"]
                did, mac = _identity(model, nth.get(model, 0), taken)
                nth[model] = nth.get(model, 0) + 1
                sim: SimDefinition = sims[model]
                label = entry.get("name") or sim.models[model].get("name", model)
                devices.append(
                    SimulatedDevice(
                        sim=sim,
                        model=model,
                        family=entry["family"],
                        name=label if nth[model] == 1 else f"{label} {nth[model]}",
                        token=_token(seed, len(devices), model),
                        did=did,
                        mac=mac,
                        provisioned=bool(entry.get("provisioned", True)),
                    )
                )
        logger.info("loaded fleet %s: %d devices", path.stem, len(devices))
        return cls(str(raw.get("name", path.stem)), devices)

    # -- lookups ------------------------------------------------------------------------
    def by_model(self, model: str) -> SimulatedDevice:
        """Return the first device of a model."""
        return self._find(lambda d: d.model == model, f"model {model}")

    def by_did(self, did: int | str) -> SimulatedDevice:
        """Return the device with this did."""
        return self._find(lambda d: d.did == int(did), f"did {did}")

    def by_ip(self, ip: str) -> SimulatedDevice:
        """Return the device bound to this address."""
        return self._find(lambda d: d.ip == ip, f"ip {ip}")

    def _find(self, match: Any, what: str) -> SimulatedDevice:
        for device in self.devices:
            if match(device):
                return device
        raise KeyError(f"no simulated device with {what}")

    # -- running ------------------------------------------------------------------------
    @property
    def running_now(self) -> bool:
        """True while the devices are bound."""
        return self._loop is not None

    def addresses(self, base: str) -> list[str]:
        """Return the addresses the devices get from a base address (skipping .0 and .255)."""
        ip = ipaddress.IPv4Address(check_loopback(base))
        out: list[str] = []
        while len(out) < len(self.devices):
            if ip.packed[3] not in (0, 255):
                out.append(str(check_loopback(str(ip))))
            ip += 1
        return out

    def start(self, base: str = "127.0.0.10", *, port: int = PORT) -> Fleet:
        """Bind every device, from the base address up; raise FleetBindError if one is taken."""
        with self._lock:
            if self._loop is not None:
                raise RuntimeError(f"fleet {self.name} is already running")
            addresses = self.addresses(base)
            loop = LoopThread()
            try:
                for device, ip in zip(self.devices, addresses, strict=True):
                    loop.call(device._bind(loop, ip, port))
            except BaseException:
                for device in self.devices:
                    loop.call(device._unbind())
                loop.stop()
                raise
            self._loop = loop
            self._stopped.clear()
        logger.info(
            "fleet %s: %d devices on %s-%s:%d",
            self.name,
            len(self.devices),
            addresses[0],
            addresses[-1],
            port,
        )
        return self

    def stop(self) -> None:
        """Close every endpoint and stop the loop; safe to call twice."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            for device in self.devices:
                loop.call(device._unbind())
            loop.stop()
            self._stopped.set()
        logger.info("fleet %s stopped", self.name)

    def start_in_free_block(self, *, first: int | None = None) -> Fleet:
        """Start on the first free 127.0.N.10 block (other runs may hold some) and return self."""
        first = os.getpid() % 200 if first is None else first
        last_error: OSError | None = None
        for step in range(250):
            block = (first + step) % 250 + 1
            try:
                return self.start(base=f"127.0.{block}.10")
            except FleetBindError as exc:
                last_error = exc
        raise FleetBindError(f"no free loopback block for fleet {self.name}: {last_error}")

    @property
    def network(self) -> str:
        """The /24 that holds the first device (what a sweep should cover)."""
        first = ipaddress.IPv4Address(self.devices[0].ip)
        return str(ipaddress.IPv4Network(f"{first}/24", strict=False))

    @contextmanager
    def running(self, base: str = "127.0.0.10", *, port: int = PORT) -> Iterator[Fleet]:
        """Run the fleet for the length of a with-block."""
        self.start(base, port=port)
        try:
            yield self
        finally:
            self.stop()

    def serve_forever(self) -> None:
        """Serve until stop() is called or Ctrl-C; starts the fleet if it is not running."""
        if not self.running_now:
            self.start()
        try:
            # A short wait keeps the main thread responsive to Ctrl-C.
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            logger.info("fleet %s interrupted", self.name)
        finally:
            self.stop()

    def reset(self) -> None:
        """Restore every device: first state, no fault, counters cleared, home address."""
        for device in self.devices:
            device.reset()


def _check_entry(path: Path, entry: Any, sims: dict[str, SimDefinition]) -> None:
    if not isinstance(entry, dict) or not {"model", "family"} <= set(entry):
        raise SimFileError(f"{path.name}: every device needs a model and a family: {entry!r}")
    if set(entry) - _ENTRY_KEYS:
        raise SimFileError(
            f"{path.name}: unknown keys {sorted(set(entry) - _ENTRY_KEYS)} in {entry['model']}"
        )
    families = Vocabulary.load().families  # the first eight (FAMILIES) and the parts' ones
    if entry["family"] not in families:
        raise SimFileError(
            f"{path.name}: {entry['model']}: family {entry['family']!r} is not a known family"
        )
    if entry["model"] not in sims:
        raise SimFileError(f"{path.name}: no simulator file serves {entry['model']}")
