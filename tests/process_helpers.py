"""Helpers for tests that run `edu` as a real process: a free port, waiting for the page, JSON output."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_when_up(port: int, path: str, deadline: float) -> tuple[int, str]:
    """GET *path* from 127.0.0.1:*port*, retrying while the server starts; (status, body)."""
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            answer = conn.getresponse()
            return answer.status, answer.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # the server process is still starting


def read_json_document(process: subprocess.Popen[str]) -> Any:
    """Read the JSON object a command prints first (it ends with a line starting with '}')."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("}"):
            break
    return json.loads("".join(lines))


@contextmanager
def running_demo(
    instance: Path, *options: str, env_extra: dict[str, str] | None = None
) -> Iterator[tuple[int, Any]]:
    """Run `edu demo [options] --json` on a free port; yield (port, what it printed first)."""
    port = free_port()
    env = {
        **os.environ,
        "EDU_DISCOVERY_TIMEOUT": "0.8",
        "EDU_DEVICE_TIMEOUT": "0.5",
        **(env_extra or {}),
    }
    env.pop("EDU_SECRET_KEY", None)
    command = [
        str(Path(sys.executable).parent / "edu"),
        "--instance",
        str(instance),
        "demo",
        *options,
        "--port",
        str(port),
        "--base",
        "127.0.0.10",
        "--json",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    ) as process:
        try:
            yield port, read_json_document(process)
        finally:
            process.terminate()
            process.wait(10)
