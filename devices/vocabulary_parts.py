"""Read the vocabulary file together with its per-family parts (``vocabulary/<family>.yaml``).

The main file holds the first families; each part beside it, in a folder named like the
file, adds families, model patterns, MIoT device types and capabilities, never changes what
came before. ``devices.vocabulary`` validates the merged whole exactly as one file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

PART_KEYS = ("families", "models", "device_types", "capabilities")
#: The merged data's map of capability id -> the part file that declared it.
ORIGINS = "_origins"


class PartError(ValueError):
    """A vocabulary part that cannot be merged; the message names the file."""


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as ex:
        raise PartError(f"{path.name}: cannot read: {ex.strerror}") from None
    except yaml.YAMLError as ex:
        mark = getattr(ex, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(ex, "problem", None) or "syntax error"
        raise PartError(f"{path.name}: not valid YAML{where}: {problem}") from None


def parts_folder(path: Path) -> Path:
    """The folder of parts that belongs to the vocabulary file *path*."""
    return path.with_suffix("")


def merge_parts(data: Any, folder: Path) -> Any:
    """Return *data* (a parsed main file) with every part in *folder* appended, in name order."""
    if not isinstance(data, dict) or not folder.is_dir():
        return data
    merged = dict(data)
    for path in sorted(folder.glob("*.yaml")):
        part = _load(path)
        if not isinstance(part, dict) or set(part) - set(PART_KEYS):
            raise PartError(f"{path.name}: a vocabulary part holds only {', '.join(PART_KEYS)}")
        known = list(merged.get("families") or [])
        new = list(part.get("families") or [])
        if not all(isinstance(f, str) for f in new) or set(new) & set(known):
            raise PartError(f"{path.name}: 'families' must name new families only")
        types = part.get("device_types") or {}
        if not isinstance(types, dict) or set(types) & set(merged.get("device_types") or {}):
            raise PartError(f"{path.name}: 'device_types' must map new device types only")
        merged["families"] = known + new
        merged["models"] = [*(merged.get("models") or []), *(part.get("models") or [])]
        merged["device_types"] = {**(merged.get("device_types") or {}), **types}
        entries = part.get("capabilities") or []
        merged["capabilities"] = [*(merged.get("capabilities") or []), *entries]
        # which file each entry came from, so an error names the part, not the main file
        merged[ORIGINS] = {
            **merged.get(ORIGINS, {}),
            **{e["id"]: path.name for e in entries if isinstance(e, dict) and "id" in e},
        }
        logger.debug("merged vocabulary part %s", path.name)
    return merged


def read_vocabulary_data(path: Path) -> Any:
    """Read the vocabulary file at *path* with its parts merged in."""
    return merge_parts(_load(path), parts_folder(path))
