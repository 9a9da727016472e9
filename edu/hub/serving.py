"""Serve the hub with waitress: one process, or several sharing one listening socket.

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)


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
        serve(app, ident="Feature Coach hub", _quiet=True, **sockets, **options)
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
