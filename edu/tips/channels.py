"""Tip channels: Apprise URLs (ntfy, Gotify, email, MQTT, JSON webhooks ...), kept encrypted.

The in-app inbox is not a channel here: it is written in the same transaction as the
ledger (see `edu.tips.run`). Everything else goes through Apprise, so no service is written
by hand. Apprise's email plugin takes extra headers, which is how tips carry
``List-Unsubscribe`` and ``List-Unsubscribe-Post``; plugins that take headers (email, JSON,
XML, form webhooks) also get an ``Idempotency-Key`` so a receiver can drop the copy that a
crash between sending and recording may cause.

A channel URL can hold a password or an API token: it is encrypted at rest, never logged,
and only shown masked (Apprise's privacy form).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from edu.config import Settings

logger = logging.getLogger(__name__)

KEY_FILE = "channels.key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_FRAMES = {
    "en": ("Tip: {title}", "Open the lesson: {link}", "Stop these tips: {unsubscribe}"),
    "zh-CN": ("小贴士：{title}", "打开课程：{link}", "不再接收：{unsubscribe}"),
}


class ChannelError(ValueError):
    """A channel URL that Apprise cannot use (or that the person already has)."""


@dataclass(frozen=True)
class TipMessage:
    """What a tip says on every channel."""

    title: str
    summary: str
    link: str
    unsubscribe: str
    idempotency_key: str
    lang: str = "en"

    def subject(self) -> str:
        """Return the title line (the email subject)."""
        return _FRAMES.get(self.lang, _FRAMES["en"])[0].format(title=self.title)

    def body(self) -> str:
        """Return the plain-text body: the summary, the lesson link and the unsubscribe link."""
        frame = _FRAMES.get(self.lang, _FRAMES["en"])
        paragraphs = [self.summary]
        if self.link:
            paragraphs.append(frame[1].format(link=self.link))
        if self.unsubscribe:
            paragraphs.append(frame[2].format(unsubscribe=self.unsubscribe))
        return "\n\n".join(paragraphs)


@dataclass(frozen=True)
class SendResult:
    """Whether a channel accepted a message, and a short error (never holding a secret)."""

    ok: bool
    error: str = ""


# -- storing channel URLs --------------------------------------------------------------------


def _read_or_create_key(path: Path) -> bytes:
    from cryptography.fernet import Fernet

    from devices.vault import create_private_file

    if create_private_file(path, Fernet.generate_key()):
        logger.info("created the channel key %s", path)
    return path.read_bytes().strip()


class ChannelVault:
    """Encrypt channel URLs with a Fernet key kept in ``<instance>/channels.key`` (mode 0600)."""

    def __init__(self, settings: Settings) -> None:
        from cryptography.fernet import Fernet

        key = _read_or_create_key(settings.ensure_instance() / KEY_FILE)
        self._fernet = Fernet(key)
        self._mac_key = hashlib.sha256(b"edu.tips.channel-fingerprint" + key).digest()

    def __repr__(self) -> str:
        return "ChannelVault()"

    def encrypt(self, url: str) -> str:
        """Return *url* encrypted for storage."""
        return self._fernet.encrypt(url.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Return the URL inside *ciphertext*; raise ChannelError when it cannot be read."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise ChannelError(
                "cannot decrypt a stored channel: another key or damaged data"
            ) from None

    def fingerprint(self, url: str) -> str:
        """Return a keyed hash of *url*, to spot the same URL added twice."""
        digest = hmac.new(self._mac_key, url.strip().encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


# -- Apprise ---------------------------------------------------------------------------------


def _plugin(url: str) -> Any:
    import apprise

    with redacting(url):
        plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None or isinstance(plugin, bool):
        raise ChannelError(f"Apprise cannot use this URL ({scheme_of(url)}://...): check its form")
    return plugin


def scheme_of(url: str) -> str:
    """Return the scheme of *url* (safe to show), or '?'."""
    head, sep, _ = url.strip().partition("://")
    return head.lower() if sep and head.isascii() and head.replace("+", "").isalnum() else "?"


def describe(url: str) -> tuple[str, str]:
    """Check *url* with Apprise and return (masked label, service name)."""
    if not url.strip():
        raise ChannelError("a channel needs an Apprise URL, like ntfy://ntfy.sh/my-topic")
    plugin = _plugin(url)
    # Apprise's privacy form hides what each service deems secret; webhook paths often hold
    # a token too, so long path segments are shortened as well. No query: only defaults.
    label = str(plugin.url(privacy=True)).split("?", 1)[0]
    scheme, _, rest = label.partition("://")
    host, _, path = rest.partition("/")
    masked = "/".join(_mask(unquote(segment)) for segment in path.split("/"))
    return f"{scheme}://{host}" + (f"/{masked}" if path else ""), str(
        getattr(plugin, "service_name", scheme)
    )


def _mask(segment: str) -> str:
    if len(segment) <= 5 or "@" in segment or "..." in segment:
        return segment
    return f"{segment[0]}...{segment[-1]}"


def secret_parts(url: str) -> list[str]:
    """Return the parts of *url* that may be secret: password, tokens in host, path and query."""
    import ipaddress

    parts = urlsplit(url.strip())
    pieces: list[str] = []
    userinfo, _, hostport = parts.netloc.rpartition("@")
    for piece in (*userinfo.split(":"), *hostport.split(":")):
        piece = unquote(piece)
        try:
            ipaddress.ip_address(piece.strip("[]"))
            continue
        except ValueError:
            pass
        # A host name has dots and a port is short; anything else (a bot token) may be secret.
        if piece and not piece.isdigit() and "." not in piece:
            pieces.append(piece)
    if parts.password:
        pieces.append(unquote(parts.password))
    pieces.extend(unquote(p) for p in parts.path.split("/") if len(p) >= 6)
    pieces.extend(v for _, v in parse_qsl(parts.query) if len(v) >= 6)
    return sorted({p for p in pieces if len(p) >= 3}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """Return *text* with every secret-looking part of *url* masked."""
    for piece in secret_parts(url):
        text = text.replace(piece, "****")
    return text


_secrets = threading.local()
_LIBRARY_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")


class _Redact(logging.Filter):
    """Mask the channel URL's secrets in what Apprise and urllib3 log (their debug lines hold paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        url = getattr(_secrets, "url", None)
        if url:
            text = record.getMessage()
            masked = redact(text, url)
            if masked != text:
                record.msg, record.args = masked, None
        return True


_redact_filter = _Redact()


@contextmanager
def redacting(url: str) -> Iterator[None]:
    """While in the block, log lines from this thread have *url*'s secrets masked."""
    for name in _LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        if _redact_filter not in library_logger.filters:
            library_logger.addFilter(_redact_filter)
    previous = getattr(_secrets, "url", None)
    _secrets.url = url
    try:
        yield
    finally:
        _secrets.url = previous


class _Capture(logging.Handler):
    """Collect Apprise's warnings of one thread: they say why a send failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


@contextmanager
def _captured() -> Iterator[_Capture]:
    capture = _Capture()
    apprise_logger = logging.getLogger("apprise")
    apprise_logger.addHandler(capture)
    try:
        yield capture
    finally:
        apprise_logger.removeHandler(capture)


def _is_email(plugin: Any) -> bool:
    from apprise.plugins.email import NotifyEmail

    return isinstance(plugin, NotifyEmail)


def send(url: str, message: TipMessage) -> SendResult:
    """Deliver *message* to the Apprise *url*; never raises for a channel's failure."""
    try:
        plugin = _plugin(url)
    except ChannelError as exc:
        return SendResult(False, str(exc))
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers[IDEMPOTENCY_HEADER] = message.idempotency_key
        if _is_email(plugin) and message.unsubscribe:
            # RFC 2369 and RFC 8058: mail clients show "unsubscribe", and may POST
            # "List-Unsubscribe=One-Click" to the link without opening a page.
            headers["List-Unsubscribe"] = f"<{message.unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    try:
        with redacting(url), _captured() as capture:
            ok = bool(plugin.notify(body=message.body(), title=message.subject()))
    except Exception as exc:  # a plugin bug must not stop the tip run
        return SendResult(False, redact(f"{type(exc).__name__}: {exc}", url)[:300])
    if ok:
        return SendResult(True)
    reason = capture.lines[-1] if capture.lines else "the service did not accept the message"
    return SendResult(False, redact(reason, url)[:300])


def send_test(url: str, *, lang: str = "en", link: str = "", unsubscribe: str = "") -> SendResult:
    """Send a short test message to *url*, so a person can check the channel works."""
    titles = {"en": "Feature Coach test", "zh-CN": "Feature Coach 测试"}
    summaries = {
        "en": "This channel works: tips about your devices will arrive here.",
        "zh-CN": "此渠道可用：关于你的设备的小贴士会发送到这里。",
    }
    message = TipMessage(
        title=titles.get(lang, titles["en"]),
        summary=summaries.get(lang, summaries["en"]),
        link=link,
        unsubscribe=unsubscribe,
        idempotency_key=f"test-{secrets.token_hex(8)}",
        lang=lang,
    )
    return send(url, message)
