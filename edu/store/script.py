"""The guided demo script of a device, and the features a kiosk shows, from its lessons.

Order, most impressive first: lessons with a ``demo.rank`` in their front matter (1 first),
then the others by what a customer sees (a mode or an action before a quiet setting), then
easy before hard, then the vocabulary's own order. Deterministic for the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from devices.vocabulary import Vocabulary
from edu.catalogue import capability_titles, catalogue
from edu.models import Device, DeviceCapability
from edu.services.recommend import lessons_for

if TYPE_CHECKING:
    from lessons.catalogue import Catalogue, Lesson

# What a customer notices first: a new mode or something moving, then a setting.
SHOWN_FIRST = {"mode": 0, "action": 1, "setting": 2, "sensor": 3}


@dataclass(frozen=True)
class Step:
    """One feature of a device, as staff show it or a customer reads about it."""

    lesson: str
    capability: str
    feature: str  # the capability's title
    title: str
    summary: str
    points: tuple[str, ...]
    rank: int | None
    can_show: bool  # the lesson has a try_it this device can run and the demo can undo
    action: bool
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "capability": self.capability,
            "feature": self.feature,
            "title": self.title,
            "summary": self.summary,
            "points": list(self.points),
            "rank": self.rank,
            "can_show": self.can_show,
        }


def _undoable(capability: str, caps: dict[str, DeviceCapability], vocabulary: Vocabulary) -> bool:
    """Tell whether the demo can bring the device back to rest after the action."""
    undo = vocabulary.undo_of(capability)
    if undo is None or undo.how == "irreversible":
        return False
    run = caps.get(undo.run) if undo.run else None
    return undo.how == "none" or (run is not None and bool(run.action or run.method))


def _runnable(
    lesson: Lesson,
    cap: DeviceCapability,
    restorable: set[str] | None,
    caps: dict[str, DeviceCapability],
    vocabulary: Vocabulary,
    device: Device,
) -> bool:
    from devices.specs import SpecStore
    from edu.services.trylive import NO_CLASS, contract_for_device

    try_it = lesson.try_it
    if try_it is None or (try_it.setting or try_it.action) != lesson.capability:
        return False
    # the try-it contract `edu lessons check` proves (shipped specs: the demo's models)
    contract = contract_for_device(
        SpecStore.offline(), device.model, caps.values(), device.last_snapshot, lesson
    )
    if not contract.offered and contract.reason != NO_CLASS:
        return False
    if try_it.action:
        return bool(cap.action or cap.method) and _undoable(lesson.capability, caps, vocabulary)
    if not (cap.setting or cap.method):
        return False
    return restorable is None or lesson.capability in restorable


def _order(lesson: Lesson, vocabulary: Vocabulary, positions: dict[str, int]) -> tuple[Any, ...]:
    kind = vocabulary[lesson.capability].kind if lesson.capability in vocabulary else "setting"
    if lesson.try_it is not None and lesson.try_it.action:
        kind = "action"
    demo = lesson.demo
    return (
        0 if demo else 1,
        demo.rank if demo else 0,
        SHOWN_FIRST.get(kind, len(SHOWN_FIRST)),
        lesson.level_rank,
        positions.get(lesson.capability, len(positions)),
        lesson.id,
    )


def features(
    session: Session,
    device: Device,
    *,
    lang: str = "en",
    restorable: set[str] | None = None,
    book: Catalogue | None = None,
) -> list[Step]:
    """Return every curated feature lesson of *device*, most impressive first.

    *restorable* names the capabilities the device's snapshot can put back; None when no
    snapshot is known yet (then every setting with a writer counts as showable). An action
    counts as showable when the vocabulary says how to undo it and the device can run that.
    """
    book = book or catalogue()
    vocabulary = Vocabulary.load()
    positions = {cap.id: index for index, cap in enumerate(vocabulary)}
    titles = capability_titles()
    caps = session.exec(
        select(DeviceCapability).where(
            DeviceCapability.device_id == device.id,
            DeviceCapability.mapped == True,  # noqa: E712
        )
    ).all()
    by_id = {cap.capability: cap for cap in caps}
    found: list[tuple[Lesson, DeviceCapability]] = []
    seen: set[str] = set()
    for cap in caps:
        for lesson in lessons_for(cap, device, book):
            if lesson.automatic or lesson.id in seen:
                continue
            seen.add(lesson.id)
            found.append((lesson, cap))
    found.sort(key=lambda pair: _order(pair[0], vocabulary, positions))
    steps = []
    for lesson, cap in found:
        shown = book.get(lesson.id, lang) or lesson
        demo = shown.demo or lesson.demo
        try_it = lesson.try_it
        steps.append(
            Step(
                lesson=lesson.id,
                capability=lesson.capability,
                feature=titles.get(lesson.capability, lesson.capability),
                title=shown.title,
                summary=shown.summary,
                points=demo.points if demo and demo.points else (),
                rank=lesson.demo.rank if lesson.demo else None,
                can_show=_runnable(lesson, cap, restorable, by_id, vocabulary, device),
                action=bool(try_it and try_it.action),
                value=try_it.value if try_it else None,
            )
        )
    return steps


def script(
    session: Session,
    device: Device,
    *,
    lang: str = "en",
    restorable: set[str] | None = None,
    book: Catalogue | None = None,
) -> list[Step]:
    """Return the guided demo of *device*: the features staff can show on it, in order."""
    return [
        step
        for step in features(session, device, lang=lang, restorable=restorable, book=book)
        if step.can_show
    ]
