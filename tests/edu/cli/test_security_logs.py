"""No secret in any log line: the redaction filter, `edu -vv poll` and every CLI command at -vv."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from database_mode import clone_instance
from process_helpers import free_port, get_when_up
from secret_fixtures import shows
from tips_fixtures import HttpReceiver
from web_fixtures import PINS, settings_for

from devices.fleet import Fleet
from edu.cli import main
from edu.logs import MASK, RedactingFormatter, install_redaction, redact
from edu.simulated.fleet import token_file_for

EDU = str(Path(sys.executable).parent / "edu")
TOKEN = "41447adef8391fbc15882e2c13c37477"
FERNET = "q3bV0mHn8yP5w7JX2lqkS9Zx1uQ4eTrCjLdNfGhAaBc="
API_TOKEN = "fc_Zq8vL1oP3nR5tY7uI9aS2dF4gH6jK8lX0cV2bN4m"


def test_redact_masks_every_kind_of_secret() -> None:
    text = (
        f"<RoborockVacuum: 127.0.0.10 (token: {TOKEN})> {{'token': '{TOKEN.upper()}'}} "
        f"pin=1234&x=1 {{'pin': '5678'}} key={FERNET} EDU_SECRET_KEY=s3cret-value "
        f"Authorization: Bearer {API_TOKEN} json://coach:hunter22@127.0.0.1:8080/hook "
        "raw b'\\x12\\x34\\x56\\x78\\x9a\\xbc\\xde\\xf0\\x01\\x02ab'"
    )
    masked = redact(text)
    for secret in (TOKEN, TOKEN.upper(), "1234", "5678", FERNET, "s3cret-value", API_TOKEN):
        assert secret not in masked
    assert "hunter22" not in masked and "\\x9a" not in masked
    assert "json://coach:****@127.0.0.1:8080/hook" in masked  # where it went still shows
    assert "127.0.0.10" in masked and redact("token_known: True") == "token_known: True"


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
def test_any_loggers_record_with_args_and_an_exception_is_masked_for_any_handler(
    level: int,
) -> None:
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a library's own handler: no filter of ours
    handler.setFormatter(logging.Formatter("%(message)s"))
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    library.propagate, library.level = False, logging.DEBUG
    try:
        try:
            raise ValueError(f"bad token {TOKEN}")
        except ValueError:
            library.log(level, "reply %s pin %s", {"token": TOKEN}, {"pin": "4321"}, exc_info=True)
    finally:
        library.removeHandler(handler)
        library.propagate, library.level = True, logging.NOTSET
    written = stream.getvalue()
    assert "reply" in written and "ValueError: bad token" in written
    assert TOKEN not in written and "4321" not in written and MASK in written


def test_the_redacting_formatter_masks_a_record_made_before_redaction() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", (TOKEN,), None)
    assert TOKEN not in RedactingFormatter("%(message)s").format(record)


def _tokens_in(text: str, fleet: Fleet) -> list[str]:
    return [d.name for d in fleet.devices if d.token in text or d.token.upper() in text]


def _env(instance: Path, fleet: Fleet) -> dict[str, str]:
    settings = settings_for(instance, (fleet.network,))
    return {
        **os.environ,
        "EDU_INSTANCE": str(instance),
        "EDU_DATABASE_URL": settings.database_url,
        "EDU_DEVICE_TIMEOUT": "0.5",
        "EDU_DISCOVERY_TIMEOUT": "0.8",
        "EDU_NETWORKS": fleet.network,
    }


def test_edu_vv_poll_prints_no_fleet_token(
    fleet: Fleet, scanned_instance: Path, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    clone_instance(scanned_instance, instance)
    done = subprocess.run(
        [EDU, "-vv", "poll"],
        env=_env(instance, fleet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "DEBUG miio.miioprotocol" in done.stderr  # python-miio's own debug lines are there
    assert _tokens_in(done.stdout + done.stderr, fleet) == []


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[str]:
    names: set[str] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names |= _leaf_commands(command, (*prefix, name))
        else:
            names.add(" ".join((*prefix, name)))
    return names


# Commands that run until stopped: started as a process, read, then stopped (the next test).
# `edu simulate` prints its simulated fleet's tokens on purpose (they are what `edu add` needs).
FOREGROUND = {"serve", "worker", "simulate", "hub serve"}
HEX_RUN = re.compile(r"[0-9a-fA-F]{32}")


def test_every_cli_command_at_debug_level_prints_no_fleet_token(
    fleet: Fleet,
    scanned_instance: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    http_receiver: HttpReceiver,
) -> None:
    caplog.set_level(logging.DEBUG)
    instance = tmp_path / "instance"
    clone_instance(scanned_instance, instance)
    env = _env(instance, fleet)
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(token_file_for(fleet)))
    fan = fleet.devices[0]
    hook = http_receiver.url().replace("json://", "json://coach:hunter22@")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["-vv", *args], env=env, catch_exceptions=False)
        assert result.exit_code in (0, 1), (args, result.output[-500:])
        return result.output

    lesson = json.loads(run("recommend", "--person", "Leo", "--json"))[0]["lesson"]
    runs: dict[str, list[tuple[str, ...]]] = {
        "init": [()],
        "discover": [("--network", fleet.network, "--timeout", "0.8")],
        "scan": [("--network", fleet.network, "--timeout", "0.8")],
        "add": [("--ip", fan.ip, "--token", fan.token)],
        "tokens import": [(str(tokens),)],
        "poll": [(), ("--json",)],
        "recommend": [("--person", "Leo")],
        "people add": [("Zoe", "--pin", "8642")],
        "people list": [()],
        "lessons coverage": [()],
        "lessons list": [()],
        "lessons lint": [("lessons",)],
        "lessons done": [("--person", "Leo", "--lesson", lesson)],
        "lessons dismiss": [("--person", "Leo", "--lesson", lesson)],
        "lessons snooze": [("--person", "Leo", "--lesson", lesson)],
        "lessons check": [("--model", "zhimi.fan.*"), ("--live", "--json")],
        "lessons try": [("fan-child-lock", "--device", str(fan.did), "--no-wait")],
        "models": [("--family", "fan")],
        "backup": [("--json",)],
        "restore": [(str(tmp_path / "not-a-backup.tar.gz"),)],
        "community status": [()],
        "community preview": [("--json",)],
        "community join": [("--hub", "http://127.0.0.1:9/")],  # nothing listens: one line
        "community send": [()],
        "community leave": [()],
        "hub moderator": [("Zed",)],
        "hub refresh": [(), ("--json",)],
        "tips channel add": [(hook, "--person", "Leo")],
        "tips channel list": [("--person", "Leo")],
        "tips channel test": [("1", "--person", "Leo")],
        "tips channel remove": [("1", "--person", "Leo")],
        "tips inbox": [("--person", "Leo")],
        "tips policy": [("--person", "Leo")],
        "tips preview": [("--person", "Leo")],
        "tips run": [()],
    }
    assert set(runs) | FOREGROUND | {"demo"} == _leaf_commands(main), (
        "give each new command a run here"
    )
    outputs = [run(*name.split(), *args) for name, variants in runs.items() for args in variants]
    demo = ("--instance", str(tmp_path / "demo"), "demo", "--no-serve", "--base", "127.0.0.10")
    outputs.append(run(*demo))
    haystack = "\n".join(outputs) + caplog.text
    assert "miio.miioprotocol" in caplog.text  # python-miio's debug lines were there to mask
    assert _tokens_in(haystack, fleet) == [] and HEX_RUN.search(haystack) is None
    assert "hunter22" not in haystack
    # nor in any file the commands left in the instance (the database holds them encrypted)
    stored = b"".join(p.read_bytes() for p in instance.rglob("*") if p.is_file())
    for device in fleet.devices:
        assert device.token.encode() not in stored and bytes.fromhex(device.token) not in stored
    assert not any(shows(pin, haystack) for pin in (*PINS.values(), "8642"))  # Zoe's too


def _foreground(args: list[str], env: dict[str, str], ready: str, port: int | None) -> str:
    process = subprocess.Popen(
        [EDU, "-vv", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    try:
        for line in process.stdout:
            seen.append(line)
            if ready in line:
                break
            assert time.monotonic() < deadline, "".join(seen)[-2000:]
        if port is not None:
            for path in ("/", "/devices", "/api/v1/devices"):
                get_when_up(port, path, time.monotonic() + 30)
    finally:
        process.send_signal(signal.SIGINT if port is not None else signal.SIGTERM)
        try:
            rest, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
    return "".join(seen) + rest


def test_long_running_commands_at_debug_level_print_no_fleet_token(
    fleet: Fleet, scanned_instance: Path, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    clone_instance(scanned_instance, instance)
    env = _env(instance, fleet)
    port = free_port()
    output = _foreground(["serve", "--port", str(port)], env, "Ctrl-C", port)
    output += _foreground(["worker", "--poll-interval", "0.5"], env, "miio", None)
    assert "miio" in output
    assert _tokens_in(output, fleet) == [] and HEX_RUN.search(output) is None
    # both kept their own log in the instance, masked too
    logged = "".join(p.read_text() for p in (instance / "logs").glob("edu.log*"))
    assert "worker" in logged
    assert _tokens_in(logged, fleet) == [] and HEX_RUN.search(logged) is None
