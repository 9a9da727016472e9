"""mDNS: the miIO devices that advertise themselves as ``_miio._udp.local.`` (zeroconf).

Only what the adverts say: the instance name (model and device id when it carries them)
and the IPv4 addresses. ``devices.discovery`` turns them into ``Discovered`` records,
asking a hello of a device whose name has no device id.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

MDNS_TYPE = "_miio._udp.local."
_INSTANCE = re.compile(r"(?P<model>.+)_miio(?P<did>\d+)")
_MODEL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}")


@dataclass(frozen=True)
class Advert:
    """One advertised instance: its name, what the name tells, and its IPv4 addresses."""

    name: str
    model: str | None
    did: int | None
    ips: tuple[str, ...]


def parse_mdns_name(name: str) -> tuple[str | None, int | None]:
    """Return (model, did) from an mDNS instance name like ``zhimi-fan-za4_miio123._miio...``."""
    instance = name[: -len(MDNS_TYPE) - 1] if name.endswith("." + MDNS_TYPE) else name
    match = _INSTANCE.fullmatch(instance)
    if match:
        return match["model"].replace("-", "."), int(match["did"])
    head = instance.split("_", 1)[0]
    return (head.replace("-", ".") if _MODEL.fullmatch(head) else None), None


def browse(timeout: float, interfaces: Any = None) -> list[Advert]:
    """Listen for *timeout* seconds and return every advert heard, by name."""
    from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

    addresses: dict[str, list[str]] = {}
    lock = threading.Lock()
    zc = Zeroconf(
        interfaces=InterfaceChoice.All if interfaces is None else interfaces,
        ip_version=IPVersion.V4Only,
    )

    def resolve(name: str, wait_ms: int) -> None:
        info = zc.get_service_info(MDNS_TYPE, name, timeout=max(wait_ms, 1))
        found = info.parsed_addresses(IPVersion.V4Only) if info is not None else []
        with lock:
            if found or name not in addresses:
                addresses[name] = found

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            logger.debug("mDNS offers %s", name)
            resolve(name, int(min(timeout, 1.0) * 1000))

    handlers: list[Callable[..., None]] = [on_change]
    try:
        browser = ServiceBrowser(zc, MDNS_TYPE, handlers=handlers)
        threading.Event().wait(timeout)
        browser.cancel()
        for name in [name for name, found in addresses.items() if not found]:
            resolve(name, 200)
    finally:
        zc.close()
    return [
        Advert(name, *parse_mdns_name(name), tuple(ips)) for name, ips in sorted(addresses.items())
    ]
