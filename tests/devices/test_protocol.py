"""miIO packets: hello replies, encrypted replies, and garbage that must not crash us."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import random
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from miio.protocol import Message, Utils

from devices.protocol import (
    HELLO,
    Hello,
    PacketError,
    TokenMismatch,
    build_hello_reply,
    build_message,
    parse_hello,
    parse_reply,
)
from devices.tokens import TokenError

TOKEN = "00112233445566778899aabbccddeeff"
OTHER = "ffeeddccbbaa99887766554433221100"


def _checksummed(header16: bytes, body: bytes, token: str = TOKEN) -> bytes:
    """Return header16 + md5 checksum + body, as a device with *token* would sign it."""
    return header16 + hashlib.md5(header16 + bytes.fromhex(token) + body).digest() + body


def _signed(plaintext: bytes, *, token: str = TOKEN, length: int | None = None) -> bytes:
    """Encrypt arbitrary *plaintext* (not necessarily JSON) into a correctly signed packet."""
    body = Utils.encrypt(plaintext, bytes.fromhex(token))
    size = 32 + len(body) if length is None else length
    header = struct.pack(">HHIII", 0x2131, size, 0, 1234, 5678)
    return _checksummed(header, body, token)


def test_hello_is_the_32_byte_handshake_python_miio_sends() -> None:
    assert bytes.fromhex("21310020" + "ff" * 28) == HELLO
    assert len(HELLO) == 32


def test_hello_reply_round_trip_reveals_the_token_of_a_fresh_device() -> None:
    hello = parse_hello(build_hello_reply(0x0A0B0C0D, 1_700_000_000, TOKEN))
    assert hello == Hello(did=0x0A0B0C0D, stamp=1_700_000_000, token=TOKEN)
    assert hello.token_known


@pytest.mark.parametrize("fill", [b"\xff", b"\x00"])
def test_provisioned_device_hides_its_token_in_the_hello(fill: bytes) -> None:
    reply = (
        bytes.fromhex("21310020") + b"\x00" * 4 + (99).to_bytes(4, "big") + (7).to_bytes(4, "big")
    )
    hello = parse_hello(reply + fill * 16)
    assert hello == Hello(did=99, stamp=7, token=None)
    assert not hello.token_known


def test_python_miio_reads_our_hello_reply_the_same_way() -> None:
    parsed = Message.parse(build_hello_reply(4242, 1000, TOKEN))
    assert parsed.checksum == bytes.fromhex(TOKEN)
    assert int.from_bytes(parsed.header.value.device_id, "big") == 4242
    assert parsed.header.value.ts == datetime.datetime.fromtimestamp(1000, tz=datetime.UTC)


def test_hello_repr_never_shows_the_token() -> None:
    hello = parse_hello(build_hello_reply(1, 2, TOKEN))
    for text in (repr(hello), str(hello), f"{hello}"):
        assert TOKEN not in text
        assert "token_known=True" in text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (HELLO[:31], "truncated"),
        (b"\x00" * 32, "magic"),
        (bytes.fromhex("21310040") + b"\x00" * 28, "length field"),
        (HELLO, "request"),
        (build_message({"id": 1}, TOKEN, did=1, stamp=1), "not a hello"),
        (build_hello_reply(1, 2) + b"\x00", "length field"),
    ],
)
def test_parse_hello_refuses_what_is_not_a_hello_reply(data: bytes, reason: str) -> None:
    with pytest.raises(PacketError) as caught:
        parse_hello(data)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


def test_encrypted_reply_round_trip() -> None:
    payload = {"id": 7, "result": ["on", 42, {"nested": True}]}
    packet = build_message(payload, TOKEN, did=1234, stamp=5678)
    assert parse_reply(packet, TOKEN) == payload
    assert parse_reply(packet, TOKEN.upper()) == payload  # tokens are case-insensitive


def test_python_miio_reads_what_build_message_writes() -> None:
    packet = build_message({"id": 1, "result": [1]}, TOKEN, did=1234, stamp=5678)
    parsed = Message.parse(packet, token=bytes.fromhex(TOKEN))
    assert parsed.data.value == {"id": 1, "result": [1]}


def test_wrong_token_is_a_token_mismatch_without_the_token_in_the_message() -> None:
    packet = build_message({"id": 1}, TOKEN, did=1, stamp=1)
    with pytest.raises(TokenMismatch) as caught:
        parse_reply(packet, OTHER)
    assert isinstance(caught.value, PacketError)
    for secret in (TOKEN, OTHER):
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)


def test_a_flipped_bit_in_the_body_fails_the_checksum() -> None:
    packet = bytearray(build_message({"id": 1}, TOKEN, did=1, stamp=1))
    packet[40] ^= 0x01
    with pytest.raises(TokenMismatch):
        parse_reply(bytes(packet), TOKEN)


@pytest.mark.parametrize(
    ("plaintext", "reason"),
    [
        (b"not json at all\x00", "not JSON"),
        (b"[1, 2, 3]\x00", "not an object"),
        (b'"a string"', "not an object"),
        (b"\xff\xfe\xfd", "not JSON"),
    ],
)
def test_signed_but_undecodable_payloads_are_packet_errors(plaintext: bytes, reason: str) -> None:
    with pytest.raises(PacketError) as caught:
        parse_reply(_signed(plaintext), TOKEN)
    assert not isinstance(caught.value, TokenMismatch)
    assert reason in str(caught.value)


def test_signed_body_with_bad_padding_is_a_packet_error() -> None:
    header = struct.pack(">HHIII", 0x2131, 48, 0, 1, 1)
    with pytest.raises(PacketError, match="padding"):
        parse_reply(_checksummed(header, b"\x00" * 16), TOKEN)


def test_parse_reply_refuses_a_bad_token_argument_without_echoing_it() -> None:
    packet = build_message({"id": 1}, TOKEN, did=1, stamp=1)
    with pytest.raises(TokenError) as caught:
        parse_reply(packet, "not-a-token-0123456789abcdef0123")
    assert "not-a-token" not in str(caught.value)


# --- fuzz --------------------------------------------------------------------------------


def _valid_packets(rng: random.Random) -> list[bytes]:
    packets = [
        build_hello_reply(rng.getrandbits(32), rng.getrandbits(32), TOKEN),
        build_hello_reply(rng.getrandbits(32), rng.getrandbits(32)),
        HELLO,
    ]
    for size in (0, 1, 5, 40, 300):
        payload: dict[str, Any] = {"id": rng.randint(1, 9999), "result": ["x" * size]}
        packets.append(
            build_message(payload, TOKEN, did=rng.getrandbits(32), stamp=rng.getrandbits(31))
        )
    packets.append(_signed(b"not json\x00"))
    packets.append(_signed(json.dumps([1, 2]).encode()))
    return packets


def _mutate(rng: random.Random, packet: bytes) -> bytes:
    data = bytearray(packet)
    kind = rng.randrange(9)
    if kind == 0:  # bit flips
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        del data[rng.randrange(len(data) + 1) :]
    elif kind == 2:  # extension
        data += rng.randbytes(rng.randint(1, 64))
    elif kind == 3 and len(data) >= 4:  # a random length field
        data[2:4] = rng.getrandbits(16).to_bytes(2, "big")
    elif (
        kind == 4 and len(data) >= 32
    ):  # a random length field, re-signed so it gets past the checksum
        data[2:4] = rng.getrandbits(16).to_bytes(2, "big")
        data = bytearray(_checksummed(bytes(data[:16]), bytes(data[32:])))
    elif kind == 5 and len(data) > 32:  # a damaged body, re-signed: decryption meets garbage
        body = bytearray(data[32:])
        body[rng.randrange(len(body))] ^= 0xFF
        del body[rng.randrange(len(body) + 1) :]
        header = bytearray(data[:16])
        header[2:4] = (32 + len(body)).to_bytes(2, "big")
        data = bytearray(_checksummed(bytes(header), bytes(body)))
    elif kind == 6:  # random bytes behind a valid magic
        size = rng.randint(0, 128)
        data = bytearray(b"\x21\x31" + size.to_bytes(2, "big") + rng.randbytes(max(size - 4, 0)))
    elif kind == 7:  # random plaintext, properly encrypted and signed
        data = bytearray(_signed(rng.randbytes(rng.randint(0, 80))))
    else:  # pure noise
        data = bytearray(rng.randbytes(rng.randint(0, 200)))
    return bytes(data)


def test_fuzzed_datagrams_only_ever_raise_packet_error() -> None:
    rng = random.Random(20240611)
    bases = _valid_packets(rng)
    outcomes = {"hello": 0, "reply": 0, "error": 0}
    count = 50_000
    for i in range(count):
        packet = _mutate(rng, rng.choice(bases)) if i % 10 else rng.choice(bases)
        for parse, name in ((parse_hello, "hello"), (lambda d: parse_reply(d, TOKEN), "reply")):
            try:
                parse(packet)
            except PacketError as ex:
                assert "\n" not in str(ex)
                assert TOKEN not in str(ex)
                outcomes["error"] += 1
            except Exception as ex:  # pragma: no cover - the failure we are looking for
                pytest.fail(f"{name} raised {type(ex).__name__}: {ex} for {packet.hex()}")
            else:
                outcomes[name] += 1
    # The mix reached every outcome, so the fuzz exercised both the happy and the failing paths.
    assert all(outcomes.values()), outcomes


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.binary(max_size=16),
    st.integers(min_value=0, max_value=0xFFFF),
    st.binary(max_size=16),
    st.binary(max_size=160),
)
def test_any_header_and_body_only_ever_raise_packet_error(
    head: bytes, length: int, middle: bytes, body: bytes
) -> None:
    packet = b"\x21\x31" + length.to_bytes(2, "big") + head + middle + body
    for parse in (parse_hello, lambda d: parse_reply(d, TOKEN)):
        with contextlib.suppress(PacketError):
            parse(packet)
