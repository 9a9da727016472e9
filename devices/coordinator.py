"""Polling as a coordinator: long-lived handles, bounded calls, one result per device.

Like Home Assistant's DataUpdateCoordinator: one object owns every device's link,
refreshes them concurrently with a timeout and one retry, and turns library errors into
a per-device result, so one dead lamp never fails the whole poll. No Flask, no SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from devices.capabilities import CapabilityReport, extract, snapshot
from devices.identify import Identity, identify
from devices.link import DeviceLink, LinkError
from devices.specs import SpecStore

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
            status = link.call(device.status)
        except LinkError as exc:
            identity.status, identity.detail = exc.status, str(exc)
            return result
        try:
            result.report = link.call(extract, device, status, family=family)
            result.snapshot = snapshot(status)
        except LinkError as exc:
            identity.status, identity.detail = exc.status, str(exc)
        return result

    def scan(
        self, dids: Iterable[int], families: dict[int, str | None] | None = None
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
            status = link.call(device.status)
            return PollResult(did, "online", snapshot=snapshot(status), identity=identity)
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

    def change_setting(self, did: int, setting: str, value: Any) -> Any:
        """Write *setting* (a descriptor id) on *did*; raises LinkError or KeyError."""
        link = self.links[did]
        if link.device is None:
            raise LinkError("offline", "the device has not been reached yet")
        return link.call(link.device.change_setting, setting, value)

    def call_action(self, did: int, action: str, params: Any = None) -> Any:
        """Run *action* (a descriptor id) on *did*; raises LinkError or KeyError."""
        link = self.links[did]
        if link.device is None:
            raise LinkError("offline", "the device has not been reached yet")
        return link.call(link.device.call_action, action, params)
