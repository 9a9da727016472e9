"""Bad input to the CLI gets a one-line error and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cli_fixtures import one_line_error
from click.testing import CliRunner

from edu.cli import main


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["--instance", str(tmp_path / "instance"), *args])

    return invoke


@pytest.mark.parametrize("cidr", ["not-a-network", "127.0.0.0/33", "300.1.1.0/24", "127.0.0.0/8"])
def test_discover_rejects_a_bad_network(run, cidr: str) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("discover", "--network", cidr, "--json"))
    assert line.startswith("error: ")


def test_scan_without_anything_to_search_says_so(run) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("scan", "--json"))
    assert "nothing to search" in line


@pytest.mark.parametrize("token", ["123", "zz" * 16, "0" * 31, "0" * 33])
def test_add_rejects_a_bad_token_without_echoing_it(run, token: str) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("add", "--ip", "127.0.0.1", "--token", token))
    assert "32 hexadecimal digits" in line
    assert token not in line


def test_add_rejects_a_bad_ip(run) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("add", "--ip", "not-an-ip", "--token", "0" * 32))
    assert line.startswith("error: ")


def test_tokens_import_rejects_a_file_that_is_not_a_token_list(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "notes.txt"
    bogus.write_text("shopping list: milk, eggs\n")
    line = one_line_error(run("tokens", "import", str(bogus)))
    assert "notes.txt" in line


def test_tokens_import_of_a_missing_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("tokens", "import", str(tmp_path / "nope.json")))
    assert "nope.json" in line


def test_simulate_refuses_addresses_outside_loopback(run) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("simulate", "--base", "192.168.1.10"))
    assert "127.0.0.0/8" in line


def test_init_rejects_an_unknown_time_zone(run) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("init", "--timezone", "Mars/Olympus"))
    assert "time zone" in line


def test_init_creates_the_household(run) -> None:  # type: ignore[no-untyped-def]
    result = run("init", "--name", "Flat 3", "--timezone", "Europe/Berlin", "--json")
    assert result.exit_code == 0, result.output
    assert '"household": "Flat 3"' in result.output


@pytest.mark.default_database  # the URLs below are the test: no database of its own
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres@127.0.0.1:5432/edu_no_such_database", "does not exist"),
        ("nosuchdb://somewhere/x", "Can't load plugin"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line(run, url: str, says: str) -> None:  # type: ignore[no-untyped-def]
    line = one_line_error(run("--database-url", url, "people", "list"))
    assert line.startswith("error: cannot open the database: ") and says in line


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_serve_with_a_database_it_cannot_reach_says_so_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql+psycopg://nobody:hunter22@127.0.0.1:{port}/x"
    result = CliRunner().invoke(
        main,
        ["--instance", str(tmp_path / "instance"), "--database-url", url, *command]
        + (["--port", str(port)] if command == ["serve"] else []),
    )
    line = one_line_error(result)
    assert line.startswith("error: cannot open the database:") and "refused" in line
    assert "hunter22" not in line
