"""MIoT spec files: shipped with the package, cached for a long time, stale beats nothing.

python-miio's GenericMiot fetches specs from the internet and keeps them for 6 hours.
Feature Coach must work offline, so it looks in its own cache, then in the specs shipped
in ``devices/data/specs``, then (only if allowed) online from a MIoT spec service
(devices.spec_service), and finally falls back to a stale cached copy. A missing network
never breaks a scan, and ``explain`` says in one line why a model has no spec.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "data" / "specs"
_MODEL_RE = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+){2,}$", re.IGNORECASE)

Fetcher = Callable[[str], dict[str, Any]]

#: After a failed fetch, a model is not asked for again for this long (seconds).
RETRY_AFTER = 600.0


@dataclass(frozen=True)
class SpecResult:
    """A spec and where it came from: "cache", "shipped", "online" or "stale"."""

    spec: dict[str, Any]
    source: str


class SpecStore:
    """Find the MIoT spec of a model without needing the internet."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        shipped_dir: Path = SHIPPED,
        max_age_hours: float = 24.0 * 30,
        fetch: Fetcher | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.shipped_dir = shipped_dir
        self.max_age = max_age_hours * 3600
        self.fetch = fetch
        self.service_host: str | None = None
        self._failed: dict[str, tuple[float, str]] = {}

    @classmethod
    def offline(cls, cache_dir: Path | None = None, **kwargs: Any) -> SpecStore:
        """A store that never touches the network."""
        return cls(cache_dir, fetch=None, **kwargs)

    @classmethod
    def online(
        cls, cache_dir: Path | None = None, *, base_url: str | None = None, **kwargs: Any
    ) -> SpecStore:
        """A store that may download a spec it does not have from a MIoT spec service.

        *base_url* defaults to the public service python-miio uses.
        """
        from devices.spec_service import DEFAULT_BASE, SpecService

        service = SpecService(base_url or DEFAULT_BASE, cache_dir=cache_dir)
        store = cls(cache_dir, fetch=service.fetch, **kwargs)
        store.service_host = service.host
        return store

    def explain(self, model: str) -> str:
        """Say in one line why *model* has no spec (after ``get`` found none)."""
        if model in self._failed:
            return f"no MIoT spec for {model}: {self._failed[model][1]}"
        if self.fetch is None:
            return (
                f"no MIoT spec for {model}: none is shipped or kept in the instance,"
                " and fetching specs is off"
            )
        return f"no MIoT spec for {model} is shipped, kept or published"

    def _fetch(self, model: str) -> dict[str, Any] | None:
        """Ask the service (unless it failed for *model* a moment ago); remember why not."""
        if self.fetch is None:
            return None
        failed = self._failed.get(model)
        if failed is not None and time.monotonic() - failed[0] < RETRY_AFTER:
            return None
        try:
            fetched = self.fetch(model)
        except Exception as exc:  # any failure of the network or the service
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            logger.info("could not fetch the spec of %s: %s", model, reason)
            self._failed[model] = (time.monotonic(), reason)
            return None
        if not isinstance(fetched, dict) or "services" not in fetched:
            self._failed[model] = (time.monotonic(), "the spec service sent no spec")
            return None
        self._failed.pop(model, None)
        return fetched

    def _path(self, folder: Path, model: str) -> Path:
        return folder / f"{model}.json"

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable spec file %s: %s", path, exc)
            return None
        if not isinstance(data, dict) or "services" not in data:
            logger.warning("ignoring spec file %s: no services", path)
            return None
        return data

    def models(self) -> list[str]:
        """Return every model this store holds a spec for (shipped and cached), sorted."""
        found: set[str] = set()
        for folder in (self.shipped_dir, self.cache_dir):
            if folder is not None and folder.is_dir():
                found.update(p.stem for p in folder.glob("*.json") if _MODEL_RE.match(p.stem))
        return sorted(found)

    def get(self, model: str) -> SpecResult | None:
        """Return the best spec for *model*, or None when there is none anywhere."""
        if not _MODEL_RE.match(model):
            return None
        cached_path = self._path(self.cache_dir, model) if self.cache_dir else None
        stale: dict[str, Any] | None = None
        if cached_path is not None:
            cached = self._read(cached_path)
            if cached is not None:
                age = time.time() - cached_path.stat().st_mtime
                if age <= self.max_age:
                    return SpecResult(cached, "cache")
                stale = cached
        shipped = self._read(self._path(self.shipped_dir, model))
        if shipped is not None:
            return SpecResult(shipped, "shipped")
        fetched = self._fetch(model)
        if fetched is not None:
            self.put(model, fetched)
            return SpecResult(fetched, "online")
        if stale is not None:
            logger.info("using a stale cached spec for %s", model)
            return SpecResult(stale, "stale")
        return None

    def put(self, model: str, spec: dict[str, Any]) -> None:
        """Store *spec* in the cache, atomically."""
        if self.cache_dir is None or not _MODEL_RE.match(model):
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(spec, handle)
        os.replace(tmp, self._path(self.cache_dir, model))
