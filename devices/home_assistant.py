"""Device tokens from Home Assistant's ``.storage/core.config_entries`` (and every other token file).

Home Assistant keeps one config entry per integrated device. Two integrations hold miIO tokens:

- the built-in ``xiaomi_miio``: ``data`` has ``config_flow_device`` ("device" or "gateway"),
  ``host``, ``token``, ``model``, ``mac`` and, when the owner gave them, ``cloud_username``,
  ``cloud_password`` and ``cloud_country``;
- hass-xiaomi-miot (domain ``xiaomi_miot``): a host/token entry has ``host``, ``token``,
  ``name``, ``model`` and ``miio_info`` (the device's own miIO.info: model, mac ...); a Mi
  account entry has ``username``, ``password`` and cloud session keys instead.

Device entries become TokenRecords; gateway and cloud-account entries are skipped and counted.
Cloud usernames, passwords and session keys are never read into a record, a log line or a
message: only the fields named here are looked at.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.tokens import (
    TokenError,
    TokenFileError,
    TokenRecord,
    _clean,
    _dedupe,
    _ip,
    _mac,
    _read,
    normalize_token,
    parse_token_file,
    shown_name,
)

logger = logging.getLogger(__name__)

STORAGE_KEY = "core.config_entries"
MIIO_DOMAIN = "xiaomi_miio"
MIOT_DOMAIN = "xiaomi_miot"
#: The Aqara gateway integration: a gateway (its key is not a miIO token).
AQARA_DOMAIN = "xiaomi_aqara"
FLOW_TYPE = "config_flow_device"
#: Keys that mark a Mi account (cloud) entry of hass-xiaomi-miot; their values are never read.
_CLOUD_KEYS = ("username", "password", "service_token", "ssecurity")


@dataclass(frozen=True)
class Skipped:
    """A config entry that carries no usable device token, and why (never a secret)."""

    kind: str  # "gateway", "cloud-account" or "bad-token"
    ip: str | None = None
    model: str | None = None

    @property
    def reason(self) -> str:
        """Say in plain words why the entry was left out."""
        return {
            "gateway": "a gateway entry: gateways are not taught yet",
            "cloud-account": "a Xiaomi cloud account entry: its login is not read",
            "bad-token": "its token is not 32 hexadecimal digits",
        }[self.kind]


@dataclass(frozen=True)
class TokenImport:
    """What a token file held: device tokens, and entries skipped on purpose."""

    records: list[TokenRecord]
    skipped: list[Skipped] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Count the skipped entries by kind."""
        counted: dict[str, int] = {}
        for entry in self.skipped:
            counted[entry.kind] = counted.get(entry.kind, 0) + 1
        return counted


def is_config_entries(data: Any) -> bool:
    """Tell whether parsed JSON is Home Assistant's config entries store."""
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), Mapping):
        return False
    return data.get("key") == STORAGE_KEY or "entries" in data["data"]


def _device(
    entry: Mapping[str, Any], data: Mapping[str, Any], info: Mapping[str, Any]
) -> TokenRecord | Skipped:
    host, model = _ip(data.get("host")), _clean(data.get("model")) or _clean(info.get("model"))
    try:
        token = normalize_token(data.get("token"))  # type: ignore[arg-type]
    except TokenError:
        return Skipped("bad-token", host, model)
    return TokenRecord(
        token=token,
        ip=host,
        mac=_mac(data.get("mac") or info.get("mac") or data.get("unique_did")),
        model=model,
        name=_clean(data.get("name")) or _clean(entry.get("title")),
    )


def _entry(entry: Mapping[str, Any]) -> TokenRecord | Skipped | None:
    """Read one config entry; None for an integration that holds no miIO tokens."""
    domain = entry.get("domain")
    data = entry.get("data")
    if not isinstance(data, Mapping):
        return None
    if domain == AQARA_DOMAIN:
        return Skipped("gateway", _ip(data.get("host")), None)
    if domain == MIIO_DOMAIN:
        flow = data.get(FLOW_TYPE)
        if flow == "gateway":
            return Skipped("gateway", _ip(data.get("host")), _clean(data.get("model")))
        if flow not in (None, "device") or data.get("token") is None:
            return None
        return _device(entry, data, {})
    if domain == MIOT_DOMAIN:
        if any(key in data for key in _CLOUD_KEYS):
            return Skipped("cloud-account")
        if data.get("host") is None or data.get("token") is None:
            return None
        info = data.get("miio_info")
        return _device(entry, data, info if isinstance(info, Mapping) else {})
    return None


def parse_config_entries(data: Mapping[str, Any], file: str) -> TokenImport:
    """Read the miIO device tokens of a parsed ``core.config_entries`` store."""
    entries = data.get("data", {}).get("entries")
    if not isinstance(entries, list):
        raise TokenFileError(f"{file}: Home Assistant config entries without an entry list")
    records: list[TokenRecord] = []
    skipped: list[Skipped] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        result = _entry(entry)
        if isinstance(result, TokenRecord):
            records.append(result)
        elif isinstance(result, Skipped):
            skipped.append(result)
    found = TokenImport(_dedupe(records), skipped)
    if not found.records and not skipped:
        raise TokenFileError(f"{file}: no Xiaomi devices in these Home Assistant config entries")
    logger.debug("%s: %d device tokens, skipped %s", file, len(found.records), found.counts())
    return found


def read_token_file(path: str | os.PathLike[str], *, name: str | None = None) -> TokenImport:
    """Read device tokens from any known token file, Home Assistant's config entries included.

    Errors name the file *name* (an upload's own name) if given, else *path*'s file name.
    """
    file = shown_name(path, name)
    text = _read(path, file)
    if text.lstrip()[:1] == "{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None  # parse_token_file names the line
        if is_config_entries(data):
            return parse_config_entries(data, file)
    return TokenImport(parse_token_file(path, name=name))
