"""Run one discovery call inside a test network namespace and print what it found as JSON.

Usage: run_discovery.py broadcast|mdns|sweep|probe|discover '<json keyword arguments>'.
Tokens are printed as a SHA-256 prefix only. Refuses to run in the host's own namespace,
so a slip in a test can never put a broadcast or an mDNS query on a real network.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for netns.guard
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # for devices


def fingerprint(token: str | None) -> str | None:
    """Return a short digest that tells tokens apart without showing them."""
    return hashlib.sha256(token.encode()).hexdigest()[:12] if token else None


def main() -> int:
    """Run the named discovery function with the given keyword arguments."""
    from netns.guard import require_test_namespace

    require_test_namespace()
    from devices import discovery

    what, kwargs = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    started = time.monotonic()
    if what == "probe":
        found = discovery.probe(**kwargs)
        records = [found] if found else []
    elif what == "sweep":
        records = discovery.sweep(**kwargs)
    elif what in ("broadcast", "mdns", "discover"):
        records = getattr(discovery, what)(**kwargs)
    else:
        print(f"unknown discovery {what!r}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "elapsed": elapsed,
                "found": [
                    {
                        "ip": r.ip,
                        "did": r.did,
                        "source": r.source,
                        "model": r.model,
                        "token_known": r.token_known,
                        "token": fingerprint(r.token),
                        "repr": repr(r),
                    }
                    for r in records
                ],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
