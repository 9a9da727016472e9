"""From networks to stored devices: one scan path (discover, then identify and store, then poll),
run by the CLI, the simulated household and, in a background thread with progress, the page."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipaddress import IPv4Network

    from edu.services.inventory import Inventory, Progress

logger = logging.getLogger(__name__)


def scan_networks(
    inventory: Inventory,
    networks: Sequence[IPv4Network],
    *,
    ips: Iterable[str] = (),
    broadcast: bool = False,
    mdns: bool = False,
    timeout: float | None = None,
    allow_public: bool = False,
    names: dict[int, str] | None = None,
    found: Callable[[int], None] | None = None,
    progress: Progress | None = None,
    poll: bool = False,
) -> list[dict[str, Any]]:
    """Discover devices on *networks* (parsed once, by the caller) and the other ways asked,
    identify and store every one, and poll them once when *poll*; return the stored rows.

    *found* hears how many devices answered before they are read; *progress* each one read.
    """
    from devices.discovery import discover

    answered = discover(
        networks,
        ips=ips,
        broadcast=broadcast,
        mdns=mdns,
        timeout=inventory.settings.discovery_timeout if timeout is None else timeout,
        allow_public=allow_public,
    )
    if found is not None:
        found(len(answered))
    rows = inventory.scan(answered, names=names, progress=progress)
    if poll:
        inventory.poll()
    return rows


@dataclass(frozen=True)
class ScanState:
    """Where a scan is: idle, looking (hello sweep), reading (identify), done or failed."""

    phase: str = "idle"
    networks: tuple[str, ...] = ()
    total: int = 0
    done: int = 0
    found: int = 0
    online: int = 0
    needs_token: int = 0
    error: str = ""
    started: float = 0.0
    finished: float = 0.0
    dids: tuple[int, ...] = field(default=())

    @property
    def running(self) -> bool:
        return self.phase in ("looking", "reading")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["running"] = self.running
        data["percent"] = self.percent
        return data

    @property
    def percent(self) -> int:
        if self.phase in ("done", "failed"):
            return 100
        if self.phase == "looking":
            return 5
        return 10 + int(90 * self.done / self.total) if self.total else 10


class ScanTracker:
    """Run at most one scan at a time and remember how the last one went."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = ScanState()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> ScanState:
        with self._lock:
            return self._state

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)

    def _reading(self, found: int) -> None:
        self._set(phase="reading", total=found, found=found)

    def _advance(self, n: int) -> None:
        with self._lock:
            self._state = replace(self._state, done=min(self._state.done + n, self._state.total))

    def start(self, inventory: Inventory, networks: Sequence[IPv4Network | str]) -> bool:
        """Start scanning *networks* unless a scan runs already; return whether it started.

        The ranges are checked again (size, and public ones unless the settings allow them)
        before any packet leaves; ranges parsed before are not re-read.
        """
        from devices.networks import parse_networks

        parsed = parse_networks(networks, allow_public=inventory.settings.allow_public)
        with self._lock:
            if self._state.running:
                return False
            self._state = ScanState("looking", tuple(str(n) for n in parsed), started=time.time())
            self._thread = threading.Thread(
                target=self._run, args=(inventory, parsed), name="edu-scan", daemon=True
            )
            self._thread.start()
        return True

    def wait(self, timeout: float) -> ScanState:
        """Wait for the running scan to end (for tests and the CLI)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state

    def _run(self, inventory: Inventory, networks: list[IPv4Network]) -> None:
        try:
            rows = scan_networks(
                inventory,
                networks,
                allow_public=inventory.settings.allow_public,
                found=self._reading,
                progress=self._advance,
                poll=True,
            )
            online = sum(1 for r in rows if r["status"] == "online")
            hidden = sum(1 for r in rows if r["status"] == "auth-failed")
            self._set(
                phase="done",
                done=self.state.total,
                online=online,
                needs_token=hidden,
                finished=time.time(),
                dids=tuple(r["did"] for r in rows),
            )
        except Exception as exc:  # the page shows it; the thread must not die silently
            logger.exception("scan failed")
            self._set(phase="failed", error=type(exc).__name__, finished=time.time())
