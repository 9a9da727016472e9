"""What CLI tests share: a command that failed said so in one line, without a traceback."""

from __future__ import annotations

from click.testing import Result


def one_line_error(result: Result) -> str:
    """Return the one line a failed command printed (it starts with "error: ")."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]
