"""Device tokens: validation, token files from the common tools, and the vault at rest."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devices.tokens import (
    TokenError,
    TokenFileError,
    TokenRecord,
    normalize_token,
    parse_token_file,
)
from devices.vault import TokenVault

DATA = Path(__file__).parent / "data" / "tokens"
FAN = "00112233445566778899aabbccddeeff"
PURIFIER = "ffeeddccbbaa99887766554433221100"
GATEWAY = "deadbeefdeadbeefdeadbeefdeadbeef"
LAMP = "0123456789abcdef0123456789abcdef"
ALL_TOKENS = (FAN, PURIFIER, GATEWAY, LAMP)

FAN_RECORD = TokenRecord(
    FAN, 123456789, "192.168.1.20", "64:90:C1:00:00:01", "zhimi.fan.za4", "Living room fan"
)
PURIFIER_RECORD = TokenRecord(
    PURIFIER,
    987654321,
    "192.168.1.21",
    "5C:E5:0C:00:00:02",
    "zhimi.airpurifier.mb3",
    "Bedroom purifier",
)
GATEWAY_RECORD = TokenRecord(
    GATEWAY, 223344556, "192.168.1.22", "34:CE:00:00:00:05", "lumi.gateway.v3", "Gateway"
)


# --- normalize_token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [FAN, FAN.upper(), f"  {FAN}\n", "00112233445566778899AAbbCCddEEff"]
)
def test_normalize_token_accepts_32_hex_digits_in_any_case(text: str) -> None:
    assert normalize_token(text) == FAN


@pytest.mark.parametrize(
    "text",
    [
        FAN[:-1],
        FAN + "0",
        FAN[:-1] + "g",
        "",
        "0x" + FAN[2:],
        FAN[:16] + " " + FAN[16:],
        None,
        12345,
    ],
)
def test_normalize_token_refuses_anything_else_without_echoing_it(text: object) -> None:
    with pytest.raises(TokenError) as caught:
        normalize_token(text)  # type: ignore[arg-type]
    assert str(caught.value) == "a device token is 32 hexadecimal digits"
    assert isinstance(caught.value, ValueError)


def test_token_record_repr_hides_the_token() -> None:
    for text in (repr(FAN_RECORD), str(FAN_RECORD), f"{[FAN_RECORD]}"):
        assert FAN not in text
        assert "123456789" in text and "<hidden>" in text


# --- token files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # `miiocli cloud list --raw`: Bluetooth and Zigbee children are skipped.
        ("cloud-list-raw.json", [FAN_RECORD, PURIFIER_RECORD]),
        # the cloud's own /home/device_list answer, wrapped in result.list
        ("cloud-device-list.json", [FAN_RECORD, GATEWAY_RECORD]),
        # Xiaomi-cloud-tokens-extractor's text output
        ("token-extractor.txt", [FAN_RECORD, PURIFIER_RECORD]),
        # `miiocli cloud list` without --raw
        ("miiocli-cloud-list.txt", [FAN_RECORD, GATEWAY_RECORD]),
        # python-miio's extract_tokens (from a phone backup): no device ids
        (
            "extract-tokens.txt",
            [
                TokenRecord(
                    FAN,
                    None,
                    "192.168.1.20",
                    "64:90:C1:00:00:01",
                    "zhimi.fan.za4",
                    "Living room fan",
                ),
                TokenRecord(
                    LAMP,
                    None,
                    "192.168.1.23",
                    "28:6C:07:00:00:06",
                    "yeelink.light.color1",
                    "Kitchen: lamp",
                ),
            ],
        ),
        (
            "tokens.csv",
            [
                FAN_RECORD,
                TokenRecord(**{**PURIFIER_RECORD.__dict__, "name": "Bedroom purifier, upstairs"}),
            ],
        ),
        # semicolons, a BOM, CRLF, other column names, a row without a token
        ("tokens-semicolon.csv", [FAN_RECORD]),
    ],
)
def test_parse_token_file_reads_each_known_format(
    name: str, expected: list[TokenRecord], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert parse_token_file(DATA / name) == expected
    for secret in ALL_TOKENS:
        assert secret not in caplog.text


def _bad(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(TokenFileError) as caught:
        parse_token_file(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: ")
    for secret in (*ALL_TOKENS, BAD):
        assert secret not in message
    return message


BAD = "00112233445566778899aabbccddeefg"


def test_bad_token_in_cloud_json_names_the_entry(tmp_path: Path) -> None:
    content = f'[{{"did": "1", "token": "{FAN}"}}, {{"did": "2", "token": "{BAD}", "localip": "10.0.0.2"}}]'
    assert _bad(tmp_path, "cloud.json", content) == "cloud.json: entry 2 has a bad token"


def test_bad_token_in_extractor_text_names_the_line(tmp_path: Path) -> None:
    content = (
        "   ---------\n   NAME:  Fan\n   ID:    1\n   TOKEN: " + FAN + "\n   ---------\n"
        "   NAME:  Lamp\n   ID:    2\n   TOKEN: " + BAD + "\n   MODEL: yeelink.light.color1\n"
    )
    assert _bad(tmp_path, "extractor.txt", content) == "extractor.txt: line 8 has a bad token"


def test_bad_token_in_csv_names_the_line(tmp_path: Path) -> None:
    content = f"name,token,did\nFan,{FAN},1\nLamp,{BAD},2\n"
    assert _bad(tmp_path, "tokens.csv", content) == "tokens.csv: line 3 has a bad token"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", "Remember to buy milk.\nAnd eggs.\n", "not a token list"),
        ("broken.json", '[{"did": "1", "token": \n', "not valid JSON (line 2)"),
        ("object.json", '{"code": 0, "message": "ok"}', "JSON holds no device list"),
        ("strings.json", f'["{FAN}"]', "entry 1 is not an object"),
        ("empty.json", '{"result": {"list": []}}', "no device tokens found"),
        (
            "only-ble.json",
            '[{"did": "blt.3.abc", "token": "0123456789abcdef01234567"}]',
            "no device tokens found",
        ),
        ("header-only.csv", "name,ip,token\n", "no device tokens found"),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "not a text file"),
        ("latin1.txt", "TOKEN: caf\xe9".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_unreadable_token_files_fail_in_one_line(
    tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    assert reason in _bad(tmp_path, name, content)


def test_missing_token_file(tmp_path: Path) -> None:
    with pytest.raises(
        TokenFileError, match=r"^gone\.json: cannot read it \(No such file or directory\)$"
    ):
        parse_token_file(tmp_path / "gone.json")


def test_duplicate_devices_are_listed_once(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    entries = [f'{{"did": "7", "token": "{FAN}", "locale": "{locale}"}}' for locale in ("de", "cn")]
    path.write_text(f"[{', '.join(entries)}]")
    assert parse_token_file(path) == [TokenRecord(FAN, 7)]


def test_a_device_id_no_miio_device_can_have_is_left_out_of_the_record(tmp_path: Path) -> None:
    # a miIO id is 32 bits; a bigger number (a cloud record of something else) would
    # otherwise reach the database and the API's cursors as a device id
    path = tmp_path / "ids.json"
    entries = [
        {"did": did, "token": FAN, "ip": "127.0.0.7"} for did in ("4294967295", "4294967296")
    ]
    path.write_text(json.dumps(entries))
    assert [r.did for r in parse_token_file(path)] == [4294967295, None]


def test_tokens_module_does_not_import_python_miio() -> None:
    code = "import sys, devices.tokens; print('miio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- the vault ---------------------------------------------------------------------------


def test_vault_round_trip_and_ciphertext_hides_the_token(tmp_path: Path) -> None:
    vault = TokenVault(tmp_path / "instance")
    ciphertext = vault.encrypt(FAN.upper())
    assert FAN not in ciphertext.lower()
    assert vault.decrypt(ciphertext) == FAN
    assert TokenVault(tmp_path / "instance").decrypt(ciphertext) == FAN  # the key is kept
    assert "instance" in repr(vault)


def test_vault_key_file_is_created_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        TokenVault(tmp_path)
    finally:
        os.umask(old)
    key = tmp_path / "token.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["token.key"]  # no temporary file left


def test_vault_fixes_a_key_file_others_can_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ciphertext = TokenVault(tmp_path).encrypt(FAN)
    key = tmp_path / "token.key"
    key.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="devices.tokens"):
        vault = TokenVault(tmp_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "readable by others" in caplog.text
    assert key.read_text().strip() not in caplog.text
    assert vault.decrypt(ciphertext) == FAN


def test_a_vault_with_another_key_fails_cleanly(tmp_path: Path) -> None:
    ciphertext = TokenVault(tmp_path / "a").encrypt(FAN)
    other = TokenVault(tmp_path / "b")
    for bad in (ciphertext, "garbage", "", ciphertext[:-4], "ünïcode"):
        with pytest.raises(TokenError) as caught:
            other.decrypt(bad)
        assert str(caught.value) == "cannot decrypt the stored token: another key or damaged data"
        assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_vault_refuses_to_encrypt_a_bad_token(tmp_path: Path) -> None:
    with pytest.raises(TokenError):
        TokenVault(tmp_path).encrypt(BAD)


def test_vault_with_a_damaged_key_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "token.key").write_text("not a fernet key")
    (tmp_path / "token.key").chmod(0o600)
    with pytest.raises(TokenError, match="does not hold a valid token key"):
        TokenVault(tmp_path)


def test_vaults_created_at_once_agree_on_one_key(tmp_path: Path) -> None:
    instance = tmp_path / "race"
    vaults: list[TokenVault] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        vaults.append(TokenVault(instance))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ciphertext = vaults[0].encrypt(FAN)
    assert all(vault.decrypt(ciphertext) == FAN for vault in vaults)
