"""A python-miio model seen without a device: its class built offline, what it declares it shows.

Used by ``edu lessons check``: every model python-miio knows (and every spec we hold) is built
with a placeholder address while sending is refused, so nothing leaves the machine. What a
model *has* is read from its class and status class (or its MIoT spec), never from a status
reply, so the answer does not depend on what mode a device happens to be in.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from devices import detectors
from devices.capabilities import CapabilityReport, extract
from devices.trycontract import Contract, Target, decide, write_call
from devices.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

PLACEHOLDER_IP = "127.0.0.1"
PLACEHOLDER_TOKEN = "0" * 32
_MIOT_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


class OfflineRefused(OSError):
    """Something tried to reach a device while a model was being examined offline."""


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OfflineRefused("offline: no device is contacted while examining a model")


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Refuse every miIO send, handshake and UDP/TCP send for the duration (one thread: the CLI)."""
    from miio.miioprotocol import MiIOProtocol

    saved = [
        (MiIOProtocol, "send", MiIOProtocol.send),
        (MiIOProtocol, "send_handshake", MiIOProtocol.send_handshake),
        (socket.socket, "sendto", socket.socket.sendto),
        (socket.socket, "connect", socket.socket.connect),
    ]
    try:
        for owner, name, _ in saved:
            setattr(owner, name, _refuse)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


class _NoProtocol:
    """Stands in for a device's MiIOProtocol: any use of it is refused."""

    def __getattr__(self, name: str) -> Any:
        raise OfflineRefused("offline: this object has no device behind it")


def build(cls: type, model: str, spec: dict[str, Any] | None = None) -> Any:
    """Instantiate *cls* for *model* with no device behind it: its protocol refuses every use.

    Building sends nothing (python-miio classes only store the address); ``no_network``
    also refuses sockets, for a whole offline run.
    """
    device = cls(PLACEHOLDER_IP, PLACEHOLDER_TOKEN, model=model)
    device._protocol = _NoProtocol()
    if spec is not None:
        from miio.miot_models import DeviceModel

        device._miot_model = DeviceModel.parse_obj(spec)
        device._create_descriptors()
    return device


def _return_type(fn: Any) -> Any:
    try:
        return typing.get_type_hints(fn).get("return")
    except Exception:  # annotations python-miio cannot resolve itself
        return None


def _plain(hint: Any) -> Any:
    """The one type an annotation names (Optional[int] -> int), else the annotation."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if len(args) == 1 else hint


def _attributes(status_cls: type) -> dict[str, str]:
    """Snapshot key -> the status attribute that gives it (properties and descriptors)."""
    found = {name: name for name in detectors._public_properties(status_cls)}
    for desc in detectors.status_descriptors(status_cls).values():
        attr = getattr(desc, "status_attribute", None)
        if attr:
            found.setdefault(str(desc.id), attr)
    return found


def _status_keys(
    status_cls: type, prefix: str = "", shown: set[str] | None = None
) -> dict[str, Any]:
    """Snapshot key -> the type its attribute declares, for the attributes in *shown* (or all)."""
    keys: dict[str, Any] = {}
    for key, attr in _attributes(status_cls).items():
        if shown is not None and attr not in shown:
            continue
        fget = getattr(getattr(status_cls, attr, None), "fget", None)
        keys[prefix + key] = _plain(_return_type(fget)) if fget is not None else None
    return keys


class _Probe(dict[str, Any]):
    """Status data that holds exactly the keys a model asks for, and notes which are read."""

    def __init__(self, allowed: set[str]) -> None:
        super().__init__({key: 1 for key in allowed})
        self.allowed = allowed
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def requested_keys(device: Any) -> set[str] | None:
    """The status keys *device*'s class asks its model for (None: it asks for no list)."""
    sent: list[tuple[str, Any]] = []

    def record(command: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        sent.append((command, params))  # answer each batch, so the class asks for the next
        return [None] * len(params) if isinstance(params, list) else []

    device.send = record
    try:
        device.status()
    except Exception as exc:  # the recorder's empty answers cannot be parsed
        logger.debug("status() of %s offline: %s", type(device).__name__, type(exc).__name__)
    finally:
        del device.send
    keys: set[str] = set()
    for command, params in sent:
        if command in ("get_prop", "get_properties") and isinstance(params, list):
            keys.update(p["did"] if isinstance(p, dict) else str(p) for p in params)
    return {k for k in keys if isinstance(k, str)} or None


def available_properties(status_cls: type, allowed: set[str], model: str) -> list[str]:
    """The public properties of *status_cls* that read only keys in *allowed*."""
    probe = _Probe(allowed)
    status: Any = object.__new__(status_cls)
    for attr, value in (("data", probe), ("model", model), ("_model", model)):
        with contextlib.suppress(AttributeError):
            object.__setattr__(status, attr, value)
    found = []
    for name in sorted(set(_attributes(status_cls).values())):
        probe.read.clear()
        try:
            getattr(status, name)
        except KeyError:
            continue
        except Exception as exc:  # a placeholder value it cannot convert: the key was there
            logger.debug("%s.%s on placeholder data: %s", status_cls.__name__, name, exc)
        if probe.read <= allowed:
            found.append(name)
    return found


def declared_keys(device: Any) -> tuple[dict[str, Any], type | None]:
    """The snapshot keys *device*'s class can show, each with its declared type; and its status class."""
    if getattr(device, "_miot_model", None) is not None:
        return {}, None  # a spec's properties: see examine()
    from devices.coordinator import EXTRA_READS

    extra = {
        key: _plain(_return_type(getattr(type(device), method)))
        for key, method in EXTRA_READS.items()
        if callable(getattr(type(device), method, None))
    }
    keys, status_cls = _declared_status_keys(device)
    return {**keys, **extra}, status_cls


def _declared_status_keys(device: Any) -> tuple[dict[str, Any], type | None]:
    helper = getattr(device, "_status_helper", None)
    if helper is not None:
        main = _return_type(getattr(helper, "_main_update_method", None))
        keys = _status_keys(main) if isinstance(main, type) else {}
        for name, method in getattr(helper, "_update_methods", {}).items():
            embedded = _return_type(method)
            if isinstance(embedded, type):
                keys.update(_status_keys(embedded, f"{name}__"))
        return keys, main if isinstance(main, type) else None
    status_cls = _return_type(getattr(type(device), "status", None))
    if not isinstance(status_cls, type):
        return {}, None
    asked = requested_keys(device)
    shown = set(available_properties(status_cls, asked, device.model)) if asked else None
    keys = _status_keys(status_cls, shown=shown)
    keys.update({k: None for k in asked or () if k not in keys})  # raw data keys
    return keys, status_cls


@dataclass
class ModelView:
    """One model examined offline: its class, capability report and contract target."""

    model: str
    cls: type
    family: str | None
    report: CapabilityReport | None = None
    target: Target | None = None
    error: str = ""
    device: Any = field(default=None, repr=False)


def examine(
    model: str, cls: type, vocabulary: Vocabulary, spec: dict[str, Any] | None = None
) -> ModelView:
    """Build *model*'s class offline and say what it has (call inside ``no_network``)."""
    family = vocabulary.family_for_model(model)
    view = ModelView(model, cls, family)
    try:
        device = build(cls, model, spec)
        keys, status_cls = declared_keys(device)
        report = extract(
            device,
            None,
            family=family,
            vocabulary=vocabulary,
            status_class=status_cls,
            available=[k for k in keys if "__" not in k],
        )
    except Exception as exc:  # a class that needs a device to be built
        logger.debug("cannot examine %s offline: %s", model, exc)
        view.error = f"{cls.__name__} cannot be built offline: {type(exc).__name__}"
        return view
    if spec is not None:
        keys = {
            k: _MIOT_TYPES.get(str(d.get("type")))
            for k, d in report.descriptors.items()
            if d.get("kind") in ("setting", "sensor")
        }
    view.device, view.report, view.family = device, report, report.family
    view.target = Target(
        model,
        cls,
        frozenset(report.capabilities),
        report.settings,
        report.actions,
        report.methods,
        report.descriptors,
        keys,
        live=False,
    )
    return view


class _Recorder:
    """Stands in for Device.send: keeps what would have been sent, answers "ok"."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def __call__(self, command: str, parameters: Any = None, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((command, parameters))
        return ["ok"]


def exercise(device: Any, contract: Contract, vocabulary: Vocabulary) -> str:
    """Make the contract's call on an offline *device*, its sends recorded; "" or why it fails."""
    recorder = _Recorder()
    device.send = recorder
    try:
        if contract.via == "action":
            fn = getattr(device, contract.writer or "", None)
            if callable(fn):
                fn()
            else:
                device.call_action(contract.writer)
        else:
            fn, args = write_call(device, contract, vocabulary, contract.value)
            fn(*args)
    except Exception as exc:  # what the call would raise on a real device too
        return f"{type(exc).__name__}: {exc}"[:200]
    finally:
        del device.send
    return "" if recorder.sent else "the call sent nothing to the device"


_VIEWS: dict[tuple[type, str], ModelView] = {}
_DRY_RUN = threading.Lock()


def view_of(
    model: str, cls: type, vocabulary: Vocabulary, spec: dict[str, Any] | None = None
) -> ModelView:
    """``examine``, kept per (class, model) for the life of the process."""
    view = _VIEWS.get((cls, model))
    if view is None:
        view = examine(model, cls, vocabulary, spec)
        if len(_VIEWS) > 512:
            _VIEWS.clear()
        _VIEWS[(cls, model)] = view
    return view


def contract_for(
    vocabulary: Vocabulary,
    setting: str | None,
    value: Any,
    target: Target,
    *,
    action: str | None = None,
    device: Any = None,
    spec: dict[str, Any] | None = None,
) -> tuple[Contract, str]:
    """Decide the contract, then try it on an offline object of the model (sends recorded).

    A call python-miio itself refuses for the model (an unsupported feature, a value out of
    its range) is not offered. Returns (contract, "") or, when the dry run of a contract
    the class should accept fails anyway, (contract, why): a fault of the contract.
    """
    contract = decide(vocabulary, setting, value, target, action=action)
    if not contract.offered:
        return contract, ""
    offline = device
    if offline is None:
        offline = view_of(target.model, target.cls, vocabulary, spec).device
    if offline is None:  # a class that cannot be built without its device
        return contract, ""
    with _DRY_RUN:  # one dry run at a time on a shared offline object
        failure = exercise(offline, contract, vocabulary)
    refused = ("UnsupportedFeatureException", "ValueError", "KeyError")
    if failure.startswith(refused):
        why = f"python-miio refuses it for {target.model}: {failure}"
        return Contract(contract.capability, False, why), ""
    return contract, failure
