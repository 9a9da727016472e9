"""Refuse to run a netns helper anywhere but inside a namespace the test suite created."""

from __future__ import annotations

import os
import subprocess
import sys

PREFIX = "fc-"


def inside_test_namespace() -> bool:
    """Tell whether this process runs in a named ``fc-*`` network namespace."""
    try:
        named = subprocess.run(
            ["ip", "netns", "identify", str(os.getpid())],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return len(named) == 1 and named[0].startswith(PREFIX)


def require_test_namespace() -> None:
    """Exit at once unless inside a test namespace: no real network may see our traffic."""
    if not inside_test_namespace():
        print("refusing to run outside an fc-* test network namespace", file=sys.stderr)
        sys.exit(2)
