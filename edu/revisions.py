"""Household revisions: every change a page or a recommendation shows bumps one, in any process.

Every flush that touches people, devices, capabilities, usage, lesson progress or a wrong PIN
bumps the household's ``revision`` (an ORM event, so no service can forget it); a change to a
device's capabilities (a scan, an identify), or a device added or removed, also bumps
``features_revision``, which guards the biggest and slowest-changing part of the state.
Readers compare a revision with one small query and reuse what they made before while it
holds (edu.state, edu.web.fragments).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from edu.community.data import CommunityLink
from edu.models import (
    Device,
    DeviceCapability,
    FeatureUse,
    Household,
    LessonProgress,
    LoginAttempt,
    Person,
    PersonDevice,
)

_TRACKED = (
    Device,
    DeviceCapability,
    FeatureUse,
    LessonProgress,
    Person,
    PersonDevice,
    Household,
    LoginAttempt,  # a wrong PIN shows on the admin's home page
    CommunityLink,  # joining or leaving a hub shows on lesson pages
)


def _household_ids(session: Session, rows: list[Any]) -> set[int]:
    ids: set[int] = set()
    for row in rows:
        if isinstance(row, Household):
            continue  # its own changes (the revision itself) need no bump
        if isinstance(row, LoginAttempt) and row.ok:
            continue  # a right PIN shows nowhere
        household_id = getattr(row, "household_id", None)
        if household_id is None and isinstance(row, DeviceCapability):
            device = session.get(Device, row.device_id)
            household_id = device.household_id if device else None
        if household_id is None and isinstance(row, (LessonProgress, PersonDevice, LoginAttempt)):
            person = session.get(Person, row.person_id)
            household_id = person.household_id if person else None
        if household_id is not None:
            ids.add(household_id)
    return ids


def _bump_revisions(session: Session, _context: Any) -> None:
    changed = [
        o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, _TRACKED)
    ]
    if not changed:
        return
    ids = _household_ids(session, changed)
    if not ids:
        return
    # this transaction now holds uncommitted changes: don't cache what it reads
    session.info["edu_uncommitted"] = True
    # a device's capabilities changed, or a device came or went (its rows go by cascade in
    # the database, unseen here, and SQLite may give its id to the next one)
    came_or_went = [o for o in (*session.new, *session.deleted) if isinstance(o, Device)]
    features = _household_ids(
        session, [o for o in changed if isinstance(o, DeviceCapability)] + came_or_went
    )
    for bumped, values in (
        (ids - features, {"revision": Household.revision + 1}),
        (
            features,
            {
                "revision": Household.revision + 1,
                "features_revision": Household.features_revision + 1,
            },
        ),
    ):
        if bumped:
            session.connection().execute(
                update(Household).where(col(Household.id).in_(bumped)).values(**values)
            )


def _transaction_over(session: Session, *_args: Any) -> None:
    session.info.pop("edu_uncommitted", None)


_installed = threading.Lock()
_INSTALLED: list[bool] = []


def track_revisions() -> None:
    """Install the flush hook that bumps household revisions (idempotent)."""
    with _installed:
        if not _INSTALLED:
            event.listen(Session, "after_flush", _bump_revisions)
            event.listen(Session, "after_commit", _transaction_over)
            event.listen(Session, "after_rollback", _transaction_over)
            _INSTALLED.append(True)


def revisions_of(session: Session, household_id: int) -> tuple[int, int]:
    """Return the household's (revision, features_revision), read now (one small query)."""
    found = session.execute(
        sa_select(col(Household.revision), col(Household.features_revision)).where(
            col(Household.id) == household_id
        )
    ).first()
    if found is None:
        raise LookupError(f"no household {household_id}")
    return int(found[0]), int(found[1])


def revision_of(session: Session, household_id: int) -> int:
    """Return the household's revision, read now (one small query)."""
    return revisions_of(session, household_id)[0]


def bump_all(session: Session) -> None:
    """Bump every household's revision: for changes the flush hook cannot see (bulk
    statements) to tables every household's pages read (the community hub's table)."""
    session.info["edu_uncommitted"] = True
    session.execute(update(Household).values(revision=Household.revision + 1))
