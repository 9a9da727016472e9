"""What Feature Coach knows about a model without a device: its class, family and capabilities.

Computed offline from python-miio's classes (their methods, their status class's properties
and descriptors) and from MIoT specs, with the vocabulary's own match rules. A live scan may
find fewer (a status field the device leaves empty) or, for status-only rules, more.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from devices.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

#: A placeholder token: building a python-miio object never sends anything.
_NO_TOKEN = "0" * 32


@dataclass(frozen=True)
class ModelSupport:
    """One model: the class that speaks for it, its family and the capabilities it offers."""

    model: str
    implementation: str | None
    family: str | None
    capabilities: tuple[str, ...]


def supported_models() -> dict[str, type]:
    """Every model python-miio's DeviceFactory names, its catch-all ``*`` left out.

    Vendor patterns (``roborock.vacuum.*``) stay: they stand for models the class handles.
    """
    from miio import DeviceFactory

    return {model: cls for model, cls in DeviceFactory.supported_models().items() if model != "*"}


def _status_class(cls: type) -> type | None:
    from miio import DeviceStatus

    status = getattr(cls, "status", None)
    returned = getattr(status, "__annotations__", {}).get("return")
    if isinstance(returned, str):
        try:
            import typing

            returned = typing.get_type_hints(status).get("return")
        except Exception:  # an annotation that does not resolve: no status class
            returned = None
    return returned if isinstance(returned, type) and issubclass(returned, DeviceStatus) else None


def _class_names(cls: type) -> tuple[set[str], set[str], set[str]]:
    """Return (descriptor ids, status names, method names) a class declares."""
    methods = {
        name
        for name, member in inspect.getmembers_static(cls)
        if not name.startswith("_") and callable(member)
    }
    descriptors = {
        member._descriptor.id
        for _, member in inspect.getmembers_static(cls)
        if hasattr(member, "_descriptor") and getattr(member._descriptor, "id", None)
    }
    names: set[str] = set()
    status = _status_class(cls)
    if status is not None:
        names = {n for n, m in inspect.getmembers_static(status) if isinstance(m, property)}
        declared = getattr(status, "_descriptors", None)
        if isinstance(declared, Mapping):
            names |= set(declared)
        descriptors |= {f"{status.__name__}.{name}" for name in names}
    return descriptors, names, methods


def class_capabilities(cls: type, family: str | None, vocabulary: Vocabulary) -> list[str]:
    """The vocabulary capabilities of *family* that class *cls* declares (sorted ids)."""
    descriptors, names, methods = _class_names(cls)
    found = []
    for cap in vocabulary:
        if family is not None and family not in cap.families:
            continue
        if (
            any(fnmatchcase(d, p) for p in cap.match.descriptors for d in descriptors)
            or any(m in methods for m in cap.match.methods)
            or any(rule.name in names for rule in cap.match.status)
        ):
            found.append(cap.id)
    return sorted(found)


def spec_support(model: str, spec: dict[str, Any], vocabulary: Vocabulary) -> ModelSupport:
    """Family and capabilities of a MIoT model from its spec (no device needed)."""
    from miio.integrations.genericmiot.genericmiot import GenericMiot
    from miio.miot_models import DeviceModel

    from devices.capabilities import extract

    device = GenericMiot("127.0.0.1", _NO_TOKEN, model=model)
    device._miot_model = DeviceModel.parse_obj(spec)
    device._create_descriptors()
    family = vocabulary.family_for_model(model)
    report = extract(device, None, family=family, vocabulary=vocabulary)
    return ModelSupport(model, "GenericMiot", report.family, tuple(report.capabilities))


def class_support(model: str, cls: type, vocabulary: Vocabulary) -> ModelSupport:
    """Family and capabilities of a model python-miio has a class for."""
    family = vocabulary.family_for_model(model)
    caps = class_capabilities(cls, family, vocabulary) if family else []
    return ModelSupport(model, cls.__name__, family, tuple(caps))
