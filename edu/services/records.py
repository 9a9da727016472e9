"""What a scan or a poll tells about a device, written into its tables.

``edu.services.inventory`` talks to the devices; these functions keep what they said: the capability
rows a scan found, the latest status snapshot, a poll's status, back-off and usage, and the
public view of a stored device (never its token).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from edu.db import key, utcnow
from edu.models import Device, DeviceCapability, Household, OwnWrite, StatusSnapshot
from edu.services.usage import record_usage

if TYPE_CHECKING:
    from devices.capabilities import CapabilityReport
    from devices.coordinator import PollResult, ScanResult
    from devices.discovery import Discovered
    from devices.vault import TokenVault

PUBLIC_STATUSES = ("online", "offline", "auth-failed", "unsupported")


def public_status(status: str) -> str:
    """The status a report shows: a device that answers garbage is, to its user, offline.

    The stored status keeps the difference ("error", "new") for the network doctor.
    """
    return status if status in PUBLIC_STATUSES else "offline"


def store_capabilities(session: Session, device: Device, report: CapabilityReport) -> None:
    """Make the device's capability rows say what *report* found: add, update, delete."""
    existing = {
        c.capability: c
        for c in session.exec(
            select(DeviceCapability).where(DeviceCapability.device_id == device.id)
        )
    }
    wanted: dict[str, dict[str, Any]] = {}
    for cap in report.capabilities:
        wanted[cap] = {
            "mapped": True,
            "setting": report.settings.get(cap),
            "action": report.actions.get(cap),
            "method": report.methods.get(cap),
        }
    for desc in report.unmapped:
        wanted.setdefault(
            desc,
            {
                "mapped": False,
                "setting": None,
                "action": None,
                "method": None,
                "details": report.descriptors.get(desc),
            },
        )
    for name, stale in existing.items():
        if name not in wanted:
            session.delete(stale)
    for name, values in wanted.items():
        row = existing.get(name) or DeviceCapability(device_id=key(device), capability=name)
        session.add(row)
        row.mapped = values["mapped"]
        row.setting = values["setting"]
        row.action = values["action"]
        row.method = values["method"]
        row.details = values.get("details")


def store_snapshot(session: Session, device: Device, data: dict[str, Any], when: datetime) -> bool:
    """Keep *data* as the device's latest status when it changed; return whether it did."""
    if device.last_snapshot == data:
        return False
    session.add(StatusSnapshot(device_id=key(device), taken_at=when, data=data))
    device.last_snapshot = data
    return True


def store_poll(
    session: Session,
    device: Device,
    result: PollResult,
    now: datetime,
    interval: timedelta,
    vocabulary: Any,
) -> dict[str, Any]:
    """Record one poll of *device*: status, back-off, snapshot, and the usage it shows."""
    from devices.coordinator import backoff
    from devices.usage import detect

    device.last_polled = now
    if result.identity is not None and result.identity.status == "online":
        device.firmware = result.identity.firmware or device.firmware
        device.implementation = result.identity.implementation or device.implementation
    if result.status != "online" or result.snapshot is None:
        device.status, device.status_detail = result.status, result.detail
        device.consecutive_failures += 1
        device.next_poll = now + backoff(device.consecutive_failures, interval)
        session.flush()
        return {
            "did": device.did,
            "status": public_status(device.status),
            "detail": device.status_detail,
            "in_use": in_use(session, device),
        }
    device.status, device.status_detail = "online", ""
    device.consecutive_failures = 0
    device.last_seen = now
    device.next_poll = now + interval
    caps = session.exec(
        select(DeviceCapability).where(DeviceCapability.device_id == device.id)
    ).all()
    mapped = [c for c in caps if c.mapped]
    settings = {c.capability: c.setting for c in mapped if c.setting}
    writes = session.exec(
        select(OwnWrite).where(OwnWrite.device_id == device.id, col(OwnWrite.consumed).is_(False))
    ).all()
    previous = device.last_snapshot
    detections = detect(
        result.snapshot,
        previous,
        capabilities=[c.capability for c in mapped],
        settings=settings,
        own_writes=[w.key for w in writes],
        vocabulary=vocabulary,
    )
    for write in writes:
        write.consumed = True
    seen = {d.capability for d in detections if d.how == "state"}
    changed = {d.capability for d in detections if d.how == "change"}
    for cap in mapped:
        if cap.capability in changed or (cap.capability in seen and not cap.in_use):
            how = "state" if cap.capability in seen else "change"
            record_usage(session, device, cap.capability, how, when=now)
            cap.last_used = now
        cap.in_use = cap.capability in seen or (cap.in_use and cap.capability in changed)
    store_snapshot(session, device, result.snapshot, now)
    session.flush()
    return {
        "did": device.did,
        "status": "online",
        "detail": "",
        "in_use": sorted(seen | changed),
    }


def in_use(session: Session, device: Device) -> list[str]:
    """The capabilities of *device* in use, as the last poll left them."""
    caps = session.exec(
        select(DeviceCapability).where(
            DeviceCapability.device_id == device.id, col(DeviceCapability.in_use).is_(True)
        )
    ).all()
    return sorted(c.capability for c in caps)


def find_device(
    session: Session,
    household: Household,
    *,
    did: int | None,
    mac: str | None = None,
    ip: str | None = None,
) -> Device | None:
    """Return the household's device with this did, else this MAC (a device that moved), else
    the one device at this address (Home Assistant knows a device by address, not by id)."""
    query = select(Device).where(Device.household_id == household.id)
    if did is not None:
        found = session.exec(query.where(Device.did == did)).first()
        if found is not None:
            return found
    if mac and (found := session.exec(query.where(Device.mac == mac.lower())).first()):
        return found
    if ip:
        at_ip = session.exec(query.where(Device.ip == ip)).all()
        return at_ip[0] if len(at_ip) == 1 else None
    return None


def describe_device(
    session: Session, device: Device, caps: list[DeviceCapability] | None = None
) -> dict[str, Any]:
    """Return the public view of *device* (never its token); *caps* when already read."""
    if caps is None:
        caps = list(
            session.exec(
                select(DeviceCapability)
                .where(DeviceCapability.device_id == device.id)
                .order_by(col(DeviceCapability.capability))
            )
        )
    return {
        "did": device.did,
        "ip": device.ip,
        "mac": device.mac,
        "name": device.display_name,
        "model": device.model,
        "family": device.family,
        "firmware": device.firmware,
        "implementation": device.implementation,
        "status": public_status(device.status),
        "detail": device.status_detail,
        "token_known": device.token_known,
        "source": device.discovered_via,
        "capabilities": [c.capability for c in caps if c.mapped],
        "unmapped": [c.capability for c in caps if not c.mapped],
    }


def store_tokenless(
    session: Session, household: Household, item: Discovered, names: dict[int, str]
) -> dict[str, Any]:
    """Store a device found without its token: it needs one before it can be read."""
    device = find_device(session, household, did=item.did)
    if device is None:
        device = Device(household_id=key(household), did=item.did, ip=item.ip)
        session.add(device)
    device.ip = item.ip
    device.discovered_via = item.source
    if item.did in names:
        device.name = names[item.did]
    device.status = "auth-failed"
    device.status_detail = (
        "the device hides its token: add it with `edu add` or `edu tokens import`"
    )
    session.flush()
    return describe_device(session, device)


def describe_devices(session: Session, household: Household) -> list[dict[str, Any]]:
    """Return the public view of every device of *household*, by address."""
    rows = session.exec(
        select(Device).where(Device.household_id == household.id).order_by(col(Device.ip))
    ).all()
    caps: dict[int | None, list[DeviceCapability]] = {d.id: [] for d in rows}
    for cap in session.exec(
        select(DeviceCapability)
        .join(Device)
        .where(Device.household_id == household.id)
        .order_by(col(DeviceCapability.capability))
    ):
        caps[cap.device_id].append(cap)
    return [describe_device(session, d, caps[d.id]) for d in rows]


def store_scan(
    session: Session,
    household: Household,
    result: ScanResult,
    item: Discovered | None,
    tokens: dict[int, str],
    names: dict[int, str],
    vault: TokenVault,
) -> dict[str, Any]:
    """Store what a scan read of one device: identity, family, name, token, capabilities."""
    identity = result.identity
    did = identity.did if identity.did is not None else (item.did if item else 0)
    device = find_device(session, household, did=did, mac=identity.mac)
    now = utcnow()
    if device is None:
        device = Device(household_id=key(household), did=did, ip=identity.ip)
        session.add(device)
    device.ip = identity.ip
    for attr in ("mac", "model", "firmware", "hardware", "implementation"):
        value = getattr(identity, attr)
        if value:
            setattr(device, attr, value)
    if result.family:
        device.family = result.family
    if did in names:
        device.name = names[did]
    device.status, device.status_detail = identity.status, identity.detail
    if item is not None:
        device.discovered_via = item.source
    token = tokens.get(did)
    if (
        token is not None
        and identity.status != "auth-failed"
        and (vault.decrypt(device.token_ciphertext) if device.token_ciphertext else None) != token
    ):
        device.token_ciphertext = vault.encrypt(token)
        device.token_source = (
            "hello" if (item and item.token) else (device.token_source or "manual")
        )
    if identity.status == "online":
        device.last_seen = now
        device.consecutive_failures = 0
    session.flush()
    if result.report is not None:
        assert result.report is not None
        store_capabilities(session, device, result.report)
    if result.snapshot is not None:
        store_snapshot(session, device, result.snapshot, now)
    return describe_device(session, device)
