"""After a demo, bring the device back to rest from the actions it showed (a vacuum sent home).

A setting goes back from the snapshot; an action (spot cleaning, a self-clean rinse) has no
value to write back. The vocabulary says per action what undoes it (`devices.vocabulary.Undo`):
nothing (find my robot), nothing possible (the demo never shows it), or another action to run
until a read-back shows the device at rest. The actions shown wait in the device's snapshot
(``"actions"``) until a restore brings the device back, so a flagged device keeps them too.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from devices.detectors import resolve_keys
from devices.link import LinkError
from devices.vocabulary import Undo, Vocabulary
from edu.store.snapshot import Problem, Restore, Undone, Unreachable, read

if TYPE_CHECKING:
    from edu.services.inventory import Inventory

logger = logging.getLogger(__name__)


def _undo_of(capability: str) -> Undo | None:
    return Vocabulary.load().undo_of(capability)


def note(saved: dict[str, Any] | None, capability: str) -> dict[str, Any] | None:
    """Return *saved* with the action *capability* added to undo later (if it needs undoing)."""
    undo = _undo_of(capability)
    if saved is None or undo is None or undo.how != "run":
        return saved
    shown = [c for c in saved.get("actions", []) if c != capability]
    return {**saved, "actions": [*shown, capability]}  # the latest last


def cleared(saved: dict[str, Any] | None, result: Restore | None) -> dict[str, Any] | None:
    """Return *saved* without the actions *result* brought back to rest."""
    done = {u.capability for u in result.undone if u.status != "failed"} if result else set()
    if saved is None or not done & set(saved.get("actions", [])):
        return saved
    return {**saved, "actions": [c for c in saved["actions"] if c not in done]}


def plans(saved: dict[str, Any] | None) -> list[tuple[str, Undo]]:
    """Return (action shown, its undo) for *saved*, the latest shown first."""
    found = []
    for capability in reversed((saved or {}).get("actions", [])):
        undo = _undo_of(capability)
        if undo is not None and undo.how == "run":
            found.append((capability, undo))
    return found


def _shown(undo: Undo, now: dict[str, Any]) -> tuple[str, Any]:
    assert undo.at_rest is not None
    keys = [k for k in resolve_keys(undo.at_rest.keys, now) if now.get(k) is not None]
    return (keys[0], now[keys[0]]) if keys else ("", None)


def settle(inventory: Inventory, did: int, saved: dict[str, Any] | None, result: Restore) -> None:
    """Undo each action of *saved* on *did* and read the device back; add what remains to *result*.

    Runs after the settings are put back, under the same throttle turn. An undo is skipped
    when the device already reads at rest, and each undo action runs at most once.
    """
    from edu.services.inventory import InventoryError

    ran: set[tuple[str | None, str]] = set()
    for capability, undo in plans(saved):
        if result.unreachable:
            return
        assert undo.at_rest is not None and undo.run is not None
        try:
            now = read(inventory, did)
            if undo.at_rest(now):
                result.undone.append(Undone(capability, undo.run, "already", _shown(undo, now)[1]))
                continue
            error = ""
            if (undo.run, repr(undo.params)) not in ran:
                ran.add((undo.run, repr(undo.params)))
                try:
                    inventory.run_action(did, undo.run, undo.params)
                except LinkError as exc:
                    if exc.status in ("offline", "auth-failed"):
                        result.unreachable = exc.status
                        return
                    error = "error"
                except (InventoryError, KeyError, TimeoutError, OSError):
                    error = "error"
                now = read(inventory, did)
        except Unreachable as exc:
            result.unreachable = exc.status
            return
        key, shown = _shown(undo, now)
        if undo.at_rest(now):
            result.undone.append(Undone(capability, undo.run, "done", shown))
            continue
        logger.warning("device %s: %s not undone by %s", did, capability, undo.run)
        result.undone.append(Undone(capability, undo.run, "failed", shown))
        result.problems.append(
            Problem(capability, key, None, shown, error or "not-at-rest", undo=undo.run)
        )
