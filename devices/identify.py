"""Identify a device: miIO.info, then the python-miio class that speaks for it.

``DeviceFactory`` picks the implementation for known models; any other model gets
``GenericMiot`` built from a MIoT spec found by ``SpecStore`` (never from the internet
unless allowed). A model with neither is "unsupported", with everything that is known.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devices.link import DeviceLink, LinkError
from devices.specs import SpecStore

if TYPE_CHECKING:
    from miio import Device

logger = logging.getLogger(__name__)


@dataclass
class Identity:
    """What a device told us about itself. Never holds the token."""

    ip: str
    did: int | None = None
    mac: str | None = None
    model: str | None = None
    firmware: str | None = None
    hardware: str | None = None
    implementation: str | None = None
    spec_source: str | None = None
    status: str = "online"  # online | offline | auth-failed | unsupported | error
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def implementation_for(
    model: str, specs: SpecStore
) -> tuple[type | None, dict[str, Any] | None, str | None]:
    """Return (class, spec, spec source) for *model*; class None when unsupported."""
    from miio import DeviceFactory
    from miio.exceptions import DeviceException
    from miio.integrations.genericmiot.genericmiot import GenericMiot

    try:
        cls = DeviceFactory.class_for_model(model)
    except DeviceException:
        cls = GenericMiot
    if cls is not GenericMiot:
        return cls, None, None
    found = specs.get(model)
    if found is None:
        return None, None, None
    return GenericMiot, found.spec, found.source


def build_device(cls: type, link: DeviceLink, model: str, spec: dict[str, Any] | None) -> Device:
    """Instantiate *cls* for *model* on *link* (GenericMiot gets *spec* injected)."""
    device = cls(link.ip, link.token, model=model, timeout=link.timeout)
    if spec is not None:
        from miio.miot_models import DeviceModel

        device._miot_model = DeviceModel.parse_obj(spec)
        device._create_descriptors()
    return link.adopt(device)


def identify(link: DeviceLink, specs: SpecStore) -> Identity:
    """Ask the device at *link* who it is and attach the right python-miio object to it."""
    from miio import Device

    identity = Identity(ip=link.ip)
    probe = Device(link.ip, link.token, timeout=link.timeout)  # type: ignore[arg-type]
    link.adopt(probe)
    try:
        info = link.call(probe.info)
    except LinkError as exc:
        identity.status, identity.detail = exc.status, str(exc)
        link.device = None
        return identity
    data = info.data if isinstance(info.data, dict) else {}
    identity.did = int.from_bytes(link.protocol._device_id, "big") or None
    identity.model = info.model or None
    identity.mac = (info.mac_address or "").lower() or None
    identity.firmware = info.firmware_version
    identity.hardware = info.hardware_version
    identity.extra = {k: data[k] for k in ("life", "ot") if k in data}
    if not identity.model:
        identity.status, identity.detail = "unsupported", "the device did not say which model it is"
        link.device = None
        return identity
    try:
        cls, spec, source = implementation_for(identity.model, specs)
        if cls is None:
            identity.status = "unsupported"
            identity.detail = specs.explain(identity.model)
            link.device = None
            return identity
        device = build_device(cls, link, identity.model, spec)
    except Exception as exc:  # a broken spec file or class must not fail the scan
        logger.warning("could not build a handle for %s: %s", identity.model, exc)
        identity.status = "unsupported"
        identity.detail = f"model {identity.model} could not be set up: {type(exc).__name__}"
        link.device = None
        return identity
    device._info = info
    identity.implementation = type(device).__name__
    identity.spec_source = source
    return identity
