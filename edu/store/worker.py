"""The demo table's background worker: the inactivity timeout, and polls for a live board."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from edu.db import utcnow
from edu.store.sessions import Desk, expire_idle

logger = logging.getLogger(__name__)


class DemoWorker(threading.Thread):
    """Apply the inactivity timeout every few seconds until stopped (`edu demo --store`).

    With *poll*, each round also reads the devices whose poll is due, so the board shows
    a device that went offline (or came back) without anyone pressing a button.
    """

    def __init__(
        self,
        desk: Desk,
        *,
        interval: float = 5.0,
        poll: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(name="edu-demo-timeout", daemon=True)
        self.desk, self.interval, self.poll, self.clock = desk, interval, poll, clock
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                expire_idle(self.desk, now=self.clock())
                if self.poll:
                    self.desk.inventory.poll(due_only=True, now=self.clock())
            except Exception:  # one bad row must not end the worker
                logger.exception("the demo timeout check failed")
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        """Ask the worker to finish after its current round."""
        self._stop_event.set()
