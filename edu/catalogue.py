"""The lesson catalogue and the vocabulary as the application sees them (loaded once)."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lessons.catalogue import Catalogue


def vocabulary_path() -> Path:
    """Return the path of the capability vocabulary shipped with `devices`."""
    import devices

    return Path(devices.__file__).resolve().parent / "data" / "vocabulary.yaml"


_books: dict[str | None, Catalogue] = {}  # by root; None: the shipped lessons
_loads: list[int] = [0]  # how many catalogues this process has loaded
_loading = threading.Lock()


def catalogue(root: str | None = None) -> Catalogue:
    """Return the lesson catalogue (the shipped one by default), loaded once per process, on
    first use: a server whose household has no device yet never needs it. Pages asking at
    once wait for the one load."""
    found = _books.get(root)
    if found is None:
        with _loading:
            found = _books.get(root)
            if found is None:
                from lessons.catalogue import Catalogue

                found = _books[root] = Catalogue.load(root)
                _loads[0] += 1
    return found


def generation() -> int:
    """How many catalogues this process has loaded (0 before the first): what a kept page part
    keys on, so that a part drawn from another catalogue is drawn again, without loading one."""
    return _loads[0]


@lru_cache(maxsize=1)
def lint_vocabulary() -> dict[str, dict[str, Any]]:
    """Return the vocabulary in the plain shape `lessons.lint` takes."""
    from lessons.vocabulary import load_vocabulary

    return load_vocabulary(vocabulary_path())


@lru_cache(maxsize=1)
def capability_titles() -> dict[str, str]:
    """Return capability id -> English title, from the vocabulary."""
    return {cap: str(entry.get("title") or cap) for cap, entry in lint_vocabulary().items()}
