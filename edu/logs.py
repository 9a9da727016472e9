"""Logging: one redaction for every record (device tokens, keys, PINs, API tokens, URL passwords),
and the instance's own log file, one line per event, rotated by size."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MASK = "****"
LOG_FILE = "edu.log"
LOG_BYTES = 1_000_000  # a file is rotated past this size ...
LOG_BACKUPS = 5  # ... and this many old ones are kept: at most 6 MB of logs


def _bytes_repr(match: re.Match[str]) -> str:
    text = match.group(0)
    # A bytes literal with 8 or more escaped bytes looks like binary (a token as bytes): mask it.
    return MASK if text.count("\\x") >= 8 else text


# Each pattern's first group (if any) is kept, the rest is masked.
_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # A miIO token is 32 hex digits; a longer hex run (a hex dump, a hex secret key) may hold one.
    (re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])"), MASK),
    # The same 16 bytes as Python prints them: b'\x12...'.
    (re.compile(r"""(?<![A-Za-z0-9_])b(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")"""), _bytes_repr),
    # A person's API token.
    (re.compile(r"\bfc_[A-Za-z0-9_\-]{8,}"), "fc_" + MASK),
    # A hub moderator's token.
    (re.compile(r"\bhubm_[A-Za-z0-9_\-]{8,}"), "hubm_" + MASK),
    # A Fernet key (the instance key): 32 bytes as 43 URL-safe base64 characters and "=".
    (re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}="), MASK),
    # The password in a URL (an Apprise URL, a database URL): scheme://user:password@host.
    (re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:)[^\s/@]+@"), r"\1" + MASK + "@"),
    # A named secret: pin=1234, "token": "...", secret_key='...', EDU_SECRET_KEY=..., password: ...
    (
        re.compile(
            r"""(\b(?:pin|pin_code|new_pin|token|api_token|secret|secret_key|edu_secret_key|"""
            r"""password|passwd|api_key|apikey|key)\b['"]?\s*[:=]\s*b?['"]?)"""
            r"""(?!\*\*\*\*)[^\s'",;&}\])]+""",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
)


def redact(text: str) -> str:
    """Return *text* with every secret-looking part masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(record: logging.LogRecord) -> None:
    """Render *record*'s message, exception and stack with secrets masked (once per record)."""
    if getattr(record, "_edu_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what was given, masked, for the handler
        message = f"{record.msg!r} % {record.args!r}"
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._edu_redacted = True  # type: ignore[attr-defined]


class RedactFilter(logging.Filter):
    """A handler filter that masks secrets in every record it passes (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (message, exception, stack) has secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        scrub(record)
        return redact(super().format(record))


def _factory_wrapping(previous: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub(record)
        return record

    make_record.edu_redacting = True  # type: ignore[attr-defined]
    return make_record


def install_redaction() -> None:
    """Mask secrets in every record of every logger at every level, from now on (idempotent).

    Every record is rendered and masked where it is made (a record factory), so no handler
    added later (a library's, pytest's) sees a secret; the root's handlers filter too.
    """
    current = logging.getLogRecordFactory()
    if not getattr(current, "edu_redacting", False):
        logging.setLogRecordFactory(_factory_wrapping(current))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log file that every new file, after each rotation too, opens as mode 0600."""

    def _open(self) -> Any:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(descriptor, "a", encoding=self.encoding, errors=self.errors)


class OneLineFormatter(RedactingFormatter):
    """A masked line per event: a traceback's lines are joined with " | "."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", " | ")


def configure(level: int, fmt: str = "%(levelname)s %(name)s: %(message)s") -> None:
    """Set up the root logger at *level*, redaction first; a new handler formats through a mask."""
    install_redaction()
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(RedactingFormatter(fmt))
        stream.addFilter(RedactFilter())
        stream.edu_stream = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    for handler in root.handlers:
        if getattr(handler, "edu_stream", False):
            handler.setLevel(level)  # the terminal shows what -v asks; the log file its own
    root.setLevel(min([level, *(h.level for h in root.handlers if _is_ours(h))]))


def _is_ours(handler: logging.Handler) -> bool:
    return isinstance(handler, RotatingFileHandler) and getattr(handler, "edu_log", False)


def log_to_file(
    folder: Path,
    level: int = logging.INFO,
    *,
    max_bytes: int = LOG_BYTES,
    backups: int = LOG_BACKUPS,
) -> Path:
    """Also log to *folder*/edu.log at *level* (once per process): a masked line per event,
    rotated past *max_bytes* with *backups* old files kept. Return the file's path."""
    install_redaction()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    for existing in root.handlers:
        if _is_ours(existing) and Path(existing.baseFilename) == path.resolve():  # type: ignore[attr-defined]
            return path
    handler = PrivateRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.edu_log = True  # type: ignore[attr-defined]
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter())
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return path
