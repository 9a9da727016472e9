"""`edu lessons check`: every lesson's try-it against every model it reaches, offline.

Each model python-miio knows (and each MIoT spec shipped or kept in the instance) is built
offline; for every lesson with a try-it that reaches it, the try-it contract decides whether
the button is offered, and an offered one is written to the offline object, whose sends are
recorded instead of leaving the machine, to prove the call goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from devices.offline import ModelView, contract_for, examine, no_network
from devices.specs import SpecStore
from devices.vocabulary import Vocabulary
from lessons.catalogue import Catalogue, Lesson

logger = logging.getLogger(__name__)

_GLOB_CHARS = "*?["


def models_to_check(specs: SpecStore, pattern: str | None = None) -> dict[str, tuple[type, Any]]:
    """Every concrete model python-miio supports, plus every model a spec is held for."""
    from miio import DeviceFactory
    from miio.integrations.genericmiot.genericmiot import GenericMiot

    found: dict[str, tuple[type, Any]] = {
        model: (cls, None)
        for model, cls in DeviceFactory.supported_models().items()
        if not any(ch in model for ch in _GLOB_CHARS)
    }
    for model in specs.models():
        if model not in found or found[model][0] is GenericMiot:
            result = specs.get(model)
            if result is not None:
                found[model] = (GenericMiot, result.spec)
    if pattern:
        found = {m: v for m, v in found.items() if fnmatchcase(m, pattern)}
    return dict(sorted(found.items()))


def examine_all(models: dict[str, tuple[type, Any]], vocabulary: Vocabulary) -> list[ModelView]:
    """Examine each model offline (sending refused throughout)."""
    with no_network():
        return [examine(model, cls, vocabulary, spec) for model, (cls, spec) in models.items()]


@dataclass(frozen=True)
class Row:
    """One (lesson, model) pair."""

    lesson: str
    model: str
    cls: str
    offered: bool
    ok: bool
    value: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the row as the JSON the CLI prints."""
        return {
            "lesson": self.lesson,
            "model": self.model,
            "class": self.cls,
            "offered": self.offered,
            "ok": self.ok,
            "value": self.value,
            "reason": self.reason,
        }


def reaches(lesson: Lesson, view: ModelView) -> bool:
    """Does *lesson* reach the model: its family and models fit, and the model has the feature."""
    if view.target is None or lesson.try_it is None:
        return False
    cap = lesson.try_it.setting or lesson.try_it.action
    if view.family is None and lesson.families:
        return False  # a model of no known family: only lessons worded for any device
    return lesson.applies_to(view.family, view.model) and cap in view.target.capabilities


def check_pairs(book: Catalogue, views: Iterable[ModelView], vocabulary: Vocabulary) -> list[Row]:
    """One row per (lesson with a try-it, model it reaches), offered or not, and ok or not."""
    lessons = [lesson for lesson in book.lessons("en") if lesson.try_it is not None]
    rows: list[Row] = []
    for view in views:
        if view.target is None:
            continue
        for lesson in lessons:
            if not reaches(lesson, view):
                continue
            try_it = lesson.try_it
            assert try_it is not None
            contract, failure = contract_for(
                vocabulary,
                try_it.setting,
                try_it.value,
                view.target,
                action=try_it.action,
                device=view.device,
            )
            rows.append(
                Row(
                    lesson.id,
                    view.model,
                    view.cls.__name__,
                    contract.offered,
                    not failure,
                    contract.value if contract.offered else None,
                    failure or contract.reason,
                )
            )
    return rows


def summary(rows: list[Row], views: list[ModelView]) -> dict[str, Any]:
    """Counts for the end of a check."""
    return {
        "models": len(views),
        "models_built": sum(1 for v in views if v.target is not None),
        "models_reached": len({r.model for r in rows}),
        "pairs": len(rows),
        "offered": sum(1 for r in rows if r.offered),
        "failing": sum(1 for r in rows if r.offered and not r.ok),
        "not_built": {v.model: v.error for v in views if v.target is None},
    }
