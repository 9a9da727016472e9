"""miIO packets: the hello handshake and encrypted replies, checked before they are trusted."""

from __future__ import annotations

import datetime
import hashlib
import logging
import struct
from dataclasses import dataclass
from typing import Any

import construct
from miio.exceptions import PayloadDecodeException
from miio.protocol import Message

logger = logging.getLogger(__name__)

MAGIC = 0x2131
HEADER_SIZE = 32
PORT = 54321
#: The 32-byte hello a client sends: magic, length 32, then all ``ff``.
HELLO = bytes.fromhex("21310020" + "ff" * 28)

_HEADER = struct.Struct(">HHIII16s")
_HIDDEN = (b"\xff" * 16, b"\x00" * 16)


class PacketError(ValueError):
    """A datagram that is not a well-formed miIO packet of the expected kind."""


class TokenMismatch(PacketError):
    """An encrypted packet whose checksum fails: a wrong token or a damaged packet."""


@dataclass(frozen=True)
class Hello:
    """What a device tells in its hello reply. The token is there only on fresh devices."""

    did: int
    stamp: int
    token: str | None

    @property
    def token_known(self) -> bool:
        """Tell whether the reply revealed the device token."""
        return self.token is not None

    def __repr__(self) -> str:
        return f"Hello(did={self.did}, stamp={self.stamp}, token_known={self.token_known})"

    __str__ = __repr__


def _token_bytes(token: str) -> bytes:
    # Imported here so that protocol users who never decrypt do not pay for tokens.py.
    from devices.tokens import normalize_token

    return bytes.fromhex(normalize_token(token))


def _header(data: bytes) -> tuple[int, int, int, int, bytes]:
    """Split and check a miIO header: return (length, unknown, did, stamp, checksum)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PacketError(f"expected bytes, got {type(data).__name__}")
    if len(data) < HEADER_SIZE:
        raise PacketError(f"truncated packet: {len(data)} bytes, a miIO header is 32")
    magic, length, unknown, did, stamp, checksum = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise PacketError(f"not a miIO packet (magic 0x{magic:04x}, expected 0x2131)")
    if length != len(data):
        raise PacketError(f"length field says {length} bytes but the datagram has {len(data)}")
    return length, unknown, did, stamp, bytes(checksum)


def parse_hello(data: bytes) -> Hello:
    """Parse a hello reply; raise PacketError for anything else."""
    length, _unknown, did, stamp, checksum = _header(data)
    if length != HEADER_SIZE:
        raise PacketError(f"not a hello reply: {length} bytes, a hello is 32")
    if bytes(data) == HELLO:
        raise PacketError("a hello request, not a reply")
    token = None if checksum in _HIDDEN else checksum.hex()
    return Hello(did=did, stamp=stamp, token=token)


def parse_reply(data: bytes, token: str) -> dict[str, Any]:
    """Verify and decrypt an encrypted reply with *token*; return its JSON object."""
    return parse_message(data, _token_bytes(token))


def parse_message(data: bytes, key: bytes) -> dict[str, Any]:
    """Verify and decrypt an encrypted miIO message (request or reply) with a 16-byte key."""
    length, _unknown, _did, _stamp, checksum = _header(data)
    if length == HEADER_SIZE:
        raise PacketError("a hello packet, not an encrypted message")
    body = bytes(data[HEADER_SIZE:])
    if len(body) % 16:
        raise PacketError(f"encrypted body of {len(body)} bytes is not a whole number of blocks")
    # Check the checksum first: python-miio decrypts (and may try to decode JSON)
    # before it verifies, which turns a wrong token into a JSON error now and then.
    expected = hashlib.md5(bytes(data[:16]) + key + body).digest()
    if expected != checksum:
        raise TokenMismatch("checksum mismatch: wrong token or damaged packet")
    try:
        message = Message.parse(bytes(data), token=key)
    except PayloadDecodeException as ex:
        raise PacketError("the decrypted payload is not JSON") from ex
    except (construct.ConstructError, ValueError, TypeError) as ex:
        raise PacketError(f"cannot decode the packet ({type(ex).__name__})") from ex
    payload = message.data.value
    if isinstance(payload, bytes | bytearray):
        raise PacketError("cannot decrypt the payload (bad padding)")
    if not isinstance(payload, dict):
        raise PacketError(f"the payload is JSON {type(payload).__name__}, not an object")
    return payload


def build_hello_reply(did: int, stamp: int, token: str | None = None) -> bytes:
    """Build the hello reply a device sends: the token for a fresh one, ``ff`` otherwise."""
    checksum = _token_bytes(token) if token is not None else b"\xff" * 16
    return _HEADER.pack(MAGIC, HEADER_SIZE, 0, did, stamp, checksum)


def build_message(payload: dict[str, Any], token: str, *, did: int, stamp: int) -> bytes:
    """Encrypt *payload* into a miIO packet, as a device or a client would send it."""
    header = {
        "length": 0,
        "unknown": 0,
        "device_id": did.to_bytes(4, "big"),
        "ts": datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC),
    }
    packet = Message.build(
        {"data": {"value": payload}, "header": {"value": header}, "checksum": 0},
        token=_token_bytes(token),
    )
    return bytes(packet)
