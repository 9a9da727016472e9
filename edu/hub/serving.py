"""Serving the hub with waitress: in the foreground (`edu hub serve`) or on a thread (`edu demo --hub`)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from edu.config import Settings
    from edu.hub import HubSettings

logger = logging.getLogger(__name__)

IDENT = "Feature Coach hub"


def build_hub(settings: Settings, hub_settings: HubSettings) -> Flask:
    """Open the hub's database (creating its tables) and build its app; OSError when it cannot."""
    from sqlalchemy.exc import SQLAlchemyError

    from edu.db import build_engine
    from edu.hub import create_hub_app

    settings.ensure_instance()
    engine = build_engine(settings.database_url)
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
