"""What lesson lint needs from python-miio: its model names and its classes' members, cached.

Importing python-miio takes about a third of a second, which `edu lessons lint` would pay on
every run; the index is kept in the user's cache folder per installed python-miio (version
and file time), and rebuilt when that changes. A cache that cannot be read or written is
simply rebuilt in memory.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_VERSION = 2


def cache_dir() -> Path:
    """Return the folder for Feature Coach's caches ($XDG_CACHE_HOME or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "feature-coach"


def _miio_key() -> str | None:
    """Identify the installed python-miio without importing it (None when it is missing)."""
    spec = importlib.util.find_spec("miio")
    if spec is None or spec.origin is None:
        return None
    try:
        version = importlib.metadata.version("python-miio")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    mtime = int(Path(spec.origin).stat().st_mtime)
    return f"{CACHE_VERSION}-{version}-{mtime}"


def _build() -> dict[str, Any]:
    """Import python-miio and list its models and every class's public members."""
    import miio

    models = sorted(miio.DeviceFactory.supported_models())
    members: dict[str, set[str]] = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("miio."):
            continue
        for name, obj in vars(module).items():
            if isinstance(obj, type) and obj.__module__ == module_name:
                public = (member for member in dir(obj) if not member.startswith("_"))
                members.setdefault(name, set()).update(public)
    return {"models": models, "members": {k: sorted(v) for k, v in members.items()}}


@lru_cache(maxsize=1)
def miio_index() -> dict[str, Any]:
    """Return {"models": [...], "members": {class name: [member, ...]}} for python-miio."""
    key = _miio_key()
    path = cache_dir() / f"miio-index-{key}.json" if key else None
    if path is not None:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
        except (OSError, ValueError):
            pass
    data = _build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            logger.debug("cannot keep the python-miio index in %s: %s", path, exc)
    return data


def known_models() -> list[str]:
    """Every model python-miio supports, plus the models of the MIoT specs shipped in devices/."""
    import devices

    specs = Path(devices.__file__).resolve().parent / "data" / "specs"
    return [*miio_index()["models"], *(path.stem for path in specs.glob("*.json"))]


def miio_member_exists(ref: str) -> bool:
    """Does python-miio have this `Class.member` (a lesson's `miio:` source)?"""
    name, _, member = ref.partition(".")
    return member in miio_index()["members"].get(name, ())
