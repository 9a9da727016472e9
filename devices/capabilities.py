"""What a live python-miio device can do, in the terms of the capability vocabulary."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from devices import detectors
from devices.matching import Match, MiotRule, StatusRule
from devices.vocabulary import (
    DEFAULT_PATH,
    KINDS,
    Capability,
    Vocabulary,
    VocabularyError,
)

__all__ = [
    "DEFAULT_PATH",
    "KINDS",
    "Capability",
    "CapabilityReport",
    "Match",
    "MiotRule",
    "StatusRule",
    "Vocabulary",
    "VocabularyError",
    "extract",
    "snapshot",
]

logger = logging.getLogger(__name__)

snapshot = detectors.snapshot  # part of this module's API; lives with the rule language


# ---------------------------------------------------------------- extraction from a device


@dataclass
class _Item:
    """One descriptor of a device, read without touching the network."""

    id: str
    name: str
    kind: str  # setting | sensor | action
    unit: str | None = None
    type: str | None = None
    choices: list[str] | None = None
    range: list[float] | None = None
    setter: str | None = None
    reported: bool = True
    miot: tuple[str, str] | None = None  # (service, type name) of a MIoT spec item

    def describe(self) -> dict[str, Any]:
        """Return the JSON-able description kept with the device."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("id", "miot")}
        out["writable"] = self.kind == "setting"
        out["miot"] = ":".join(self.miot) if self.miot else None
        return out


def _add(items: dict[str, _Item], item: _Item) -> None:
    """Add with python-miio's rule for clashing ids (a -2, -3 ... suffix)."""
    base, suffix = item.id, 2
    while item.id in items:
        item.id, suffix = f"{base}-{suffix}", suffix + 1
    items[item.id] = item


def _miot_items(model: Any) -> dict[str, _Item]:
    """Mirror GenericMiot._create_descriptors from the spec model alone."""
    from miio.miot_models import MiotAccess

    items: dict[str, _Item] = {}
    for serv in (s for s in model.services if s.siid != 1):  # siid 1: device information
        for act in serv.actions:
            _add(
                items, _Item(act.name, act.description, "action", miot=(serv.name, act.plain_name))
            )
        for prop in serv.properties:
            if not prop.access or prop.access == [MiotAccess.Notify]:
                continue  # action inputs and notify-only values are not descriptors
            kind = "setting" if MiotAccess.Write in prop.access else "sensor"
            item = _Item(
                prop.name, prop.description, kind, prop.unit, miot=(serv.name, prop.plain_name)
            )
            item.type = getattr(prop.format, "__name__", None)
            item.choices = [c.description for c in prop.choices] if prop.choices else None
            item.range = prop.range
            _add(items, item)
    return items


def _miio_item(desc: Any, reported: bool) -> _Item:
    from miio.descriptors import AccessFlags, ActionDescriptor

    if isinstance(desc, ActionDescriptor):
        item = _Item(str(desc.id), str(desc.name), "action", setter=desc.method_name)
    else:
        kind = "setting" if desc.access & AccessFlags.Write else "sensor"
        item = _Item(str(desc.id), str(desc.name), kind, desc.unit, setter=desc.setter_name)
    item.type, item.reported = getattr(desc.type, "__name__", None), reported
    choices = getattr(desc, "choices", None)
    if isinstance(choices, type) and issubclass(choices, enum.Enum):
        item.choices = list(choices.__members__)
    if getattr(desc, "max_value", None) is not None:
        item.range = [desc.min_value, desc.max_value, desc.step]
    return item


def _miio_items(device: Any, status: Any) -> dict[str, _Item]:
    """Collect the descriptors of a miIO class and its status without Device.descriptors().

    That call walks the instance with inspect.getmembers, which reads Device.device_id and so
    sends a handshake to a device not yet handshaken: every miIO class touches the network.
    """
    from miio import DeviceStatus

    own = getattr(device, "_descriptors", None)
    if getattr(device, "_initialized", False) and isinstance(own, Mapping):
        declared = list(own.values())
    else:
        members = inspect.getmembers_static(type(device))
        declared = [m._descriptor for _, m in members if hasattr(m, "_descriptor")]
        ann = getattr(getattr(type(device), "status", None), "__annotations__", {}).get("return")
        if isinstance(ann, type) and issubclass(ann, DeviceStatus):
            declared += list(detectors.status_descriptors(ann).values())
    parts = []
    if status is not None:
        embedded = getattr(status, "_embedded", None)
        parts = [status, *(embedded.values() if isinstance(embedded, Mapping) else ())]
    sources = [(d, status) for d in declared]
    sources += [
        (d, part) for part in parts for d in detectors.status_descriptors(type(part)).values()
    ]
    items: dict[str, _Item] = {}
    seen: set[int] = set()
    for desc, part in sources:
        if id(desc) in seen:
            continue  # declared by the device class and seen again on its status
        seen.add(id(desc))
        attr = getattr(desc, "status_attribute", None)
        ok, value = (
            detectors.read_attribute(part, attr) if part is not None and attr else (True, True)
        )
        _add(items, _miio_item(desc, reported=ok and value not in (None, "")))
    return items


@dataclass
class CapabilityReport:
    """What a device can do, in vocabulary terms, plus what the vocabulary does not cover yet."""

    capabilities: list[str]
    unmapped: list[str]
    settings: dict[str, str]  # capability id -> descriptor id that writes it
    actions: dict[str, str]  # capability id -> action descriptor id
    descriptors: dict[str, dict[str, Any]]  # descriptor id -> JSON-able description
    # capability id -> method of the python-miio class that writes it or runs it: the way
    # to try a feature on classes without descriptors
    methods: dict[str, str] = field(default_factory=dict)
    family: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data."""
        return dataclasses.asdict(self)


def _declared_enums(
    cls: type, names: Mapping[str, Any], vocab: Vocabulary
) -> dict[str, type[enum.Enum]]:
    """The enum each status property with a bare value is declared to return (for the rules
    that look at a property's choices), read from the status class's annotations."""
    import typing

    wanted = {r.name for c in vocab for r in c.match.status if r.choices}
    found: dict[str, type[enum.Enum]] = {}
    for name in wanted & set(names):
        fget = getattr(getattr(cls, name, None), "fget", None)
        if fget is None or isinstance(names[name], enum.Enum):
            continue
        try:
            hint = typing.get_type_hints(fget).get("return")
        except Exception as exc:  # an annotation python-miio itself cannot resolve
            logger.debug("no declared type for %s.%s: %s", cls.__name__, name, exc)
            continue
        for candidate in (hint, *typing.get_args(hint)):
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                found[name] = candidate
                break
    return found


def _declares(device: Any, needs: tuple[str, ...]) -> bool | None:
    """True when the object's attributes say the model has the feature, False when they say
    it has not, None when the class says nothing (no such attribute)."""
    answer: bool | None = None
    for path in needs:
        value: Any = device
        for part in path.split("."):
            value = getattr(value, part, _MISSING)
            if value is _MISSING:
                break
        if value is _MISSING:
            continue
        if not value:
            return False
        answer = True
    return answer


_MISSING = object()


def extract(
    device: Any,
    status: Any,
    *,
    family: str | None,
    vocabulary: Vocabulary | None = None,
    status_class: type | None = None,
    available: Collection[str] | None = None,
) -> CapabilityReport:
    """Map a python-miio device (and the status it returned) to vocabulary capabilities.

    Never talks to the device: descriptors come from the classes, or from the MIoT spec model
    a GenericMiot was given (``dev._miot_model``); a GenericMiot without one is mapped from its
    status alone rather than fetching its spec from the cloud. *family* None means: from the
    model patterns, else the MIoT device type, else every family. With no *status* but a
    *status_class*, the status rules match what that class declares it can show
    (the model examined offline), or only its *available* names when given.
    """
    vocab = vocabulary or Vocabulary.load()
    cls = type(device)
    miot_model = getattr(device, "_miot_model", None)
    if miot_model is not None:
        items = _miot_items(miot_model)
    else:
        items = {} if hasattr(device, "_miot_model") else _miio_items(device, status)
    if family is None:
        family = vocab.family_for_model(getattr(device, "_model", None))
        family = family or vocab.family_for_device_type(miot_model.urn.name if miot_model else None)
    names = (
        {k: v for k, v in detectors.read_status(status).items() if v not in (None, "")}
        if status is not None
        else {}
    )
    if status is None and status_class is not None:
        shown = detectors._public_properties(status_class) if available is None else available
        names = {name: True for name in shown}
    status_cls = type(status) if status is not None else status_class
    enums = _declared_enums(status_cls, names, vocab) if status_cls is not None else {}
    live = sorted(i for i, it in items.items() if it.reported)
    report = CapabilityReport(
        [], [], {}, {}, {i: items[i].describe() for i in sorted(items)}, family=family
    )
    consumed: set[str] = set()
    for cap in sorted(vocab, key=lambda c: c.id):
        if family is not None and family not in cap.families:
            continue
        declares = _declares(device, cap.needs)
        if declares is False:
            continue  # the class says this model has not got it
        # a setting the model declares it has counts whatever mode it is in now (a colour
        # bulb in white mode reports no colour, yet has it)
        shown = [i for i in items if items[i].kind == "setting"] if declares else []
        hits = [
            i
            for pattern in cap.match.descriptors
            for i in dict.fromkeys([*live, *shown])
            if fnmatchcase(i, pattern)
        ]
        hits += [i for rule in cap.match.miot for i in live if rule.matches(items[i])]
        if not (
            hits
            or any(rule.matches(names, enums) for rule in cap.match.status)
            or any(callable(getattr(cls, m, None)) for m in cap.match.methods)
        ):
            continue
        report.capabilities.append(cap.id)
        consumed.update(hits)
        # a setting the status leaves empty right now (a colour in white mode) still writes it
        declared = [
            i for pattern in cap.match.descriptors for i in items if fnmatchcase(i, pattern)
        ]
        wanted_ids = (*cap.setting_descriptors, *cap.action_descriptors, *hits, *declared)
        candidates = [d for d in wanted_ids if d in items]
        writable = [d for d in candidates if items[d].kind == "setting"]
        runnable = [d for d in candidates if items[d].kind == "action"]
        if writable:
            report.settings[cap.id] = writable[0]
        if runnable:
            report.actions[cap.id] = runnable[0]
        wanted = (*cap.setting_methods, *(cap.match.methods if cap.kind == "action" else ()))
        methods = [m for m in wanted if callable(getattr(cls, m, None))]
        method = methods[0] if methods else items[writable[0]].setter if writable else None
        if method:
            report.methods[cap.id] = method
    report.unmapped = sorted(set(live) - consumed)
    return report
