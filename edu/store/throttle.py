"""At most one demo command per device per second: a second one waits briefly or is refused.

A "command" is one thing staff ask of a device (show a feature, reset it); the few packets it
takes (read, write, read back) go out one after the other under the device's lock. Commands
to different devices never wait for each other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class DeviceBusy(RuntimeError):
    """The device had a command less than a second ago (or has one running): try again shortly."""

    def __init__(self, did: int, retry_after: float) -> None:
        super().__init__("the device is busy with the previous command; try again in a moment")
        self.did = did
        self.retry_after = retry_after


class Throttle:
    """Space the commands to each device: *interval* seconds apart, start to start.

    A command that arrives early waits its turn (at most *max_queued* may wait per device,
    each at most *max_wait* seconds); any more are refused with DeviceBusy. The clock and
    the sleep are injectable, so tests run with a fake clock and never sleep.
    """

    def __init__(
        self,
        interval: float = 1.0,
        *,
        max_wait: float = 1.5,
        max_queued: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.interval = interval
        self.max_wait = max_wait
        self.max_queued = max_queued
        self.clock = clock
        self.sleep = sleep
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._last: dict[int, float] = {}
        self._pending: dict[int, int] = {}

    def _lock_of(self, did: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(did, threading.Lock())

    def wait_for(self, did: int) -> float:
        """Return how many seconds a command to *did* would have to wait now."""
        last = self._last.get(did)
        if last is None:
            return 0.0
        return max(0.0, last + self.interval - self.clock())

    @contextmanager
    def command(self, did: int) -> Iterator[None]:
        """Run one command to *did*: wait for its turn, or raise DeviceBusy."""
        with self._guard:
            pending = self._pending.get(did, 0)
            if pending > self.max_queued:  # one running and the queue full: never pile up
                logger.info("refused a command to device %s: %d already waiting", did, pending)
                raise DeviceBusy(did, self.interval)
            self._pending[did] = pending + 1
        try:
            with self._turn(did):
                yield
        finally:
            with self._guard:
                self._pending[did] -= 1

    @contextmanager
    def _turn(self, did: int) -> Iterator[None]:
        lock = self._lock_of(did)
        if not lock.acquire(timeout=self.max_wait):
            logger.info("refused a command to device %s: the previous one is still running", did)
            raise DeviceBusy(did, self.interval)
        try:
            wait = self.wait_for(did)
            if wait > self.max_wait:
                raise DeviceBusy(did, wait)
            if wait > 0:
                self.sleep(wait)
            self._last[did] = self.clock()
            yield
        finally:
            lock.release()
