"""Devices into tables: discover, scan, add, import tokens, poll and record usage."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from devices.coordinator import Coordinator, PollResult, ScanResult
from devices.discovery import Discovered
from devices.vault import TokenVault
from edu.config import Settings
from edu.db import key, unit_of_work, utcnow
from edu.models import Device, DeviceCapability, Household, OwnWrite
from edu.services.records import (
    describe_device,
    describe_devices,
    find_device,
    store_poll,
    store_scan,
    store_tokenless,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
POLL_BATCH = 2000  # device rows read at a time when choosing what to poll


class InventoryError(ValueError):
    """A user-facing problem with a request (bad address, unknown device ...)."""


class TokenRejected(InventoryError):
    """The device answered but refused the token given: nothing was stored."""


class TokenUnknown(InventoryError):
    """The device is known, but not its token."""


@dataclass
class Inventory:
    """The services that keep the device tables in step with the network."""

    engine: Engine
    settings: Settings
    coordinator: Coordinator
    vault: TokenVault

    @classmethod
    def open(cls, engine: Engine, settings: Settings) -> Inventory:
        """Build an inventory with a coordinator and a token vault for *settings*."""
        from devices.specs import SpecStore
        from devices.vocabulary import Vocabulary

        instance = settings.ensure_instance()
        hours = settings.spec_cache_hours
        store = (
            SpecStore.online(instance / "specs", base_url=settings.spec_url, max_age_hours=hours)
            if settings.fetch_specs
            else SpecStore.offline(instance / "specs", max_age_hours=hours)
        )
        vocabulary = Vocabulary.load()
        coordinator = Coordinator(
            store, timeout=settings.device_timeout, family_for_model=vocabulary.family_for_model
        )
        return cls(engine, settings, coordinator, TokenVault(instance))

    # -- household -----------------------------------------------------------------------

    def household(self, session: Session) -> Household:
        """Return the household (creating a default one on first use)."""
        household = session.exec(select(Household).order_by(col(Household.id))).first()
        if household is None:
            household = Household(name="Home")
            session.add(household)
            session.flush()
        return household

    # -- tokens --------------------------------------------------------------------------

    def token_of(self, device: Device) -> str | None:
        """Decrypt the token of *device* (None when unknown)."""
        if device.token_ciphertext is None:
            return None
        return self.vault.decrypt(device.token_ciphertext)

    def import_tokens(self, path: Path, *, name: str | None = None) -> list[dict[str, Any]]:
        """Store the tokens listed in *path* (errors call it *name*); new devices are remembered."""
        from devices.home_assistant import read_token_file

        found = read_token_file(path, name=name)
        rows: list[dict[str, Any]] = [
            {"did": None, "ip": s.ip, "model": s.model, "stored": False, "reason": s.reason}
            for s in found.skipped
        ]
        with unit_of_work(self.engine) as session:
            household = self.household(session)
            for record in found.records:
                ip = record.ip if record.did is None else None  # an id outranks an address
                device = find_device(session, household, did=record.did, mac=record.mac, ip=ip)
                if device is None:
                    if record.did is None:
                        rows.append(
                            {
                                "did": None,
                                "ip": record.ip,
                                "model": record.model,
                                "stored": False,
                                "reason": "no device id in the file and no such device known (scan first)",
                            }
                        )
                        continue
                    device = Device(
                        household_id=key(household),
                        did=record.did,
                        ip=record.ip or "",
                        mac=(record.mac or "").lower() or None,
                        model=record.model,
                        name=record.name or "",
                        status="new",
                    )
                    session.add(device)
                device.token_ciphertext = self.vault.encrypt(record.token)
                device.token_source = "import"  # noqa: S105  (where it came from, not a secret)
                if record.name and not device.name:
                    device.name = record.name
                if device.status == "auth-failed":
                    device.status, device.status_detail = "new", "token imported; scan to check it"
                rows.append(
                    {
                        "did": device.did,
                        "ip": device.ip or None,
                        "model": device.model,
                        "stored": True,
                    }
                )
        return rows

    # -- scanning ------------------------------------------------------------------------

    def scan(
        self,
        found: Iterable[Discovered],
        *,
        names: dict[int, str] | None = None,
        tokens: dict[int, str] | None = None,
        progress: Progress | None = None,
        refuse_rejected: bool = False,
    ) -> list[dict[str, Any]]:
        """Identify the *found* devices, read their capabilities and store everything.

        With *refuse_rejected*, a device that rejects its token raises TokenRejected before
        anything is stored (its stored token and status stay as they were).
        """
        found = list(found)
        names, tokens = names or {}, dict(tokens or {})
        with unit_of_work(self.engine) as session:
            household = self.household(session)
            known = {
                d.did: d
                for d in session.exec(select(Device).where(Device.household_id == household.id))
            }
            families = {d.did: d.family for d in known.values() if d.family}
            without_token: list[Discovered] = []
            for item in found:
                token = tokens.get(item.did) or item.token
                if token is None and item.did in known:
                    token = self.token_of(known[item.did])
                if token is None:
                    without_token.append(item)
                    continue
                tokens[item.did] = token
                self.coordinator.track(item.did, item.ip, token)
        scannable = [item for item in found if item.did in tokens]
        results: list[ScanResult] = []
        done = 0
        for chunk_start in range(0, len(scannable), self.coordinator.workers):
            chunk = scannable[chunk_start : chunk_start + self.coordinator.workers]
            results.extend(self.coordinator.scan([i.did for i in chunk], families))
            done += len(chunk)
            if progress:
                progress(len(chunk))
        if progress and without_token:
            progress(len(without_token))
        rejected = [r.identity for r in results if r.identity.status == "auth-failed"]
        if refuse_rejected and rejected:
            for identity in rejected:
                self.coordinator.forget(identity.did or 0)  # the next poll links the stored token
            raise TokenRejected(
                f"the device at {rejected[0].ip} rejected this token: check it and try again"
            )
        by_did = {item.did: item for item in found}
        with unit_of_work(self.engine) as session:
            household = self.household(session)
            rows = [
                store_scan(
                    session,
                    household,
                    r,
                    by_did.get(r.identity.did or 0),
                    tokens,
                    names,
                    self.vault,
                )
                for r in results
            ]
            for item in without_token:
                rows.append(store_tokenless(session, household, item, names))
        return rows

    # -- adding by hand ------------------------------------------------------------------

    def add(
        self, ip: str, token: str, *, name: str | None = None, allow_public: bool | None = None
    ) -> dict[str, Any]:
        """Add the device at *ip* with its *token* (validated), then scan it."""
        from devices.discovery import probe
        from devices.tokens import normalize_token

        token = normalize_token(token)
        allowed = self.settings.allow_public if allow_public is None else allow_public
        found = probe(ip, timeout=self.settings.discovery_timeout, allow_public=allowed)
        if found is None:
            raise InventoryError(f"no miIO device answered at {ip}")
        rows = self.scan(
            [found],
            names={found.did: name} if name else None,
            tokens={found.did: token},
            refuse_rejected=True,
        )
        return rows[0]

    # -- polling -------------------------------------------------------------------------

    def poll(
        self,
        *,
        due_only: bool = False,
        progress: Progress | None = None,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Read every known device once, store snapshots, detect and record usage."""
        from devices.vocabulary import Vocabulary

        now = now or utcnow()
        interval = timedelta(seconds=self.settings.poll_interval)
        with unit_of_work(self.engine) as session:
            household = self.household(session)
            # the few columns needed, a batch at a time: not every device's row and snapshot
            query = (
                sa_select(
                    col(Device.did),
                    col(Device.ip),
                    col(Device.token_ciphertext),
                    col(Device.status),
                    col(Device.next_poll),
                )
                .where(col(Device.household_id) == household.id)
                .order_by(col(Device.did))
                .execution_options(yield_per=POLL_BATCH)
            )
            targets: list[int] = []
            for did, ip, ciphertext, status, next_poll in session.execute(query):
                if ciphertext is None or status == "unsupported":
                    continue
                if due_only and next_poll is not None and next_poll > now:
                    continue
                self.coordinator.track(did, ip, self.vault.decrypt(ciphertext))
                targets.append(did)
        results: dict[int, PollResult] = {}
        for start in range(0, len(targets), self.coordinator.workers):
            chunk = targets[start : start + self.coordinator.workers]
            results.update(self.coordinator.poll(chunk))
            if progress:
                progress(len(chunk))
        vocabulary = Vocabulary.load()
        rows = []
        with unit_of_work(self.engine) as session:
            household = self.household(session)
            for did in targets:
                polled = find_device(session, household, did=did)
                if polled is None:  # removed while we polled
                    continue
                rows.append(store_poll(session, polled, results[did], now, interval, vocabulary))
        return rows

    # -- writing (Feature Coach's own changes) -------------------------------------------

    def _reach(self, session: Session, did: int) -> Device:
        """Find device *did* and make sure the coordinator holds a link to it."""
        device = find_device(session, self.household(session), did=did)
        if device is None:
            raise InventoryError(f"no device with id {did}")
        token = self.token_of(device)
        if token is None:
            raise TokenUnknown(f"the token of {device.display_name} is not known")
        self.coordinator.track(device.did, device.ip, token)
        return device

    def _own_change(
        self, session: Session, device: Device, capability: str, *, action: bool, value: Any = None
    ) -> DeviceCapability:
        """Return the capability row to change, after recording that the change is ours.

        Recorded first: if the change lands but we crash, the next poll still knows it was us.
        """
        cap = session.exec(
            select(DeviceCapability).where(
                DeviceCapability.device_id == device.id, DeviceCapability.capability == capability
            )
        ).first()
        if cap is None or not (cap.method or (cap.action if action else cap.setting)):
            what = "action" if action else "setting"
            raise InventoryError(f"{device.display_name} has no {what} for {capability}")
        for written in {
            k for k in (cap.method, cap.action if action else cap.setting, capability) if k
        }:
            session.add(OwnWrite(device_id=key(device), key=written, value=value))
        return cap

    def read(self, did: int) -> dict[str, Any]:
        """Read device *did* now and return its snapshot (raises InventoryError or LinkError)."""
        with unit_of_work(self.engine) as session:
            self._reach(session, did)
        return self.coordinator.read(did)

    def write_setting(
        self, did: int, capability: str, value: Any, *, method: str | None = None
    ) -> None:
        """Change a device setting on behalf of Feature Coach, remembering it was us.

        *method* is the setter the try-it contract chose, when not the stored one.
        """
        with unit_of_work(self.engine) as session:
            cap = self._own_change(
                session, self._reach(session, did), capability, action=False, value=value
            )
        self.coordinator.write(
            did, value, method=method or cap.method, descriptor=cap.setting, capability=capability
        )

    def run_action(self, did: int, capability: str, params: Any = None) -> Any:
        """Run a device action on behalf of Feature Coach, remembering it was us."""
        with unit_of_work(self.engine) as session:
            cap = self._own_change(session, self._reach(session, did), capability, action=True)
        return self.coordinator.run(did, method=cap.method, action=cap.action, params=params)

    # -- views ---------------------------------------------------------------------------

    def describe(
        self, session: Session, device: Device, caps: list[DeviceCapability] | None = None
    ) -> dict[str, Any]:
        """Return the public view of *device* (never its token); *caps* when already read."""
        return describe_device(session, device, caps)

    def devices(self) -> list[dict[str, Any]]:
        """Return the public view of every known device."""
        with unit_of_work(self.engine) as session:
            return describe_devices(session, self.household(session))

    def device_count(self) -> int:
        """Return how many devices the household has."""
        with unit_of_work(self.engine) as session:
            household = self.household(session)
            query = (
                select(func.count()).select_from(Device).where(Device.household_id == household.id)
            )
            return int(session.exec(query).one())
