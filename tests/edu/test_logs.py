"""The instance's log file: a masked line per event, rotated by size, readable by its owner only."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from edu.logs import LOG_FILE, log_to_file

TOKEN = "0123456789abcdef0123456789abcdef"
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")


@pytest.fixture
def root_handlers() -> Iterator[None]:
    """Put the root logger's handlers and level back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.mark.usefixtures("root_handlers")
def test_the_log_file_holds_a_masked_line_per_event_and_rotates_by_size(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    path = log_to_file(folder, max_bytes=4000, backups=3)
    assert log_to_file(folder, max_bytes=4000, backups=3) == path  # once per process
    log = logging.getLogger("edu.test")
    for n in range(200):
        log.info("device %d answered with token %s", n, TOKEN)
    try:
        raise RuntimeError(f"token {TOKEN} refused")
    except RuntimeError:
        log.exception("a poll failed")
    logging.getLogger("edu.test.quiet").debug("below the file's level")
    files = sorted(folder.glob(LOG_FILE + "*"))
    assert [f.name for f in files] == ["edu.log", "edu.log.1", "edu.log.2", "edu.log.3"]
    lines = [line for f in files for line in f.read_text().splitlines()]
    assert all(LINE.match(line) for line in lines), [x for x in lines if not LINE.match(x)][:3]
    assert all(len(f.read_bytes()) <= 4000 + 300 for f in files)
    assert TOKEN not in "\n".join(lines)
    failed = [line for line in lines if "a poll failed" in line]
    assert len(failed) == 1 and "Traceback" in failed[0] and "RuntimeError" in failed[0]
    assert not any("below the file's level" in line for line in lines)
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    assert folder.stat().st_mode & 0o777 == 0o700
