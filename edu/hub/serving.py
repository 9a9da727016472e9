"""Serving the hub with waitress: one process or several sharing one listening socket
(`edu hub serve --workers N`), or on a thread (`edu demo --hub`, tests).

Each worker is a process of its own (its own interpreter lock, engine and refresh timer)
that accepts from a socket bound once before the fork, so the kernel hands each connection
to whichever worker is free. The hub keeps nothing between requests, so any worker may
answer any home.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from edu.config import Settings
    from edu.hub import HubSettings

logger = logging.getLogger(__name__)

IDENT = "Feature Coach hub"


def build_hub(settings: Settings, hub_settings: HubSettings, threads: int = 8) -> Flask:
    """Open the hub's database (creating its tables) and build its app; OSError when it cannot.
    The engine keeps a connection for each of *threads* and one for the refresh."""
    from sqlalchemy.exc import SQLAlchemyError

    from edu.db import build_engine
    from edu.hub import create_hub_app

    settings.ensure_instance()
    engine = build_engine(settings.database_url, connections=threads + 1)
    try:
        return create_hub_app(
            {"EDU_SETTINGS": settings, "HUB_SETTINGS": hub_settings, "EDU_ENGINE": engine}
        )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise OSError(f"cannot open the hub's database: {type(exc).__name__}") from None


class HubServer:
    """A hub app bound by waitress to *host*:*port* (0 picks a free port); run or start it."""

    def __init__(self, app: Flask, host: str, port: int, *, threads: int = 8) -> None:
        from waitress import create_server

        self.app = app
        # waitress logs no requests, and the app drops the sender's address before it runs
        try:
            self.server: Any = create_server(
                app, host=host, port=port, threads=threads, ident=IDENT
            )
        except OSError:  # taken between the check and the bind
            self._dispose()
            raise
        self.host = host
        self.port = int(self.server.effective_port)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The hub's base address (what a home joins)."""
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C, then let go of the port and the database."""
        try:
            self.server.run()
        except KeyboardInterrupt:
            pass
        finally:
            self.server.close()
            self._dispose()

    def start(self) -> HubServer:
        """Serve on a thread of its own until stop()."""
        self._thread = threading.Thread(target=self._loop, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        # the loop's own thread closes the sockets: closing them from another thread
        # pulls them out from under a select() that is still waiting on them
        from waitress import wasyncore

        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=0.05, map=self.server._map, count=1)
        finally:
            self.server.task_dispatcher.shutdown()
            wasyncore.close_all(self.server._map)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread started by start() (waiting for requests under way), then dispose."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                logger.warning("the hub's server thread did not stop within %.0f s", timeout)
        self._dispose()

    @property
    def stopped(self) -> bool:
        """Tell whether the server thread has ended (or never started)."""
        return self._thread is None or not self._thread.is_alive()

    def _dispose(self) -> None:
        self.app.extensions["hub.engine"].dispose()


def _serve_one(build: Callable[[], Flask], sock: socket.socket | None, **options: Any) -> None:
    """Build the app in this process, start its refresh timer, and serve until stopped."""
    from waitress import serve

    from edu.hub.aggregates import Refresher

    app = build()
    engine = app.extensions["hub.engine"]
    every = app.extensions["hub.settings"].refresh_seconds
    timer = Refresher(engine, every, app.config["HUB_CLOCK"]).start() if every else None
    sockets = {"sockets": [sock]} if sock is not None else {}
    try:
        # waitress logs no requests, and the app drops the sender's address before it runs
        serve(app, ident=IDENT, _quiet=True, **sockets, **options)
    except KeyboardInterrupt:
        pass
    finally:
        if timer is not None:
            timer.stop()
        engine.dispose()


def serve(build: Callable[[], Flask], host: str, port: int, threads: int, workers: int = 1) -> None:
    """Serve the app *build* makes on host:port with *threads* threads in each of *workers*."""
    if workers == 1:
        _serve_one(build, None, host=host, port=port, threads=threads)
        return
    sock = socket.create_server((host, port), backlog=1024)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: serve until the parent stops it
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                _serve_one(build, sock, threads=threads)
            except Exception:
                logger.exception("hub worker %d stopped", os.getpid())
                os._exit(1)
            os._exit(0)
        children.append(pid)
    sock.close()

    def stop(*_: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        for pid in children:
            os.waitpid(pid, 0)
    except KeyboardInterrupt:
        stop()
        for pid in children:
            os.waitpid(pid, 0)
