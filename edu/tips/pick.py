"""Choose each person's next tip fast: `edu.services.recommend`'s ranking, batched over many households.

`recommend()` builds and ranks every candidate lesson of a person (close to a millisecond
each with a few devices); a tip run for 100,000 people needs only the best candidate that
may be sent. So this module reads many households in a handful of queries
(`edu.state.read_states`), computes the ranking key alone per candidate,
sharing per household what its people have in common, and builds the `Recommendation`
through `edu.services.recommend.rank` for the winner only. The result equals taking `recommend()`
in order and keeping the first item the tip filters allow; `tests/edu/tips/test_tips_pick.py`
holds the two side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edu.community.data import Table, published, share_of
from edu.services.recommend import Recommendation, candidates, hidden, rank, rank_key
from edu.state import DeviceRow, HouseholdState, PersonRow

if TYPE_CHECKING:
    from lessons.catalogue import Catalogue, Lesson

Allowed = Callable[[DeviceRow, str], bool]


@dataclass(frozen=True)
class _Entry:
    """A candidate lesson for a device, with the parts of its ranking key no person changes."""

    device: DeviceRow
    lesson: Lesson
    prerequisites: tuple[Lesson, ...]
    in_use_keys: frozenset[tuple[str | None, str]]  # (family, capability) pairs that exclude it
    level: int
    tail: tuple[Any, ...]


@dataclass
class Picker:
    """Rank one household's lessons per person, sharing what the people have in common."""

    state: HouseholdState
    book: Catalogue
    now: datetime
    adoption: Table = field(default_factory=dict)  # the hub's published table
    _knowers: dict[str, frozenset[int]] = field(default_factory=dict)
    _lists: dict[frozenset[int], list[_Entry]] = field(default_factory=dict)

    def _knows(self, pid: int, lesson: Lesson) -> bool:
        mark = self.state.mark(pid, lesson.id)
        return (mark is not None and mark.state == "done") or self.state.uses(
            pid, lesson.capability, lesson.families
        )

    def _who_knows(self, lesson: Lesson) -> frozenset[int]:
        found = self._knowers.get(lesson.id)
        if found is None:
            found = frozenset(p.id for p in self.state.people if self._knows(p.id, lesson))
            self._knowers[lesson.id] = found
        return found

    def _entries(self, pid: int) -> list[_Entry]:
        # The candidates depend on the person's devices only: people who use the same
        # devices (everyone, usually) share one list and its person-independent key parts.
        devices = frozenset(self.state.devices_of.get(pid, ()))
        found = self._lists.get(devices)
        if found is None:
            found = []
            for candidate in candidates(self.state, pid, self.book):
                lesson, device = candidate.lesson, candidate.device
                prerequisites = tuple(p for p in (self.book.get(r) for r in lesson.requires) if p)
                owners = published(self.adoption, device.model, lesson.capability)
                tail = (
                    -share_of(owners),
                    -device.first_seen.timestamp(),
                    1 if lesson.automatic else 0,
                    lesson.id,
                    device.did,
                )
                found.append(
                    _Entry(
                        device,
                        lesson,
                        prerequisites,
                        frozenset(
                            (f, lesson.capability)
                            for f in lesson.families or (device.family or "",)
                        ),
                        lesson.level_rank,
                        tail,
                    )
                )
            self._lists[devices] = found
        return found

    def key(self, pid: int, device: DeviceRow, lesson: Lesson) -> tuple[Any, ...]:
        """Return the ranking key `edu.services.recommend.rank` gives this candidate for this person."""
        prerequisites = [p for p in (self.book.get(r) for r in lesson.requires) if p]
        unmet = any(not self._knows(pid, p) for p in prerequisites)
        knowers = self._who_knows(lesson)
        community = len(knowers) - (1 if pid in knowers else 0)
        owners = published(self.adoption, device.model, lesson.capability)
        return rank_key(unmet, community, device, lesson, share_of(owners))

    def ranked(self, pid: int) -> Iterator[tuple[tuple[Any, ...], DeviceRow, Lesson]]:
        """Yield the person's candidates and their keys (unsorted), filtered as `recommend` does."""
        state, now = self.state, self.now
        marks = state.progress.get(pid, {})
        # What `state.uses(pid, capability, families)` reads, as a set to test pairs against.
        used: frozenset[tuple[str | None, str]] | set[tuple[str | None, str]]
        used = state.used_in_family.get(pid) or frozenset()
        for entry in self._entries(pid):
            lesson = entry.lesson
            if marks and hidden(marks.get(lesson.id), now):
                continue
            if not used.isdisjoint(entry.in_use_keys):
                continue
            unmet = any(pid not in self._who_knows(p) for p in entry.prerequisites)
            knowers = self._knowers.get(lesson.id) or self._who_knows(lesson)
            community = len(knowers) - (1 if pid in knowers else 0)
            yield (1 if unmet else 0, entry.level, -community, *entry.tail), entry.device, lesson

    def pick(self, person: PersonRow, allowed: Allowed) -> Recommendation | None:
        """Return the best recommendation for *person* that *allowed(device, lesson id)* accepts."""
        best: tuple[tuple[Any, ...], DeviceRow, Lesson] | None = None
        for item in self.ranked(person.id):
            if (best is None or item[0] < best[0]) and allowed(item[1], item[2].id):
                best = item
        if best is None:
            return None
        others = [p.id for p in self.state.people if p.id != person.id]
        _, recommendation = rank(
            self.state,
            person.id,
            person.language,
            others,
            best[1],
            best[2],
            self.book,
            self.now,
            self.adoption,
        )
        return recommendation
