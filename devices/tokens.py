"""Device tokens: check them, and import them from token files (cloud JSON, extractor CSV and text)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address
from pathlib import Path
from typing import Any

from devices import MAX_DID

logger = logging.getLogger(__name__)

KEY_FILE = "token.key"
_MAX_FILE_BYTES = 5 * 1024 * 1024
_TOKEN_RE = re.compile(r"[0-9a-f]{32}")
_MAC_RE = re.compile(r"([0-9A-Fa-f]{2})[:-]?" * 5 + r"([0-9A-Fa-f]{2})")


class TokenError(ValueError):
    """A value that is not a usable device token (the message never holds the value)."""


class TokenFileError(ValueError):
    """A token file that cannot be read; the message names the file and the reason."""


def normalize_token(text: str) -> str:
    """Return *text* as a token: 32 lower-case hex digits; raise TokenError otherwise."""
    if not isinstance(text, str):
        raise TokenError("a device token is 32 hexadecimal digits")
    token = text.strip().lower()
    if not _TOKEN_RE.fullmatch(token):
        raise TokenError("a device token is 32 hexadecimal digits")
    return token


@dataclass(frozen=True)
class TokenRecord:
    """One device's token with whatever the source file said about the device."""

    token: str
    did: int | None = None
    ip: str | None = None
    mac: str | None = None
    model: str | None = None
    name: str | None = None

    def __repr__(self) -> str:
        return (
            f"TokenRecord(did={self.did!r}, ip={self.ip!r}, mac={self.mac!r}, "
            f"model={self.model!r}, name={self.name!r}, token=<hidden>)"
        )

    __str__ = __repr__


# --- token files ---------------------------------------------------------------------------

# Field names as the known tools spell them, mapped to TokenRecord fields.
_ALIASES = {
    "name": "name",
    "token": "token",
    "model": "model",
    "mac": "mac",
    "did": "did",
    "id": "did",
    "device id": "did",
    "device_id": "did",
    "deviceid": "did",
    "ip": "ip",
    "localip": "ip",
    "local ip": "ip",
    "ip address": "ip",
    "ip_address": "ip",
    "address": "ip",
}


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _did(value: Any) -> int | None:
    """A device id, or None for anything that cannot be one (not a number, over 32 bits)."""
    text = _clean(value)
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    return int(text) if int(text) <= MAX_DID else None


def _ip(value: Any) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    try:
        address = ip_address(text)
    except ValueError:
        return None
    return str(address) if isinstance(address, IPv4Address) else None


def _mac(value: Any) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    match = _MAC_RE.fullmatch(text)
    return ":".join(match.groups()).upper() if match else text


def _record(fields: dict[str, Any], where: str, file: str) -> TokenRecord | None:
    """Build a record from *fields*; None for an entry that carries no miIO token."""
    raw_token = _clean(fields.get("token"))
    raw_did = _clean(fields.get("did"))
    if raw_token is None:
        logger.debug("%s: %s has no token, skipped", file, where)
        return None
    try:
        token = normalize_token(raw_token)
    except TokenError:
        if raw_did is not None and not raw_did.isdigit():
            # Bluetooth ("blt.") and Zigbee ("lumi.") children are listed with keys of
            # other shapes; they are not miIO Wi-Fi devices.
            logger.debug("%s: %s is not a Wi-Fi miIO device, skipped", file, where)
            return None
        raise TokenFileError(f"{file}: {where} has a bad token") from None
    return TokenRecord(
        token=token,
        did=_did(raw_did),
        ip=_ip(fields.get("ip")),
        mac=_mac(fields.get("mac")),
        model=_clean(fields.get("model")),
        name=_clean(fields.get("name")),
    )


def _json_entries(data: Any, file: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for path in (("result", "list"), ("list",), ("devices",), ("result",)):
            node: Any = data
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, list):
                return node
    raise TokenFileError(f"{file}: JSON holds no device list")


def _from_json(text: str, file: str) -> Iterator[TokenRecord]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as ex:
        raise TokenFileError(f"{file}: not valid JSON (line {ex.lineno})") from None
    for number, entry in enumerate(_json_entries(data, file), start=1):
        if not isinstance(entry, dict):
            raise TokenFileError(f"{file}: entry {number} is not an object")
        fields: dict[str, Any] = {}
        for key, value in entry.items():
            field = _ALIASES.get(str(key).strip().lower())
            if field is not None and field not in fields:
                fields[field] = value
        record = _record(fields, f"entry {number}", file)
        if record is not None:
            yield record


def _csv_delimiter(header: str) -> str | None:
    for delimiter in (";", ",", "\t"):
        names = [name.strip().strip('"').lower() for name in header.split(delimiter)]
        if "token" in names and len(names) > 1:
            return delimiter
    return None


def _from_csv(text: str, delimiter: str, file: str) -> Iterator[TokenRecord]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns: list[str | None] | None = None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = [_ALIASES.get(cell.strip().lower()) for cell in row]
            continue
        fields: dict[str, Any] = {}
        for field, cell in zip(columns, row, strict=False):
            if field is not None and field not in fields:
                fields[field] = cell
        record = _record(fields, f"line {reader.line_num}", file)
        if record is not None:
            yield record


_SEPARATOR = re.compile(r"[-=_*]{3,}")
_CLOUD_HEADER = re.compile(r"==\s*(?P<name>.*?)(?:\s+\([^()]*\))?\s*==")
_KEY_LINE = re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z _]*?)\s*:\s*(?P<value>.*)")
_IP_WITH_MAC = re.compile(r"(?P<ip>\S+)\s+\(mac:\s*(?P<mac>[^)]*)\)")


def _from_text(text: str, file: str) -> Iterator[TokenRecord]:
    """Read key/value blocks: the cloud token extractor, miiocli and extract_tokens text.

    Blocks end at separator lines, blank lines, a ``== name ==`` header, an unindented
    name line, or a key seen twice.
    """
    block: dict[str, str] = {}
    token_line = 0
    recognised = False

    def flush() -> Iterator[TokenRecord]:
        nonlocal block, token_line
        if block:
            record = _record(block, f"line {token_line}" if token_line else "a block", file)
            if record is not None:
                yield record
        block, token_line = {}, 0

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or _SEPARATOR.fullmatch(stripped):
            yield from flush()
            continue
        header = _CLOUD_HEADER.fullmatch(stripped)
        if header:
            yield from flush()
            block["name"] = header["name"]
            continue
        match = _KEY_LINE.fullmatch(line)
        field = _ALIASES.get(match["key"].lower()) if match else None
        if match and field:
            recognised = True
            if field in block:
                yield from flush()
            value = match["value"].strip()
            if field == "ip":
                with_mac = _IP_WITH_MAC.fullmatch(value)
                if with_mac:
                    value = with_mac["ip"]
                    block.setdefault("mac", with_mac["mac"])
            block[field] = value
            if field == "token":
                token_line = number
        elif not line[:1].isspace():
            # python-miio's extract_tokens prints the device name alone, then tab-indented keys.
            yield from flush()
            block["name"] = stripped
    yield from flush()
    if not recognised:
        raise TokenFileError(
            f"{file}: not a token list (expected cloud JSON, token-extractor text or CSV)"
        )


def _read(path: str | os.PathLike[str], file: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as ex:
        raise TokenFileError(
            f"{file}: cannot read it ({ex.strerror or type(ex).__name__})"
        ) from None
    if len(data) > _MAX_FILE_BYTES:
        raise TokenFileError(f"{file}: too large for a token list")
    if b"\x00" in data:
        raise TokenFileError(f"{file}: not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TokenFileError(f"{file}: not UTF-8 text") from None


def _dedupe(records: Iterable[TokenRecord]) -> list[TokenRecord]:
    seen: set[object] = set()
    unique = []
    for record in records:
        key = ("did", record.did) if record.did is not None else ("token", record.token)
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique


def shown_name(path: str | os.PathLike[str], name: str | None = None) -> str:
    """Return the file name an error may show: *name* (an upload's own name) if given, else
    *path*'s; its last part only, control characters replaced, at most 80 characters."""
    shown = name.replace("\\", "/").rsplit("/", 1)[-1] if name else Path(path).name
    return re.sub(r"[\x00-\x1f\x7f]", "?", shown)[:80] or "token file"


def parse_token_file(path: str | os.PathLike[str], *, name: str | None = None) -> list[TokenRecord]:
    """Read device tokens from cloud JSON, token-extractor text or CSV at *path*.

    Errors name the file *name* (an upload's own name) if given, else *path*'s file name.
    """
    file = shown_name(path, name)
    text = _read(path, file)
    stripped = text.lstrip()
    first_line = stripped.split("\n", 1)[0]
    if stripped[:1] in ("[", "{"):
        records = _from_json(text, file)
    elif (delimiter := _csv_delimiter(first_line)) is not None:
        records = _from_csv(text, delimiter, file)
    else:
        records = _from_text(text, file)
    result = _dedupe(records)
    if not result:
        raise TokenFileError(f"{file}: no device tokens found")
    logger.debug("%s: read %d device tokens", file, len(result))
    return result
