"""Polling as a coordinator: long-lived handles, bounded calls, one result per device.

Like Home Assistant's DataUpdateCoordinator: one object owns every device's link,
refreshes them concurrently with a timeout and one retry, and turns library errors into
a per-device result, so one dead lamp never fails the whole poll. No Flask, no SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from devices.capabilities import CapabilityReport, extract, snapshot
from devices.identify import Identity, identify
from devices.link import DeviceLink, LinkError
from devices.specs import SpecStore
from devices.trycontract import coerce_argument

logger = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_AFTER = 3
BACKOFF_MAX = timedelta(hours=1)


def backoff(failures: int, interval: timedelta) -> timedelta:
    """How long to wait before the next poll of a device that failed *failures* times."""
    if failures < BACKOFF_AFTER:
        return interval
    return min(interval * (2 ** (failures - BACKOFF_AFTER + 1)), max(BACKOFF_MAX, interval))


@dataclass
class PollResult:
    """What one poll of one device found."""

    did: int
    status: str  # online | offline | auth-failed | unsupported | error
    detail: str = ""
    snapshot: dict[str, Any] | None = None
    identity: Identity | None = None


@dataclass
class ScanResult:
    """What identifying one device and reading its capabilities found."""

    identity: Identity
    report: CapabilityReport | None = None
    snapshot: dict[str, Any] | None = None
    family: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Coordinator:
    """Own one DeviceLink per device and poll them all without letting one stall the rest."""

    def __init__(
        self,
        specs: SpecStore | None = None,
        *,
        timeout: float = 2.0,
        retries: int = 1,
        workers: int = 32,
        family_for_model: Callable[[str], str | None] | None = None,
    ) -> None:
        self.specs = specs or SpecStore.offline()
        self.timeout = timeout
        self.retries = retries
        self.workers = workers
        self.family_for_model = family_for_model
        self.links: dict[int, DeviceLink] = {}

    def __repr__(self) -> str:
        return f"Coordinator({len(self.links)} devices)"

    # -- handles -------------------------------------------------------------------------

    def track(self, did: int, ip: str, token: str) -> DeviceLink:
        """Return the link for *did*, creating it, or following the device to a new IP."""
        link = self.links.get(did)
        if link is not None and link.token == token:
            if link.ip != ip:
                logger.info("device %s moved from %s to %s", did, link.ip, ip)
                link.move(ip)
            return link
        link = DeviceLink(ip, token, timeout=self.timeout, retries=self.retries)
        self.links[did] = link
        return link

    def forget(self, did: int) -> None:
        """Drop the link of *did*."""
        self.links.pop(did, None)

    # -- concurrency ---------------------------------------------------------------------

    def _deadline(self) -> float:
        # a call may retry and re-handshake; the lock wait in DeviceLink is longer than this
        return self.timeout * (self.retries + 1) * 3 + 1.0

    def _fan_out(
        self, items: list[T], fn: Callable[[T], Any], on_timeout: Callable[[T], Any]
    ) -> list[Any]:
        if not items:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(items)))
        try:
            futures = [pool.submit(fn, item) for item in items]
            wait(futures, timeout=self._deadline())
            results = []
            for item, future in zip(items, futures, strict=True):
                if future.done() and future.exception() is None:
                    results.append(future.result())
                elif future.done():
                    logger.warning("unexpected failure for %s: %r", item, future.exception())
                    results.append(on_timeout(item))
                else:
                    results.append(on_timeout(item))
            return results
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- scanning ------------------------------------------------------------------------

    def scan_one(self, did: int, *, family: str | None = None) -> ScanResult:
        """Identify *did*, read its status and work out its capabilities."""
        link = self.links[did]
        identity = identify(link, self.specs)
        if identity.did is None:
            identity.did = did
        result = ScanResult(identity)
        if identity.model and family is None and self.family_for_model is not None:
            family = self.family_for_model(identity.model)
        result.family = family
        device = link.device
        if identity.status != "online" or device is None:
            return result
        try:
            status = read_status(link, device)
        except LinkError as exc:
            identity.status, identity.detail = exc.status, str(exc)
            return result
        try:
            result.report = link.call(extract, device, status, family=family)
            result.family = family or result.report.family  # a spec-only device: its type
            result.snapshot = snapshot_of(link, status)
        except LinkError as exc:
            identity.status, identity.detail = exc.status, str(exc)
        return result

    def scan(
        self, dids: Iterable[int], families: Mapping[int, str | None] | None = None
    ) -> list[ScanResult]:
        """Scan several devices concurrently; a device that stalls is reported offline."""
        families = families or {}

        def timed_out(did: int) -> ScanResult:
            link = self.links[did]
            return ScanResult(
                Identity(ip=link.ip, did=did, status="offline", detail="no answer in time")
            )

        return self._fan_out(
            list(dids), lambda d: self.scan_one(d, family=families.get(d)), timed_out
        )

    # -- polling -------------------------------------------------------------------------

    def poll_one(self, did: int) -> PollResult:
        """Read the status of *did* once (identifying it first if needed)."""
        link = self.links[did]
        identity = None
        if link.device is None:
            identity = identify(link, self.specs)
            if identity.status != "online" or link.device is None:
                return PollResult(did, identity.status, identity.detail, identity=identity)
            if identity.did is not None and identity.did != did:
                link.device = None
                return PollResult(did, "offline", "another device answers at this address")
        device = link.device
        try:
            status = read_status(link, device)
            return PollResult(did, "online", snapshot=snapshot_of(link, status), identity=identity)
        except LinkError as exc:
            # Some implementations (Roborock's UpdateHelper) drop parts of their status for
            # good after one failure: start from a fresh object next time, same protocol.
            link.device = None
            return PollResult(did, exc.status, str(exc), identity=identity)

    def poll(self, dids: Iterable[int] | None = None) -> dict[int, PollResult]:
        """Poll the given devices (all tracked ones by default) concurrently."""
        chosen = list(self.links) if dids is None else [d for d in dids if d in self.links]
        results = self._fan_out(
            chosen, self.poll_one, lambda d: PollResult(d, "offline", "no answer in time")
        )
        return {r.did: r for r in results}

    # -- acting --------------------------------------------------------------------------

    def _ready(self, did: int) -> DeviceLink:
        link = self.links[did]
        if link.device is None:
            identity = identify(link, self.specs)
            if identity.status != "online" or link.device is None:
                raise LinkError(identity.status, identity.detail or "the device cannot be reached")
        return link

    def write(
        self,
        did: int,
        value: Any,
        *,
        method: str | None = None,
        descriptor: str | None = None,
        capability: str | None = None,
    ) -> Any:
        """Write a setting of *did* through its class's setter method, else its descriptor.

        The method is preferred: python-miio shares status descriptors between all objects
        of a class and rebinds their setter to the last device that built them. A method
        that takes no value (``on()``) is the capability's switch: a true *value* calls its
        on method, a false one its off method.
        """
        from devices.trycontract import Contract, parameters, write_call
        from devices.vocabulary import Vocabulary

        link = self._ready(did)
        device = link.device
        vocabulary = Vocabulary.load()
        if method and callable(getattr(device, method, None)):
            setter = getattr(device, method)
            required = [p for p in parameters(setter) if p.default is p.empty]
            via = "method" if required else "switch"  # on(transition=0) takes no value
            if via == "switch" and not (
                capability and capability in vocabulary and vocabulary[capability].switch
            ):
                raise LinkError("error", f"{method}() takes no value")
            contract = Contract(capability or "", True, via=via, writer=method)
        elif descriptor:
            contract = Contract(capability or "", True, via="descriptor", writer=descriptor)
        else:
            raise LinkError("error", "this feature cannot be changed from here")
        fn, args = write_call(device, contract, vocabulary, value)
        return link.call(fn, *args)

    def run(
        self, did: int, *, method: str | None = None, action: str | None = None, params: Any = None
    ) -> Any:
        """Run an action of *did* (a method of its class, else an action descriptor)."""
        link = self._ready(did)
        device = link.device
        if method and callable(getattr(device, method, None)):
            fn = getattr(device, method)
            return link.call(fn) if params is None else link.call(fn, coerce_argument(fn, params))
        if action:
            return link.call(device.call_action, action, params)  # type: ignore[union-attr]
        raise LinkError("error", "this feature cannot be run from here")

    def read(self, did: int) -> dict[str, Any]:
        """Read the status of *did* now and return its snapshot (raises LinkError)."""
        link = self._ready(did)
        device = link.device
        status = link.call(device.status)  # type: ignore[union-attr]
        return snapshot_of(link, status)


# Reads some classes need beyond status() for their features to show: snapshot key ->
# zero-argument method (Roborock keeps its cleaning schedule behind timer(), and its voice
# volume behind sound_volume(): without it a volume try-it could not be read back).
EXTRA_READS = {"timers": "timer", "volume": "sound_volume"}


def read_status(link: DeviceLink, device: Any) -> Any:
    """Read the status of *device*; None for a class without one (IR remotes, gateways)."""
    from miio import Device

    if getattr(type(device), "status", None) is Device.status:
        # The device answered miIO.info during identify: it is there, it only has no status.
        return None
    return link.call(device.status)


def snapshot_of(link: DeviceLink, status: Any) -> dict[str, Any]:
    """Snapshot *status*, plus the extra reads the device's class offers."""
    extra: dict[str, Any] = {}
    device = link.device
    for key, method in EXTRA_READS.items():
        fn = getattr(device, method, None)
        if callable(fn):
            try:
                extra[key] = link.call(fn)
            except LinkError as exc:
                logger.debug("extra read %s failed: %s", method, exc)
    return snapshot(status, extra=extra or None)
