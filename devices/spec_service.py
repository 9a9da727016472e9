"""A MIoT spec service client: the newest released spec of a model, over plain HTTP(S).

The service has the public layout python-miio's ``MiotCloud`` (through micloud) reads:
``<base>/instances?status=released`` lists ``{"instances": [{"model", "version", "type"}]}``
and ``<base>/instance?type=<urn>`` returns one spec. The listing is a few megabytes, so it is
kept beside the cached specs for a day and fetched once per process at most.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

logger = logging.getLogger(__name__)

#: The service python-miio uses (micloud's ``MiotSpec.BASE_URL``).
DEFAULT_BASE = "https://miot-spec.org/miot-spec-v2"
LISTING_FILE = "released-instances.json"
LISTING_MAX_AGE = 24 * 3600.0
_MAX_BYTES = 64 * 1024 * 1024


class SpecServiceError(OSError):
    """The spec service could not give a spec; the message says why in one line."""


def check_base(base: str) -> str:
    """Return *base* without a trailing slash; raise ValueError unless it is an http(s) URL."""
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a spec service URL: {base[:60]!r} (expected http(s)://host/path)")
    return base.strip().rstrip("/")


class SpecService:
    """Ask one spec service for the newest released spec of a model.

    *timeout* bounds each socket wait: a scan fetches during identify, so two requests must
    fit in the coordinator's per-device deadline; a fetch that still runs late completes in
    the background and the next scan finds the spec kept.
    """

    def __init__(
        self, base: str = DEFAULT_BASE, *, cache_dir: Path | None = None, timeout: float = 5.0
    ) -> None:
        self.base = check_base(base)
        self.cache_dir = cache_dir
        self.timeout = timeout
        self._listing: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SpecService({self.base!r})"

    @property
    def host(self) -> str:
        """The service's host, for messages."""
        return urlsplit(self.base).netloc

    def _get(self, url: str) -> Any:
        request = Request(url, headers={"Accept": "application/json"})  # noqa: S310 (checked scheme)
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read(_MAX_BYTES + 1)
        except HTTPError as exc:
            raise SpecServiceError(f"the spec service at {self.host} answered {exc.code}") from None
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            text = str(getattr(reason, "strerror", None) or reason).splitlines()[0][:80]
            raise SpecServiceError(
                f"cannot reach the spec service at {self.host}: {text}"
            ) from None
        if len(body) > _MAX_BYTES:
            raise SpecServiceError(f"the spec service at {self.host} sent too much")
        try:
            return json.loads(body)
        except ValueError:
            raise SpecServiceError(f"the spec service at {self.host} sent no JSON") from None

    def _newest(self, data: Any) -> dict[str, dict[str, Any]]:
        """Map each model to its newest released instance."""
        instances = data.get("instances") if isinstance(data, dict) else None
        if not isinstance(instances, list):
            raise SpecServiceError(f"the spec service at {self.host} listed no instances")
        newest: dict[str, dict[str, Any]] = {}
        for item in instances:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                continue
            model, version = item.get("model"), item.get("version")
            if not isinstance(model, str) or not isinstance(version, int):
                continue
            if model not in newest or version > newest[model]["version"]:
                newest[model] = {"model": model, "version": version, "type": item["type"]}
        return newest

    def _cached_listing(self) -> Any | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / LISTING_FILE
        try:
            if time.time() - path.stat().st_mtime > LISTING_MAX_AGE:
                return None
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _store_listing(self, data: Any) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.cache_dir / LISTING_FILE)

    def listing(self) -> dict[str, dict[str, Any]]:
        """Return the newest released instance of every model the service lists."""
        with self._lock:
            if self._listing is None:
                data = self._cached_listing()
                if data is None:
                    data = self._get(f"{self.base}/instances?status=released")
                    self._newest(data)  # refuse to keep a listing that lists nothing
                    self._store_listing(data)
                self._listing = self._newest(data)
            return self._listing

    def fetch(self, model: str) -> dict[str, Any]:
        """Return the newest released spec of *model*; raise SpecServiceError saying why not."""
        release = self.listing().get(model)
        if release is None:
            raise SpecServiceError(f"the spec service at {self.host} does not list {model}")
        spec = self._get(f"{self.base}/instance?type={quote(release['type'], safe=':')}")
        if not isinstance(spec, dict) or not isinstance(spec.get("services"), list):
            raise SpecServiceError(f"the spec service at {self.host} sent no spec for {model}")
        logger.info(
            "fetched the spec of %s (version %s) from %s", model, release["version"], self.host
        )
        return spec
