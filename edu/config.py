"""Settings from EDU_* environment variables, overridable by CLI flags."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

DEFAULT_BIND = "127.0.0.1:5000"
# Where an owner's tip may link (and any host below these): the maker's own site, where the
# manuals and support pages are. Everything else in a tip shows as plain text.
DEFAULT_LINK_HOSTS = ("mi.com",)
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _networks(value: str | None, allow_public: bool) -> tuple[IPv4Network, ...]:
    from devices.networks import parse_networks

    try:
        return tuple(parse_networks(_split(value), allow_public=allow_public))
    except ValueError as exc:
        raise ValueError(f"EDU_NETWORKS: {exc}") from None


def _spec_url(value: str | None) -> str | None:
    from devices.spec_service import check_base

    try:
        return check_base(value) if value else None
    except ValueError as exc:
        raise ValueError(f"EDU_MIOT_SPEC_URL: {exc}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}")
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


def link_hosts(env: Mapping[str, str]) -> tuple[str, ...]:
    """Read EDU_HUB_LINK_HOSTS: the hosts a tip may link to, comma-separated; "none" for none."""
    raw = (env.get("EDU_HUB_LINK_HOSTS") or "").strip().lower()
    if not raw:
        return DEFAULT_LINK_HOSTS
    if raw == "none":
        return ()
    hosts = _split(raw)
    for host in hosts:
        if len(host) > 253 or not _HOST.match(host):
            raise ValueError(f"EDU_HUB_LINK_HOSTS: {host!r} is not a host name like mi.com")
    return hosts


def _keep(env: Mapping[str, str]) -> int:
    raw = (env.get("EDU_BACKUP_KEEP") or "7").strip()
    if not raw.isdigit():
        raise ValueError(
            f"EDU_BACKUP_KEEP must be a whole number of backups (0: none), not {raw!r}"
        )
    return int(raw)


def _clock_time(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or default).strip()
    hour, _, minute = raw.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"{name} must be a time of day like 03:30, not {raw!r}")
    return f"{int(hour):02d}:{int(minute):02d}"


@dataclass(frozen=True)
class Settings:
    """Where Feature Coach keeps its data and which networks it looks at."""

    instance: Path
    database_url: str
    networks: tuple[IPv4Network, ...] = ()  # parsed once, here
    allow_public: bool = False
    secret_key: str | None = field(default=None, repr=False)
    bind: str = DEFAULT_BIND
    device_timeout: float = 2.0
    discovery_timeout: float = 2.0
    poll_interval: float = 300.0
    spec_cache_hours: float = 24.0 * 30
    fetch_specs: bool = False
    spec_url: str | None = None
    base_url: str = ""
    tip_interval: float = 300.0
    demo_timeout: float = 300.0
    backup_keep: int = 7  # nightly backups kept; 0 turns the nightly backup off
    backup_at: str = "03:30"  # when the nightly backup runs, in the server's local time
    link_hosts: tuple[str, ...] = DEFAULT_LINK_HOSTS  # where tips from other owners may link

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read EDU_* variables; keyword overrides (CLI flags) win when not None."""
        env = os.environ if env is None else env
        instance = Path(env.get("EDU_INSTANCE") or "instance").expanduser().resolve()
        settings = cls(
            instance=instance,
            database_url=env.get("EDU_DATABASE_URL") or "",
            networks=_networks(env.get("EDU_NETWORKS"), _flag(env.get("EDU_ALLOW_PUBLIC"))),
            allow_public=_flag(env.get("EDU_ALLOW_PUBLIC")),
            secret_key=env.get("EDU_SECRET_KEY") or None,
            bind=env.get("EDU_BIND") or DEFAULT_BIND,
            device_timeout=_float(env, "EDU_DEVICE_TIMEOUT", 2.0),
            discovery_timeout=_float(env, "EDU_DISCOVERY_TIMEOUT", 2.0),
            poll_interval=_float(env, "EDU_POLL_INTERVAL", 300.0),
            fetch_specs=_flag(env.get("EDU_FETCH_SPECS")) or bool(env.get("EDU_MIOT_SPEC_URL")),
            spec_url=_spec_url(env.get("EDU_MIOT_SPEC_URL")),
            base_url=(env.get("EDU_BASE_URL") or "").rstrip("/"),
            tip_interval=_float(env, "EDU_TIP_INTERVAL", 300.0),
            demo_timeout=_float(env, "EDU_DEMO_TIMEOUT", 300.0),
            backup_keep=_keep(env),
            backup_at=_clock_time(env, "EDU_BACKUP_AT", "03:30"),
            link_hosts=link_hosts(env),
        )
        chosen = {k: v for k, v in overrides.items() if v is not None and v != ()}
        if "instance" in chosen:
            chosen["instance"] = Path(chosen["instance"]).expanduser().resolve()
        settings = replace(settings, **chosen)
        if not settings.database_url:
            settings = replace(
                settings, database_url=f"sqlite:///{settings.instance / 'feature-coach.sqlite3'}"
            )
        return settings

    def ensure_instance(self) -> Path:
        """Create the instance folder (private to the user) and return it."""
        self.instance.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.instance
