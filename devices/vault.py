"""Device tokens kept encrypted at rest: a Fernet key in the instance (mode 0600), and private files."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from devices.tokens import KEY_FILE, TokenError, normalize_token

logger = logging.getLogger(__name__)


def create_private_file(path: Path, content: bytes) -> bool:
    """Create *path* (mode 0600) holding *content*, unless it exists; return True if created.

    The content goes to a private temporary file first and is then linked into place: the
    link fails if another process won the race, and nobody ever reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


class TokenVault:
    """Encrypt tokens at rest with a Fernet key kept in ``<instance>/token.key`` (mode 0600)."""

    def __init__(self, instance: str | os.PathLike[str]) -> None:
        from cryptography.fernet import Fernet

        self.key_path = Path(instance) / KEY_FILE
        try:
            self._fernet = Fernet(self._load_or_create_key())
        except ValueError:
            raise TokenError(f"{self.key_path} does not hold a valid token key") from None

    def __repr__(self) -> str:
        return f"TokenVault({str(self.key_path)!r})"

    def _load_or_create_key(self) -> bytes:
        path = self.key_path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._read_key()
        except FileNotFoundError:
            pass
        from cryptography.fernet import Fernet

        if create_private_file(path, Fernet.generate_key()):
            logger.info("created token key %s", path)
        return self._read_key()

    def _read_key(self) -> bytes:
        descriptor = os.open(self.key_path, os.O_RDONLY)
        with os.fdopen(descriptor, "rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            if mode & 0o077:
                logger.warning(
                    "token key %s was readable by others (mode %o); setting it to 0600",
                    self.key_path,
                    mode,
                )
                os.fchmod(handle.fileno(), 0o600)
            return handle.read().strip()

    def encrypt(self, token: str) -> str:
        """Return *token* encrypted for storage."""
        return self._fernet.encrypt(normalize_token(token).encode("ascii")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Return the token inside *ciphertext*; raise TokenError when it cannot be read."""
        from cryptography.fernet import InvalidToken

        try:
            plain = self._fernet.decrypt(ciphertext.encode("ascii"))
            return normalize_token(plain.decode("ascii"))
        except (InvalidToken, TokenError, UnicodeError, AttributeError, TypeError):
            raise TokenError(
                "cannot decrypt the stored token: another key or damaged data"
            ) from None
