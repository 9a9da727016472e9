"""Links in tips: the lesson page, and a signed one-click unsubscribe link that needs no sign-in."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from edu.config import Settings

logger = logging.getLogger(__name__)

SECRET_FILE = "tips.secret"  # noqa: S105  (a file name, not a secret)
_SALT = "edu.tips.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    """What an unsubscribe token names: a person, and one of their channels (None: all tips)."""

    person_id: int
    channel_id: int | None


def base_url(settings: Settings) -> str:
    """Return the public base URL of the web page, without a trailing slash."""
    return (settings.base_url or f"http://{settings.bind}").rstrip("/")


def lesson_link(settings: Settings, lesson_id: str) -> str:
    """Return the address of a lesson's page."""
    return f"{base_url(settings)}/lessons/{quote(lesson_id, safe='')}"


def instance_secret(settings: Settings) -> str:
    """Return EDU_SECRET_KEY, or a random secret kept in the instance folder (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.ensure_instance() / SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    _create_secret(path)
    return path.read_text(encoding="ascii").strip()


def _create_secret(path: Path) -> None:
    from devices.vault import create_private_file

    if create_private_file(path, secrets.token_urlsafe(48).encode("ascii")):
        logger.info("created the link secret %s", path)


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(instance_secret(settings), salt=_SALT)


def unsubscribe_token(settings: Settings, person_id: int, channel_id: int | None = None) -> str:
    """Return a signed token that unsubscribes a person (from one channel, or from all tips)."""
    return str(_serializer(settings).dumps([person_id, channel_id or 0]))


def read_unsubscribe_token(settings: Settings, token: str) -> Unsubscribe:
    """Return what a token unsubscribes; raise ValueError when it is forged or damaged."""
    try:
        data = _serializer(settings).loads(token)
        person_id, channel_id = int(data[0]), int(data[1])
    except (BadSignature, TypeError, ValueError, IndexError, KeyError):
        raise ValueError("this unsubscribe link is not valid") from None
    return Unsubscribe(person_id, channel_id or None)


def unsubscribe_link(settings: Settings, person_id: int, channel_id: int | None = None) -> str:
    """Return the one-click unsubscribe address for a person (and channel)."""
    token = unsubscribe_token(settings, person_id, channel_id)
    return f"{base_url(settings)}/tips/unsubscribe?token={token}"


class LinkMaker:
    """Build many links with one serializer (the tip run makes one per tip)."""

    def __init__(self, settings: Settings) -> None:
        self.base = base_url(settings)
        self._serializer = _serializer(settings)

    def lesson(self, lesson_id: str) -> str:
        """Return the address of a lesson's page."""
        return f"{self.base}/lessons/{quote(lesson_id, safe='')}"

    def unsubscribe(self, person_id: int, channel_id: int | None = None) -> str:
        """Return the one-click unsubscribe address for a person (and channel)."""
        token = self._serializer.dumps([person_id, channel_id or 0])
        return f"{self.base}/tips/unsubscribe?token={token}"
