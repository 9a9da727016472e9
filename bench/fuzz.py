"""Benchmark: fuzz the miIO packet parsers with random and mutated datagrams; only PacketError may escape.

Two runs, each feeding every input to both devices.protocol.parse_hello and parse_reply (with
the token the valid packets were signed with):

1. Random mutation, --inputs datagrams (200,000 by default), with the generators of
   tests/devices/test_protocol.py: valid hellos and signed replies, then bit flips, truncation,
   extension, random length fields, re-signed damaged bodies, random bytes behind a valid
   magic, random plaintext properly encrypted, pure noise. One input in ten is an unmutated
   valid packet, so the happy path is timed too.
2. Coverage-guided, --atheris-runs inputs (100,000 by default) with atheris (libFuzzer) in a
   child process, seeded with the same valid packets. devices.protocol, python-miio's
   protocol module and construct give it coverage feedback, and half of the mutated inputs
   are re-signed with the token (length field and checksum fixed), so the fuzzer gets past
   the checksum into decryption and JSON decoding.

Any other exception, or a PacketError whose message has a line break or shows the token,
is a failure: it is reported and the exit status is 1.

Prints one JSON object. Usage: python bench/fuzz.py [--inputs 200000] [--atheris-runs 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.protocol import PacketError

TESTS = Path(__file__).resolve().parent.parent / "tests" / "devices"
TOKEN = "00112233445566778899aabbccddeeff"  # the token tests/devices/test_protocol.py signs with
TARGET_INPUTS = 100_000
# coverage feedback for the fuzzer: our parsers and the python-miio code they call
INSTRUMENTED = ("devices.protocol", "devices.tokens", "miio.protocol", "construct")


def generators() -> tuple[Any, Any]:
    """Return (valid_packets, mutate) from tests/devices/test_protocol.py."""
    sys.path.insert(0, str(TESTS))
    import test_protocol

    assert test_protocol.TOKEN == TOKEN
    return test_protocol._valid_packets, test_protocol._mutate


def check_message(exc: PacketError) -> None:
    """Raise AssertionError when a parser's error message could break a log line or leak."""
    message = str(exc)
    if "\n" in message or TOKEN in message.lower():
        raise AssertionError(f"bad PacketError message {message!r}")


def random_run(inputs: int, seed: int) -> dict[str, Any]:
    """Feed *inputs* generated datagrams to both parsers; count outcomes and failures."""
    from devices.protocol import PacketError, TokenMismatch, parse_hello, parse_reply

    valid_packets, mutate = generators()
    rng = random.Random(seed)
    bases = valid_packets(rng)
    outcomes: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    start = time.perf_counter()
    for i in range(inputs):
        packet = mutate(rng, rng.choice(bases)) if i % 10 else rng.choice(bases)
        for name in ("hello", "reply"):
            try:
                if name == "hello":
                    parse_hello(packet)
                else:
                    parse_reply(packet, TOKEN)
                outcomes[f"{name}: parsed"] += 1
            except TokenMismatch as exc:
                outcomes[f"{name}: token mismatch"] += 1
                check_or_record(exc, name, packet, failures)
            except PacketError as exc:
                outcomes[f"{name}: packet error"] += 1
                check_or_record(exc, name, packet, failures)
            except Exception as exc:
                failures.append(
                    {"parser": name, "error": f"{type(exc).__name__}: {exc}", "hex": packet.hex()}
                )
    seconds = time.perf_counter() - start
    return {
        "inputs": inputs,
        "seconds": round(seconds, 2),
        "inputs_per_second": round(inputs / seconds),
        "outcomes": dict(sorted(outcomes.items())),
        "seed": seed,
        "failures": failures[:20],
        "failure_count": len(failures),
    }


def check_or_record(
    exc: PacketError, name: str, packet: bytes, failures: list[dict[str, Any]]
) -> None:
    try:
        check_message(exc)
    except AssertionError as bad:
        failures.append({"parser": name, "error": str(bad), "hex": packet.hex()})


# -- coverage-guided (atheris) ----------------------------------------------------------


def resign(data: bytes) -> bytes:
    """Fix the length field and the checksum of *data* as a device holding TOKEN would."""
    if len(data) < 32:
        return data
    header = bytearray(data[:16])
    header[2:4] = min(len(data), 0xFFFF).to_bytes(2, "big")
    body = data[32:]
    digest = hashlib.md5(bytes(header) + bytes.fromhex(TOKEN) + body).digest()
    return bytes(header) + digest + body


def atheris_child(runs: int, seed: int, corpus: str, artifacts: str) -> None:
    """Child process: run atheris for *runs* inputs; libFuzzer exits the process at the end."""
    import atheris

    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        import devices.protocol as protocol
        import devices.tokens  # noqa: F401  (parse_reply imports it lazily: instrument it too)

    def one_input(data: bytes) -> None:
        for parse in (protocol.parse_hello, lambda d: protocol.parse_reply(d, TOKEN)):
            try:
                parse(data)
            except protocol.PacketError as exc:
                check_message(exc)

    def mutator(data: bytes, max_size: int, mutation_seed: int) -> bytes:
        mutated = atheris.Mutate(data, max_size)
        return resign(mutated) if mutation_seed % 2 else mutated

    print(json.dumps({"started": time.time()}), flush=True)
    atheris.Setup(
        [
            sys.argv[0],
            f"-runs={runs}",
            f"-seed={seed}",
            "-max_len=2048",
            f"-artifact_prefix={artifacts}/",
            "-print_final_stats=1",
            corpus,
        ],
        one_input,
        custom_mutator=mutator,
    )
    atheris.Fuzz()


def atheris_run(runs: int, seed: int) -> dict[str, Any]:
    """Run the coverage-guided fuzzer in a child process and read its figures."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        return {"skipped": "atheris is not installed (pip install -e '.[test]')"}
    with tempfile.TemporaryDirectory(prefix="edu-fuzz-") as tmp:
        corpus = Path(tmp) / "corpus"
        artifacts = Path(tmp) / "artifacts"
        corpus.mkdir()
        artifacts.mkdir()
        valid_packets, _ = generators()
        for n, packet in enumerate(valid_packets(random.Random(seed))):
            (corpus / f"seed-{n}").write_bytes(packet)
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--atheris-child",
                str(runs),
                str(seed),
                str(corpus),
                str(artifacts),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        ended = time.time()
        crashes = sorted(p.name for p in artifacts.iterdir())
    started = json.loads(child.stdout.splitlines()[0])["started"] if child.stdout else ended
    log = child.stderr
    done = re.search(r"Done (\d+) runs", log)
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", log)
    executed = int(done.group(1)) if done else 0
    seconds = ended - started
    result: dict[str, Any] = {
        "engine": "atheris (libFuzzer); half the inputs re-signed",
        "instrumented": list(INSTRUMENTED),
        "inputs": executed,
        "seconds": round(seconds, 2),
        "inputs_per_second": round(executed / seconds) if seconds > 0 else None,
        "coverage_edges": int(cov[-1][0]) if cov else None,
        "corpus_entries": int(cov[-1][2]) if cov else None,
        "seed": seed,
        "exit_status": child.returncode,
        "crashes": crashes,
    }
    if child.returncode != 0 or crashes or executed < runs:
        result["log_tail"] = log[-3000:]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=200_000, help="random-mutation inputs")
    parser.add_argument("--atheris-runs", type=int, default=100_000, help="atheris inputs")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--atheris-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("miio").setLevel(logging.CRITICAL)  # it logs every undecodable payload
    if args.atheris_child:
        runs, seed, corpus, artifacts = args.atheris_child
        atheris_child(int(runs), int(seed), corpus, artifacts)
        return
    mutation = random_run(args.inputs, args.seed)
    guided = atheris_run(args.atheris_runs, args.seed) if args.atheris_runs > 0 else {}
    guided_ok = (
        "skipped" in guided or not guided or (guided["exit_status"] == 0 and not guided["crashes"])
    )
    ok = mutation["failure_count"] == 0 and guided_ok
    total = mutation["inputs"] + int(guided.get("inputs") or 0)
    print(
        json.dumps(
            {
                "benchmark": "fuzz",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0)),
                    "platform": platform.platform(),
                },
                "inputs": total,
                "random_mutation": mutation,
                "atheris": guided,
                "only_packet_error_escaped": ok,
                "targets": {"inputs_min": TARGET_INPUTS},
            },
            indent=2,
        )
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
