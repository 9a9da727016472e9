"""The hub's wire format, shared by the hub and the homes: signed JSON messages and their checks.

A message is a JSON object encoded once (pretty-printed, sorted keys, UTF-8) and signed with
the home's Ed25519 key over exactly those bytes; the signature travels in the
``X-Hub-Signature`` header (base64url). Every message names its ``type`` (join, report,
leave), the home's public ``key``, a ``seq`` that only grows (replays are refused) and
``sent_at`` in Unix seconds (stale messages are refused). A report lists, per device model,
the capabilities the home's devices of that model have, those in use, and the lessons done
and dismissed. A shop sends a ``shop-report`` instead (``version`` 1): per model and feature,
over the week before ``sent_at`` (from ``since``), the demo steps that showed it, the demos
that showed it, how many of those ended in a sale intent, and the kiosk reads of it. Nothing
else is accepted: a field the format does not know is an error, so a
name, an address or a token can never ride along.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded where keys are used: a home that never joins a hub never loads them
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIGNATURE_HEADER = "X-Hub-Signature"
MAX_BODY = 64 * 1024
MAX_MODELS = 200
MAX_ITEMS = 300  # capabilities or lessons per model
TYPES = ("join", "report", "leave", "tip", "flag", "shop-report")
SHOP_VERSION = 1  # the shop-report format this hub reads
WEEK = 7 * 24 * 3600  # seconds a shop report covers at most
MAX_COUNT = 1_000_000  # a shop's count of one feature in one week
SHOP_COUNTS = ("shown", "demos", "sales", "kiosk")
TIP_LANGUAGES = ("en", "zh-CN")
MAX_TIP = 800  # characters of an owner's tip
_NAME = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,79}\Z")  # a model, family, capability or lesson id
# many ids, one a line: checking a list of ids is one match, not one per id
_NAMES = re.compile(r"[a-z0-9][a-z0-9._:-]{0,79}(?:\n[a-z0-9][a-z0-9._:-]{0,79})*")
_KEY = re.compile(r"^[A-Za-z0-9_-]{43}=?$")  # 32 bytes, base64url
_MODEL_FIELDS = {"model", "family", "capabilities", "in_use", "lessons_done", "lessons_dismissed"}
_FIELDS = {
    "join": {"type", "key", "seq", "sent_at"},
    "leave": {"type", "key", "seq", "sent_at"},
    "report": {"type", "key", "seq", "sent_at", "models"},
    "tip": {"type", "key", "seq", "sent_at", "model", "lesson", "lang", "text"},
    "flag": {"type", "key", "seq", "sent_at", "tip"},
    "shop-report": {"type", "version", "key", "seq", "sent_at", "since", "models"},
}
_SHOP_MODEL_FIELDS = {"model", "family", "features"}
_SHOP_FEATURE_FIELDS = {"capability", *SHOP_COUNTS}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ProtocolError(ValueError):
    """A message the hub refuses: an error code and a one-line message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class ModelReport:
    """What one home says about its devices of one model."""

    model: str
    family: str | None
    capabilities: tuple[str, ...]
    in_use: tuple[str, ...]
    lessons_done: tuple[str, ...]
    lessons_dismissed: tuple[str, ...]


@dataclass(frozen=True)
class ShopFeature:
    """What one shop's demos did with one feature of one model in a week."""

    capability: str
    shown: int  # demo steps that showed it
    demos: int  # demos that showed it
    sales: int  # of those demos, the ones that ended in a sale intent
    kiosk: int  # customers who opened it on the kiosk


@dataclass(frozen=True)
class ShopModel:
    """What one shop says about one model it demonstrates."""

    model: str
    family: str | None
    features: tuple[ShopFeature, ...]


@dataclass(frozen=True)
class Message:
    """A checked message (its signature is checked apart, against the stored key)."""

    type: str
    key: str
    seq: int
    sent_at: int
    models: tuple[ModelReport, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)  # a tip's or a flag's own fields
    shop: tuple[ShopModel, ...] = ()  # a shop report's models


# -- keys and signatures ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def new_key() -> Ed25519PrivateKey:
    """Make a home's signing key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def private_bytes(key: Ed25519PrivateKey) -> bytes:
    """Return the key as unencrypted PKCS#8 PEM (for a file only its owner can read)."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private(data: bytes) -> Ed25519PrivateKey:
    """Read a key written by private_bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the community key is not an Ed25519 key")
    return key


def public_id(key: Ed25519PrivateKey) -> str:
    """Return the public half of *key* as the hub knows it (base64url of the raw 32 bytes)."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def encode(message: dict[str, Any]) -> bytes:
    """Encode a message the one way it is sent: pretty-printed, sorted, UTF-8."""
    return (json.dumps(message, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def sign(key: Ed25519PrivateKey, body: bytes) -> str:
    """Return the signature header's value for *body*."""
    return _b64(key.sign(body))


def verify(public: str, body: bytes, signature: str | None) -> None:
    """Raise ProtocolError unless *signature* is *public*'s signature of *body*."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not signature:
        raise ProtocolError("unsigned", f"the message has no {SIGNATURE_HEADER} header", 401)
    try:
        raw_key = base64.urlsafe_b64decode(public)
        raw_signature = base64.urlsafe_b64decode(signature.encode("ascii"))
        Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_signature, body)
    except (InvalidSignature, ValueError, binascii.Error, UnicodeEncodeError):
        raise ProtocolError(
            "bad-signature", "the signature does not match the message", 401
        ) from None


# -- checking a message ----------------------------------------------------------------------


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ProtocolError("malformed", f"{where} must be a list of at most {MAX_ITEMS} ids")
    if value:
        try:
            lines = "\n".join(value)
        except TypeError:  # an item that is not a string
            lines = ""
        # an id holds no line break, so a list of ids has exactly one fewer than it has ids
        if lines.count("\n") != len(value) - 1 or not _NAMES.fullmatch(lines):
            raise ProtocolError("malformed", f"{where} holds something that is not an id")
    return tuple(sorted(set(value)))


def _model(value: Any) -> ModelReport:
    if not isinstance(value, dict) or set(value) != _MODEL_FIELDS:
        raise ProtocolError(
            "malformed", f"each model must have exactly: {', '.join(sorted(_MODEL_FIELDS))}"
        )
    model, family = _model_and_family(value)
    capabilities = _names(value["capabilities"], "capabilities")
    in_use = _names(value["in_use"], "in_use")
    if not set(in_use) <= set(capabilities):
        raise ProtocolError("malformed", "in_use may only name capabilities the model has")
    return ModelReport(
        model,
        family,
        capabilities,
        in_use,
        _names(value["lessons_done"], "lessons_done"),
        _names(value["lessons_dismissed"], "lessons_dismissed"),
    )


def parse(body: bytes) -> Message:
    """Check a message's size and shape (not its signature); raise ProtocolError when wrong."""
    if len(body) > MAX_BODY:
        raise ProtocolError("too-large", f"a message is at most {MAX_BODY} bytes", 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("malformed", "the body is not UTF-8 JSON") from None
    if not isinstance(data, dict) or data.get("type") not in TYPES:
        raise ProtocolError("malformed", f"the message's type must be one of {', '.join(TYPES)}")
    kind = data["type"]
    if set(data) != _FIELDS[kind]:
        raise ProtocolError(
            "malformed", f"a {kind} message has exactly: {', '.join(sorted(_FIELDS[kind]))}"
        )
    key, seq, sent_at = data["key"], data["seq"], data["sent_at"]
    if not isinstance(key, str) or not _KEY.match(key):
        raise ProtocolError("malformed", "key must be an Ed25519 public key in base64url")
    for name, value in (("seq", seq), ("sent_at", sent_at)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
            raise ProtocolError("malformed", f"{name} must be a whole number")
    models: tuple[ModelReport, ...] = ()
    if kind == "report":
        raw = data["models"]
        if not isinstance(raw, list) or len(raw) > MAX_MODELS:
            raise ProtocolError("malformed", f"models must be a list of at most {MAX_MODELS}")
        models = tuple(_model(item) for item in raw)
        if len({m.model for m in models}) != len(models):
            raise ProtocolError("malformed", "each model may appear once")
    shop = _shop(data) if kind == "shop-report" else ()
    return Message(kind, key, seq, sent_at, models, _own_fields(kind, data), shop)


def _model_and_family(value: dict[str, Any]) -> tuple[str, str | None]:
    model, family = value["model"], value["family"]
    if not isinstance(model, str) or not _NAME.match(model):
        raise ProtocolError("malformed", "a model must be a lower-case model id")
    if family is not None and (not isinstance(family, str) or not _NAME.match(family)):
        raise ProtocolError("malformed", "a family must be a lower-case id or null")
    return model, family


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ProtocolError("malformed", f"{name} must be a whole number from 0 to {MAX_COUNT}")
    return value


def _shop_feature(value: Any) -> ShopFeature:
    if not isinstance(value, dict) or set(value) != _SHOP_FEATURE_FIELDS:
        raise ProtocolError(
            "malformed", f"each feature has exactly: {', '.join(sorted(_SHOP_FEATURE_FIELDS))}"
        )
    capability = value["capability"]
    if not isinstance(capability, str) or not _NAME.match(capability):
        raise ProtocolError("malformed", "a capability must be a lower-case id")
    shown, demos, sales, kiosk = (_count(value[n], n) for n in SHOP_COUNTS)
    if not sales <= demos <= shown or not shown + kiosk:
        raise ProtocolError(
            "malformed", "a feature needs sales <= demos <= shown and something shown or read"
        )
    return ShopFeature(capability, shown, demos, sales, kiosk)


def _shop(data: dict[str, Any]) -> tuple[ShopModel, ...]:
    """Check a shop report's version, week and models."""
    if data["version"] != SHOP_VERSION or isinstance(data["version"], bool):
        raise ProtocolError("malformed", f"this hub reads shop-report version {SHOP_VERSION}")
    since = data["since"]
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise ProtocolError("malformed", "since must be a whole number")
    if not 0 < data["sent_at"] - since <= WEEK:
        raise ProtocolError("malformed", "a shop report covers at most the week before sent_at")
    raw = data["models"]
    if not isinstance(raw, list) or len(raw) > MAX_MODELS:
        raise ProtocolError("malformed", f"models must be a list of at most {MAX_MODELS}")
    out = []
    for value in raw:
        if not isinstance(value, dict) or set(value) != _SHOP_MODEL_FIELDS:
            raise ProtocolError(
                "malformed", f"each model has exactly: {', '.join(sorted(_SHOP_MODEL_FIELDS))}"
            )
        model, family = _model_and_family(value)
        features = value["features"]
        if not isinstance(features, list) or not 0 < len(features) <= MAX_ITEMS:
            raise ProtocolError("malformed", f"features must list 1 to {MAX_ITEMS} features")
        checked = tuple(sorted((_shop_feature(f) for f in features), key=lambda f: f.capability))
        if len({f.capability for f in checked}) != len(checked):
            raise ProtocolError("malformed", "each feature may appear once per model")
        out.append(ShopModel(model, family, checked))
    if len({m.model for m in out}) != len(out):
        raise ProtocolError("malformed", "each model may appear once")
    return tuple(out)


def _own_fields(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check what a tip or a flag carries besides the common fields."""
    if kind == "flag":
        tip = data["tip"]
        if isinstance(tip, bool) or not isinstance(tip, int) or not 0 < tip < 2**53:
            raise ProtocolError("malformed", "tip must be a tip's id")
        return {"tip": tip}
    if kind != "tip":
        return {}
    for name in ("model", "lesson"):
        if not isinstance(data[name], str) or not _NAME.match(data[name]):
            raise ProtocolError("malformed", f"{name} must be a lower-case id")
    if data["lang"] not in TIP_LANGUAGES:
        raise ProtocolError("malformed", f"lang must be one of {', '.join(TIP_LANGUAGES)}")
    text = data["text"]
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TIP:
        raise ProtocolError("malformed", f"a tip is 1 to {MAX_TIP} characters of text")
    if _CONTROL.search(text):
        raise ProtocolError("malformed", "a tip holds no control characters")
    return {k: data[k] for k in ("model", "lesson", "lang")} | {"text": text.strip()}


def message(
    key: Ed25519PrivateKey,
    kind: str,
    seq: int,
    sent_at: int,
    models: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Build a message of *kind* for the home holding *key* (a report or a shop report
    carries *models*, a shop report ``since``, a tip or a flag its own *fields*)."""
    body: dict[str, Any] = {"type": kind, "key": public_id(key), "seq": seq, "sent_at": sent_at}
    if kind in ("report", "shop-report"):
        body["models"] = models or []
    if kind == "shop-report":
        body["version"] = SHOP_VERSION
    return body | fields
