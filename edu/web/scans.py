"""A network scan in a background thread, with progress the devices page polls."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edu.inventory import Inventory

logger = logging.getLogger(__name__)


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

    def _advance(self, n: int) -> None:
        with self._lock:
            self._state = replace(self._state, done=min(self._state.done + n, self._state.total))

    def start(self, inventory: Inventory, networks: tuple[str, ...]) -> bool:
        """Start scanning *networks* unless a scan runs already; return whether it started."""
        from devices.discovery import parse_networks

        allowed = inventory.settings.allow_public
        parsed = parse_networks(
            networks, allow_public=allowed
        )  # raises ValueError before any packet leaves
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

    def _run(self, inventory: Inventory, networks: list[Any]) -> None:
        from devices.discovery import discover

        try:
            found = discover(
                [str(n) for n in networks],
                timeout=inventory.settings.discovery_timeout,
                allow_public=inventory.settings.allow_public,
            )
            self._set(phase="reading", total=len(found), found=len(found))
            rows = inventory.scan(found, progress=self._advance)
            inventory.poll()
            online = sum(1 for r in rows if r["status"] == "online")
            hidden = sum(1 for r in rows if r["status"] == "auth-failed")
            self._set(
                phase="done",
                done=len(found),
                online=online,
                needs_token=hidden,
                finished=time.time(),
                dids=tuple(r["did"] for r in rows),
            )
        except Exception as exc:  # the page shows it; the thread must not die silently
            logger.exception("scan failed")
            self._set(phase="failed", error=type(exc).__name__, finished=time.time())
