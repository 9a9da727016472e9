"""Usage detection: which of a device's capabilities its state (or a change in it) shows in use."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devices.detectors import Snapshot, resolve_keys
from devices.vocabulary import Vocabulary

__all__ = ["Detection", "detect"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Detection:
    """A capability seen in use: by a detect rule ("state") or a setting change ("change")."""

    capability: str
    how: str


def detect(
    snapshot: Snapshot,
    previous: Snapshot | None,
    *,
    capabilities: Iterable[str],
    settings: Mapping[str, str] | None = None,
    own_writes: Iterable[str] = (),
    vocabulary: Vocabulary,
) -> list[Detection]:
    """Return the device's capabilities in use, sorted and deduplicated.

    *settings* maps capability ids to the descriptor id that writes them (the extract()
    report); *own_writes* lists what Feature Coach wrote since *previous* (capability ids,
    descriptor ids, snapshot keys or setter names), whose changes are not a person's use.
    """
    settings = settings or {}
    ours = set(own_writes)
    found: set[Detection] = set()
    for cap_id in sorted(set(capabilities)):
        if cap_id not in vocabulary:
            logger.debug("Ignoring unknown capability %s", cap_id)
            continue
        cap = vocabulary[cap_id]
        if cap.detect is not None and cap.detect(snapshot):
            found.add(Detection(cap_id, "state"))
        if previous is None or not cap.detect_changes:
            continue
        patterns = [settings[cap_id], *cap.change_keys] if cap_id in settings else cap.change_keys
        changed = [
            key
            for key in resolve_keys(patterns, snapshot, previous)
            if snapshot.get(key) is not None
            and previous.get(key) is not None
            and snapshot[key] != previous[key]
        ]
        written = {cap_id, settings.get(cap_id), *changed, *cap.setting_methods}
        if changed and not ours & written:
            found.add(Detection(cap_id, "change"))
    return sorted(found)
